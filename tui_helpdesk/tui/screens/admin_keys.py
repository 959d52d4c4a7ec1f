"""The admin screen's API keys section: every agent's keys for the HTTP API (`helpdesk serve`).

`n` makes a key for an agent and shows it once, in a dialog to copy it from; `d` revokes the selected key.
Who may make or revoke whose key is services/api_keys.py's rule (an admin: anyone's).
"""

from __future__ import annotations

from typing import Any

from tui_helpdesk.services import api_keys
from tui_helpdesk.services.context import Tx
from tui_helpdesk.untrusted import clean_line

from .admin import Column, Section, _agents, register_section
from .admin_forms import FormField, Options


def _when(value: Any, empty: str = "-") -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else empty


class ApiKeySection(Section):
    title = "API keys"
    noun = "API key"
    can_edit = False
    can_archive = False
    hint = "n new key (shown once), d revoke; requests with a key act as its agent"
    personal = True  # an agent's own settings list and make their own keys (api_keys decides whose)
    columns = (
        Column("Name", lambda r: clean_line(r.name) or "-"),
        Column("Owner", lambda r: r.owner),
        Column("Prefix", lambda r: r.prefix),
        Column("Created", lambda r: _when(r.created_at)),
        Column("Last used", lambda r: _when(r.last_used_at, "never")),
        Column("Expires", lambda r: _when(r.expires_at)),
    )
    fields = (
        FormField("username", "Agent", "select", required=True, options_key="agents", blank=""),
        FormField("name", "Name (what it is for)"),
        FormField("expires", "Expires (YYYY-MM-DD, empty: never)"),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return api_keys.list_keys(tx)

    def options(self, tx: Tx) -> dict[str, Options]:
        if not tx.actor.is_admin:  # the only agent a plain agent may make a key for
            return {"agents": [(tx.actor.username, tx.actor.agent_id)]}
        return {"agents": _agents(tx)}

    def key(self, row: Any) -> Any:
        return row.row.id if isinstance(row, api_keys.NewKey) else row.id

    def label(self, row: Any) -> str:
        row = row.row if isinstance(row, api_keys.NewKey) else row
        return f"{row.name or row.prefix} ({row.owner})"

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        return api_keys.create(tx, values.get("username") or "", name=values.get("name") or "",
                               expires=values.get("expires") or None)

    def delete(self, tx: Tx, key: Any) -> None:
        api_keys.revoke(tx, key)

    def shown_once(self, created: Any) -> tuple[str, list[str]] | None:
        if not isinstance(created, api_keys.NewKey):
            return None
        return (
            f"API key for {created.row.owner}",
            [created.key, "", "It is shown only now: store it where the integration reads it.",
             "Requests send it as: Authorization: Bearer KEY"],
        )


def register() -> None:
    register_section("API keys", ApiKeySection)
