"""`helpdesk audit list`: the audit log by who, object, action and time, with each change's before and after
(services/audit.py; admins only)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from tui_helpdesk.cli import EXIT_OK, CommandContext
from tui_helpdesk.cli.output import aligned, fmt_time, scalar


def _filter(args: argparse.Namespace) -> Any:
    from tui_helpdesk.services import audit

    return audit.AuditFilter(
        who=args.who or "", object=args.object or "", action=args.action or "",
        since=audit.parse_when(args.since or "", "since"),
        until=audit.parse_when(args.until or "", "until", end=True),
    )


def _short(value: Any, width: int = 40) -> str:
    text = scalar(value) if not isinstance(value, dict | list) else json.dumps(value, ensure_ascii=False)
    text = " ".join(scalar(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def cmd_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import audit
    from tui_helpdesk.services.door import read

    f = _filter(args)
    if args.format == "csv":
        def export(tx: Any) -> None:
            for chunk in audit.csv_lines(tx, f):
                ctx.out.write(chunk)

        read(ctx.engine, ctx.actor, export)
        return EXIT_OK
    page = read(ctx.engine, ctx.actor, audit.list_entries, f, before_id=args.before, limit=args.limit)
    if ctx.json or args.format == "json":
        ctx.json = True
        ctx.emit({"entries": page.rows, "next_before": page.next_before})
        return EXIT_OK
    table = [["ID", "AT", "WHO", "ACTION", "OBJECT", "BEFORE", "AFTER"]]
    for r in page.rows:
        changes = r.changes or (audit.Change("", None, r.data or None),)
        for k, c in enumerate(changes):
            head = [str(r.id), fmt_time(r.at), scalar(r.actor), r.action, r.object] if k == 0 else [""] * 5
            label = f"{c.field}: " if c.field else ""
            table.append([*head, label + _short(c.before), _short(c.after)])
    lines = aligned(table) if page.rows else ["no audit entries match"]
    if page.next_before is not None:
        lines.append(f"(more: --before {page.next_before})")
    ctx.emit({}, lines)
    return EXIT_OK


def register(sub: Any) -> None:
    p_audit = sub.add_parser("audit", help="the audit log: who did what to which object, when (admins)")
    a = p_audit.add_subparsers(dest="cmd", metavar="ACTION", required=True)
    p = a.add_parser("list", help="entries newest first, with each change's before and after")
    p.add_argument("--who", metavar="LOGIN", help="an agent's login (or worker, system)")
    p.add_argument("--object", metavar="OBJECT", help="TYPE, TYPE:ID or a ticket number (ticket:42, TCK-1042)")
    p.add_argument("--action", metavar="ACTION", help="an action (ticket.status) or a prefix (ticket.*, kb.)")
    p.add_argument("--since", metavar="WHEN", help="a date, an ISO time, today, or 7d/12h/30m ago")
    p.add_argument("--until", metavar="WHEN", help="before this time (a date: through that day)")
    p.add_argument("--limit", type=int, default=100, help="rows on the page (default 100, at most 1000)")
    p.add_argument("--before", type=int, metavar="ID", help="older than this entry id (the next page)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table",
                   help="csv: every matching entry, one line per change")
    p.set_defaults(func=cmd_list)
