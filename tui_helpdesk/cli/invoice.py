"""`helpdesk invoice ...` and `helpdesk rate ...`: invoices of billable time and the hourly rates behind them.

    helpdesk invoice create --org NAME --to DATE [--from DATE]    bills, and locks, the uninvoiced time
    helpdesk invoice list [--org NAME]
    helpdesk invoice show NUMBER
    helpdesk invoice export NUMBER --format csv|json [--output FILE]
    helpdesk rate set AMOUNT [--org NAME] [--agent USER]           hourly; neither: the desk's default
    helpdesk rate list | rate clear [--org NAME] [--agent USER]

Admins only (services/invoices.py, services/billing.py). The currency is the `billing_currency` setting.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from tui_helpdesk.cli import EXIT_OK, CommandContext
from tui_helpdesk.cli.output import aligned, jsonable, scalar


def _invoice_lines(inv: Any) -> list[str]:
    lines = [f"{inv.number}  {scalar(inv.organization)}  {inv.period_from or '...'} to {inv.period_to}  "
             f"{inv.total_hours} h  {inv.total} {inv.currency}  ({inv.entries} entries)"]
    if inv.lines:
        table = [["TICKET", "AGENT", "HOURS", "RATE", "AMOUNT", "DESCRIPTION"]]
        table += [[line.ticket, line.agent, line.hours, line.unit_price, line.amount, scalar(line.description)]
                  for line in inv.lines]
        lines += aligned(table)
    return lines


def cmd_create(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import door, invoices

    inv = door.write(ctx.engine, ctx.actor, invoices.create, args.org, args.to, date_from=args.date_from)
    ctx.emit(inv.model_dump(), _invoice_lines(inv))
    return EXIT_OK


def cmd_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import door, invoices

    rows = door.read(ctx.engine, ctx.actor, invoices.list_invoices, organization=args.org)
    text = [line for inv in rows for line in _invoice_lines(inv)] or ["(no invoices)"]
    ctx.emit([r.model_dump(exclude={"lines"}) for r in rows], text)
    return EXIT_OK


def cmd_show(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import door, invoices

    inv = door.read(ctx.engine, ctx.actor, invoices.show, args.number)
    ctx.emit(inv.model_dump(), _invoice_lines(inv))
    return EXIT_OK


def cmd_export(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import door, invoices

    inv = door.read(ctx.engine, ctx.actor, invoices.show, args.number)
    fmt = "json" if ctx.json and not args.format else (args.format or "json")
    out = open(args.output, "w", encoding="utf-8", newline="") if args.output else ctx.out  # noqa: SIM115
    try:
        if fmt == "csv":
            for chunk in invoices.as_csv(inv):
                out.write(chunk)
        else:
            out.write(json.dumps(jsonable(invoices.as_json(inv)), indent=2, ensure_ascii=False) + "\n")
    finally:
        if args.output:
            out.close()
    return EXIT_OK


def cmd_rate_set(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import billing, door

    row = door.write(ctx.engine, ctx.actor, billing.set_rate, args.amount, organization=args.org, agent=args.agent)
    ctx.emit(row.model_dump(), f"rate {row.hourly} {row.currency}/h for {_who(row)}")
    return EXIT_OK


def cmd_rate_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import billing, door

    rows = door.read(ctx.engine, ctx.actor, billing.list_rates)
    text = aligned([["FOR", "HOURLY"], *[[_who(r), f"{r.hourly} {r.currency}"] for r in rows]])
    ctx.emit([r.model_dump() for r in rows], text if rows else ["(no rates: time costs 0)"])
    return EXIT_OK


def cmd_rate_clear(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import billing, door

    door.write(ctx.engine, ctx.actor, billing.clear_rate, organization=args.org, agent=args.agent)
    ctx.emit({"cleared": True, "organization": args.org, "agent": args.agent}, "rate cleared")
    return EXIT_OK


def _who(row: Any) -> str:
    parts = [scalar(row.organization) if row.organization else "", row.agent or ""]
    return " / ".join(p for p in parts if p) or "default"


def register(sub: Any) -> None:
    p_inv = sub.add_parser("invoice", help="invoices of billable time (admins)")
    i = p_inv.add_subparsers(dest="invoice_command", metavar="ACTION", required=True)
    p = i.add_parser("create", help="invoice an organization's uninvoiced billable time up to a day")
    p.add_argument("--org", required=True, metavar="NAME")
    p.add_argument("--to", required=True, metavar="DATE", help="last work day billed (YYYY-MM-DD)")
    p.add_argument("--from", dest="date_from", metavar="DATE", help="first work day billed (default: all)")
    p.set_defaults(func=cmd_create)
    p = i.add_parser("list", help="invoices, newest first")
    p.add_argument("--org", metavar="NAME")
    p.set_defaults(func=cmd_list)
    p = i.add_parser("show", help="an invoice with its lines")
    p.add_argument("number", metavar="NUMBER", help="INV-00001 or 1")
    p.set_defaults(func=cmd_show)
    p = i.add_parser("export", help="an invoice as CSV or as JSON for an accounting tool")
    p.add_argument("number", metavar="NUMBER")
    p.add_argument("--format", choices=("csv", "json"))
    p.add_argument("--output", "-o", metavar="FILE")
    p.set_defaults(func=cmd_export)

    p_rate = sub.add_parser("rate", help="hourly rates for billable time (admins)")
    r = p_rate.add_subparsers(dest="rate_command", metavar="ACTION", required=True)
    p = r.add_parser("set", help="set an hourly rate: for an organization, an agent, both, or the default")
    p.add_argument("amount", metavar="AMOUNT", help="per hour, e.g. 95 or 95.50")
    p.add_argument("--org", metavar="NAME")
    p.add_argument("--agent", metavar="USERNAME")
    p.set_defaults(func=cmd_rate_set)
    p = r.add_parser("list", help="every rate")
    p.set_defaults(func=cmd_rate_list)
    p = r.add_parser("clear", help="remove a rate")
    p.add_argument("--org", metavar="NAME")
    p.add_argument("--agent", metavar="USERNAME")
    p.set_defaults(func=cmd_rate_clear)
