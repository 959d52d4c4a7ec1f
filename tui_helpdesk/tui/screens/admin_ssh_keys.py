"""The admin screen's SSH keys section: the public keys agents log in with (`helpdesk serve --ssh`).

`n` lists a key for an agent (paste the one line of their id_ed25519.pub), `d` removes the selected one.
It is personal too: on their own settings screen (F4) an agent sees and changes only their own keys, which
is services/ssh_access.py's rule, not this screen's.
"""

from __future__ import annotations

from typing import Any

from tui_helpdesk.services import ssh_access
from tui_helpdesk.services.context import Tx
from tui_helpdesk.untrusted import clean_line

from .admin import Column, Section, _agents, register_section
from .admin_forms import FormField, Options


def _when(value: Any, empty: str = "-") -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else empty


class SshKeySection(Section):
    title = "SSH keys"
    noun = "SSH key"
    can_edit = False
    can_archive = False
    hint = "n add a public key, d remove; ssh -p PORT USERNAME@host logs in with it"
    personal = True
    columns = (
        Column("Owner", lambda r: r.owner),
        Column("Fingerprint", lambda r: r.fingerprint),
        Column("Type", lambda r: r.algorithm),
        Column("Comment", lambda r: clean_line(r.comment) or "-"),
        Column("Last used", lambda r: _when(r.last_used_at, "never")),
    )
    fields = (
        FormField("username", "Agent", "select", required=True, options_key="agents", blank=""),
        FormField("key", "Public key (one line: ssh-ed25519 AAAA... comment)", required=True),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return ssh_access.list_keys(tx)

    def options(self, tx: Tx) -> dict[str, Options]:
        if not tx.actor.is_admin:  # the only agent a plain agent may list a key for
            return {"agents": [(tx.actor.username, tx.actor.agent_id)]}
        return {"agents": _agents(tx)}

    def label(self, row: Any) -> str:
        return f"{row.fingerprint} ({row.owner})"

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        return ssh_access.add_key(tx, values.get("username") or "", values.get("key") or "")

    def delete(self, tx: Tx, key: Any) -> None:
        ssh_access.remove_key(tx, key)


def register() -> None:
    register_section("SSH keys", SshKeySection, after="API keys")
