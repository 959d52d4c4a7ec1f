"""`helpdesk report time`: minutes and amounts per ticket, agent and organization (services/time_report.py).

    helpdesk report time [--org NAME] [--from DATE] [--to DATE] [--billable] [--format text|csv|json]
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from tui_helpdesk.cli import EXIT_OK, CommandContext
from tui_helpdesk.cli.output import aligned, scalar


def add_time(reports: Any) -> None:
    p = reports.add_parser("time", help="time worked per ticket, agent and organization, with amounts")
    p.add_argument("--org", metavar="NAME")
    p.add_argument("--from", dest="date_from", metavar="DATE", help="first work day (YYYY-MM-DD)")
    p.add_argument("--to", dest="date_to", metavar="DATE", help="last work day, included")
    p.add_argument("--billable", action="store_true", help="billable time only")
    p.add_argument("--format", choices=("text", "csv", "json"), default=None)
    p.set_defaults(func=cmd_time)


def cmd_time(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import door, time_report

    rep = door.read(ctx.engine, ctx.actor, time_report.report, organization=args.org, date_from=args.date_from,
                    date_to=args.date_to, billable_only=args.billable)
    fmt = "json" if ctx.json else (args.format or "text")
    if fmt == "json":
        ctx.out.write(json.dumps(time_report.as_json(rep), indent=2, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        for chunk in time_report.as_csv(rep):
            ctx.out.write(chunk)
    else:
        ctx.out.write("\n".join(text_lines(rep)) + "\n")
    return EXIT_OK


def text_lines(rep: Any) -> list[str]:
    out: list[str] = []
    for title, lines in (("TICKET", rep.tickets), ("AGENT", rep.agents), ("ORGANIZATION", rep.organizations)):
        table = [[title, "NAME", "MIN", "BILLABLE", "INVOICED", f"AMOUNT {rep.currency}"]]
        table += [[scalar(x.key), scalar(x.name)[:40], str(x.minutes), str(x.billable_minutes),
                   str(x.invoiced_minutes), x.amount] for x in lines]
        out += [*aligned(table), ""]
    t = rep.total
    out.append(f"Total: {t.minutes} min, {t.billable_minutes} billable, {t.amount} {rep.currency}")
    return out
