"""An agent's own preferences, kept in the settings table under the agent's id (no schema of its own).

`bell`: ring the terminal bell when new work arrives (issue 12 item 10). Off by default: over SSH in
a shared office a bell on every new ticket is noise until the agent asks for it.
"""

from __future__ import annotations

from tui_helpdesk.models import Setting

from .context import Tx, audit
from .errors import PermissionDenied, ValidationError

DEFAULTS: dict[str, bool] = {"bell": False}


def _key(tx: Tx, name: str) -> str:
    if name not in DEFAULTS:
        raise ValidationError(name, f"unknown preference (known: {', '.join(DEFAULTS)})")
    if tx.actor.agent_id is None:
        raise PermissionDenied("preferences belong to an agent")
    return f"agent:{tx.actor.agent_id}:{name}"


def get(tx: Tx, name: str) -> bool:
    if tx.actor.agent_id is None:
        return DEFAULTS.get(name, False)
    row = tx.session.get(Setting, _key(tx, name))
    return DEFAULTS[name] if row is None or row.value is None else bool(row.value)


def put(tx: Tx, name: str, value: bool) -> bool:
    key = _key(tx, name)
    row = tx.session.get(Setting, key)
    if row is None:
        tx.session.add(Setting(key=key, value=bool(value)))
    else:
        row.value = bool(value)
        tx.session.add(row)
    audit(tx, "agent.preference", "agent", tx.actor.agent_id, name=name, value=bool(value))
    return bool(value)
