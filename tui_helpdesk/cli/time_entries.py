"""`helpdesk time list|add|edit`: time worked on tickets (services/time_entries.py holds every rule).

    helpdesk time list [--ticket REF] [--agent USER] [--org NAME] [--from DATE] [--to DATE]
                       [--billable | --no-billable] [--invoiced | --uninvoiced]
    helpdesk time add REF MINUTES [--date DATE] [--note TEXT] [--no-billable] [--if-version N]
    helpdesk time edit ID [--minutes N] [--date DATE] [--note TEXT] [--billable yes|no] [--if-version N]

`edit` corrects an entry: its author may, and an admin; an invoiced entry is locked (exit 5).
"""

from __future__ import annotations

import argparse
from typing import Any

from tui_helpdesk.cli import EXIT_OK, CommandContext
from tui_helpdesk.cli.output import aligned, scalar


def _lines(rows: list[Any]) -> list[str]:
    if not rows:
        return ["(no time entries)"]
    table = [["ID", "DATE", "TICKET", "AGENT", "MIN", "BILL", "INVOICE", "NOTE"]]
    for r in rows:
        table.append([str(r.id), r.work_date.isoformat(), r.number, scalar(r.agent), str(r.minutes),
                      "yes" if r.billable else "no", r.invoice or "-", scalar(r.note)[:40]])
    total = sum(r.minutes for r in rows)
    return [*aligned(table), f"{len(rows)} entries, {total} min"]


def cmd_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import door, time_entries

    rows = door.read(
        ctx.engine, ctx.actor, time_entries.search, ticket=args.ticket, agent=args.agent,
        organization=args.org, date_from=args.date_from, date_to=args.date_to, billable=args.billable,
        invoiced=args.invoiced, limit=args.limit,
    )
    ctx.emit([r.model_dump() for r in rows], _lines(rows))
    return EXIT_OK


def cmd_add(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import door, time_entries

    row = door.write(
        ctx.engine, ctx.actor, time_entries.add, args.ref, args.minutes, billable=not args.no_billable,
        note=args.note or "", work_date=args.date, expected_version=args.expect_version,
    )
    ctx.emit(row.model_dump(), f"time entry {row.id}: {row.minutes} min on {row.number} ({row.work_date})")
    return EXIT_OK


def cmd_edit(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import door, time_entries

    row = door.write(
        ctx.engine, ctx.actor, time_entries.correct, args.id, minutes=args.minutes, billable=args.billable,
        note=args.note, work_date=args.date, expected_version=args.expect_version,
    )
    ctx.emit(row.model_dump(), f"time entry {row.id} corrected: {row.minutes} min on {row.number} "
                               f"({row.work_date}, version {row.version})")
    return EXIT_OK


def register(sub: Any) -> None:
    p_time = sub.add_parser("time", help="time worked on tickets: list, log, correct")
    t = p_time.add_subparsers(dest="time_command", metavar="ACTION", required=True)

    p = t.add_parser("list", help="time entries on the tickets you may see")
    p.add_argument("--ticket", metavar="REF")
    p.add_argument("--agent", metavar="USERNAME")
    p.add_argument("--org", metavar="NAME")
    p.add_argument("--from", dest="date_from", metavar="DATE", help="first work day (YYYY-MM-DD)")
    p.add_argument("--to", dest="date_to", metavar="DATE", help="last work day, included")
    bill = p.add_mutually_exclusive_group()
    bill.add_argument("--billable", dest="billable", action="store_const", const=True, default=None)
    bill.add_argument("--no-billable", dest="billable", action="store_const", const=False)
    inv = p.add_mutually_exclusive_group()
    inv.add_argument("--invoiced", dest="invoiced", action="store_const", const=True, default=None)
    inv.add_argument("--uninvoiced", dest="invoiced", action="store_const", const=False)
    p.add_argument("--limit", type=int, default=1000)
    p.set_defaults(func=cmd_list)

    p = t.add_parser("add", help="log your time on a ticket")
    p.add_argument("ref", metavar="REF", help="ticket id or number")
    p.add_argument("minutes", metavar="MINUTES")
    p.add_argument("--date", metavar="DATE", help="the day worked (default: today)")
    p.add_argument("--note", default="")
    p.add_argument("--no-billable", action="store_true")
    p.add_argument("--if-version", "--expect-version", dest="expect_version", type=int, metavar="N",
                   help="refuse (exit 5) unless the ticket is still at version N")
    p.set_defaults(func=cmd_add)

    p = t.add_parser("edit", help="correct one of your time entries (admins: anyone's)")
    p.add_argument("id", metavar="ID")
    p.add_argument("--minutes")
    p.add_argument("--date", metavar="DATE")
    p.add_argument("--note")
    p.add_argument("--billable", metavar="yes|no")
    p.add_argument("--if-version", "--expect-version", dest="expect_version", type=int, metavar="N",
                   help="refuse (exit 5) unless the entry is still at version N (as `time list` printed it)")
    p.set_defaults(func=cmd_edit)
