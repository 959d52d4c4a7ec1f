"""The admin screen's audit log section: who did what to which object, when, with each change's before and
after (services/audit.py; admins only).

`/` filters with words: `who:sam`, `action:ticket.*`, `object:TCK-1042` (or `ticket:42`), `since:7d`,
`until:2026-03-01`; a bare word is an action or action prefix. `v` (or enter) shows the row's before
and after, `E` exports what the filter shows as CSV (every matching row, not only the page shown).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tui_helpdesk.services import audit, door
from tui_helpdesk.services.context import Tx
from tui_helpdesk.services.errors import ValidationError

from .admin import Column, Section, register_section

SHOWN = 500  # rows listed; the export and the CLI read every matching row
_KEYS = ("who", "action", "object", "since", "until")


def parse_filter(search: str) -> audit.AuditFilter:
    values: dict[str, str] = {}
    for word in (search or "").split():
        key, sep, value = word.partition(":")
        if sep and key in _KEYS and value:
            values[key] = value
        elif sep and key not in _KEYS and value.isdigit():
            values["object"] = word  # ticket:42, kb_article:3
        elif "action" not in values:
            values["action"] = word if word.endswith(("*", ".")) or "." in word else word + "."
        else:
            raise ValidationError("filter", f"{word!r}: use who:, action:, object:, since: or until:")
    return audit.AuditFilter(
        who=values.get("who", ""), action=values.get("action", ""), object=values.get("object", ""),
        since=audit.parse_when(values.get("since", ""), "since"),
        until=audit.parse_when(values.get("until", ""), "until", end=True),
    )


def _short(value: Any, width: int = 36) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _summary(row: audit.AuditRow) -> str:
    if not row.changes:
        return _short(row.data or "", 48) if row.data else ""
    c = row.changes[0]
    more = f" (+{len(row.changes) - 1})" if len(row.changes) > 1 else ""
    if c.before is None:  # made: only what it became
        return f"{c.field} = {_short(c.after, 40)}{more}"
    if c.after is None:  # removed: only what it was
        return f"{c.field} was {_short(c.before, 40)}{more}"
    return f"{c.field}: {_short(c.before, 24)} → {_short(c.after, 24)}{more}"


class AuditSection(Section):
    title = "Audit log"
    noun = "entry"
    can_create = False
    can_edit = False
    can_delete = False
    can_archive = False
    filter_in_database = True
    view_action = "before/after"
    hint = "/ who:sam action:ticket.* object:TCK-1 since:7d · v before/after · E export CSV"
    columns = (
        Column("When", lambda r: r.at.strftime("%Y-%m-%d %H:%M")),
        Column("Who", lambda r: r.actor),
        Column("Action", lambda r: r.action),
        Column("Change", _summary),  # before Object: at 80 columns the change is what shows
        Column("Object", lambda r: r.object),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return list(audit.list_entries(tx, parse_filter(search), limit=SHOWN).rows)

    def view(self, tx: Tx, key: Any) -> tuple[str, list[str]]:
        page = audit.list_entries(tx, audit.AuditFilter(), before_id=key + 1, limit=1)
        if not page.rows or page.rows[0].id != key:
            return "Audit entry", ["(gone)"]
        r = page.rows[0]
        lines = [f"#{r.id}  {r.at:%Y-%m-%d %H:%M:%S}  {r.actor} ({r.origin or '-'})", f"{r.action} on {r.object}", ""]
        for c in r.changes:
            lines += [f"{c.field}:", f"  before: {_short(c.before, 400)}", f"  after:  {_short(c.after, 400)}"]
        if not r.changes:
            lines += [f"{k}: {_short(v, 400)}" for k, v in r.data.items()]
        return f"Audit entry #{r.id}", lines

    def export(self, engine: Any, actor: Any, search: str, path: str) -> str:
        """Runs in a thread worker: every row the filter matches, as CSV at `path`."""
        target = Path(path).expanduser()
        if target.is_dir():
            target = target / "audit.csv"
        if target.exists():
            raise ValidationError("path", f"{target} already exists")
        f = parse_filter(search)
        count = 0

        def write(tx: Tx) -> None:
            nonlocal count
            with target.open("x", encoding="utf-8", newline="") as out:
                for chunk in audit.csv_lines(tx, f):
                    out.write(chunk)
                    count += 1

        try:
            door.read(engine, actor, write)
        except OSError as exc:
            raise ValidationError("path", f"cannot write {target}: {exc}") from exc
        return f"Exported {max(count - 1, 0)} audit entries to {target}"


def register() -> None:
    register_section("Audit log", AuditSection, after="Settings")
