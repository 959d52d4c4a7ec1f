"""`helpdesk report ...`: the dashboard's tables (services/reports.py) as text, CSV or JSON.

    helpdesk report summary [--period 30d|7d|today|month|YYYY-MM] [--from DATE --to DATE] [--by KEY]
    helpdesk report backlog [period options]     created, closed, reopened and the backlog per day
    helpdesk report replies [period options]     public replies per agent

KEY is department, agent, team, topic, organization or priority. `--format csv|json` (or `--json`) prints
the same table the F3 screen's `E` exports. Each report is one subparser added in `register`.
"""

from __future__ import annotations

import argparse
from typing import Any

from tui_helpdesk.cli import EXIT_OK, CommandContext

BREAKDOWN_NAMES = ("department", "agent", "team", "topic", "organization", "priority")


def register(sub: Any) -> None:
    p = sub.add_parser("report", help="dashboard figures: created, closed, backlog, response times, SLA")
    reports = p.add_subparsers(dest="report_command", metavar="REPORT", required=True)
    add_summary(reports)
    add_backlog(reports)
    add_replies(reports)
    from tui_helpdesk.cli.report_time import add_time

    add_time(reports)


def add_period_options(p: argparse.ArgumentParser, *, by: bool = True) -> None:
    p.add_argument("--period", default=None, help="today, 7d, 30d (the default), month or YYYY-MM")
    p.add_argument("--from", dest="date_from", metavar="DATE", help="first day (YYYY-MM-DD), instead of --period")
    p.add_argument("--to", dest="date_to", metavar="DATE", help="last day (YYYY-MM-DD), included")
    if by:
        p.add_argument("--by", choices=BREAKDOWN_NAMES, help="one row per department, agent, ...")
    p.add_argument("--format", choices=("text", "csv", "json"), default=None, help="text (default), csv or json")


def add_summary(reports: Any) -> None:
    p = reports.add_parser("summary", help="every figure of the period, per breakdown key and in total")
    add_period_options(p)
    p.set_defaults(func=cmd_summary)


def add_backlog(reports: Any) -> None:
    p = reports.add_parser("backlog", help="per day: created, closed, reopened, backlog at the day's end")
    add_period_options(p, by=False)
    p.set_defaults(func=cmd_backlog)


def add_replies(reports: Any) -> None:
    p = reports.add_parser("replies", help="public replies per agent in the period")
    add_period_options(p, by=False)
    p.set_defaults(func=cmd_replies)


def _period(args: argparse.Namespace) -> Any:
    from tui_helpdesk.services import reports

    return reports.period(args.period, start=args.date_from, end=args.date_to)


def _format(args: argparse.Namespace, ctx: CommandContext) -> str:
    return "json" if ctx.json else (args.format or "text")


def emit_table(ctx: CommandContext, fmt: str, rows: list[dict[str, Any]], meta: dict[str, Any]) -> None:
    """Print rows (plain dicts, one key order) as CSV, JSON ({...meta, "rows": rows}) or aligned text."""
    import json

    from tui_helpdesk.cli.output import aligned, jsonable, scalar

    if fmt == "json":
        ctx.out.write(json.dumps(jsonable({**meta, "rows": rows}), indent=2) + "\n")
        return
    if fmt == "csv":
        from tui_helpdesk.services import reports

        ctx.out.write(reports.to_csv(rows))
        return
    if not rows:
        ctx.out.write("(nothing in this period)\n")
        return
    from tui_helpdesk.services.reports import DURATION_COLUMNS, format_minutes

    head = [k for k in rows[0] if k != "id"]
    body = [[format_minutes(r[k], days=k != "minutes_logged") if k in DURATION_COLUMNS else scalar(r[k]) for k in head] for r in rows]
    for line in aligned([head, *body]):
        ctx.out.write(line + "\n")


def cmd_summary(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import door, reports

    p = _period(args)
    rep = door.read(ctx.engine, ctx.actor, reports.report, p, args.by)
    rows = reports.as_table(rep)
    if args.by is None:
        rows = [{k: v for k, v in r.items() if k not in ("id", "breakdown")} for r in rows]
    emit_table(ctx, _format(args, ctx), rows, {"period": p.as_json(), "by": args.by})
    return EXIT_OK


def cmd_backlog(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import door, reports

    p = _period(args)
    rep = door.read(ctx.engine, ctx.actor, reports.report, p, None, with_days=True)
    emit_table(ctx, _format(args, ctx), reports.days_table(rep), {"period": p.as_json()})
    return EXIT_OK


def cmd_replies(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import door, reports

    p = _period(args)

    def use_case(tx: Any) -> list[dict[str, Any]]:
        counts = reports.replies(tx, p, "agent")
        names = reports.labels(tx, "agent", counts)
        return [{"agent": names.get(k, f"#{k}"), "replies": n}
                for k, n in sorted(counts.items(), key=lambda kv: -kv[1])]

    rows = door.read(ctx.engine, ctx.actor, use_case)
    emit_table(ctx, _format(args, ctx), rows, {"period": p.as_json()})
    return EXIT_OK
