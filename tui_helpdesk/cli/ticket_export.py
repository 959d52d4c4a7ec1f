"""`helpdesk ticket export`: every ticket a filter selects, streamed as CSV, a JSON array or JSON lines.

    helpdesk ticket export [--query 'status:open org:Acme'] [--columns number,subject,...]
                           [--format csv|json|jsonl] [--output FILE]

The query is the queue's `/` language; the columns are services/ticket_export.COLUMNS. Rows are written
as each keyset page is read (services/ticket_export.py), so memory stays flat at any size.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tui_helpdesk.cli import EXIT_OK, CommandContext


def add_export(t: Any) -> None:
    p = t.add_parser("export", help="export the tickets a filter selects (CSV, JSON, JSON lines), streamed")
    p.add_argument("--query", "-q", default="", help="the queue's filter language, e.g. 'status:open org:Acme'")
    p.add_argument("--columns", "-c", default="", metavar="A,B,...",
                   help="columns (default number,subject,requester_email,organization,department,status,"
                        "priority,assignee,created,updated); cf.NAME for a custom field")
    p.add_argument("--format", choices=("csv", "json", "jsonl"), default=None, help="csv (default), json, jsonl")
    p.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    p.add_argument("--progress", action="store_true", help="count the rows written on stderr")
    p.set_defaults(func=cmd_export)


def cmd_export(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import ticket_export

    fmt = args.format or ("json" if ctx.json else "csv")
    ticket_export.columns(args.columns)  # a bad column fails before a file is made
    out = open(args.output, "w", encoding="utf-8", newline="") if args.output else ctx.out  # noqa: SIM115
    progress = (lambda n: print(f"{n} tickets", file=sys.stderr, flush=True)) if args.progress else None
    try:
        with ctx.reading() as tx:
            count = ticket_export.write(tx, out, query_text=args.query, cols=args.columns, fmt=fmt,
                                        progress=progress)
    finally:
        if args.output:
            out.close()
    if args.output:
        print(f"{count} tickets written to {args.output}", file=sys.stderr)
    return EXIT_OK
