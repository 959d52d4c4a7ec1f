"""`helpdesk api-key ...`: keys for the HTTP API (services/api_keys.py holds who may make whose)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tui_helpdesk.cli import EXIT_OK, CommandContext
from tui_helpdesk.cli.output import aligned, fmt_time


def cmd_create(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import api_keys
    from tui_helpdesk.services.door import write

    made = write(ctx.engine, ctx.actor, api_keys.create, args.username, name=args.name or "",
                 expires=args.expires)
    row = made.row
    ctx.emit(
        {"id": row.id, "key": made.key, "name": row.name, "owner": row.owner, "prefix": row.prefix,
         "created_at": row.created_at, "expires_at": row.expires_at},
        [made.key],
    )
    if not ctx.json:
        expiry = f", expires {fmt_time(row.expires_at)}" if row.expires_at else ""
        print(f"API key #{row.id} for {row.owner}{expiry}: shown once, store it now", file=sys.stderr)
    return EXIT_OK


def cmd_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import api_keys
    from tui_helpdesk.services.door import read

    rows = read(ctx.engine, ctx.actor, api_keys.list_keys, include_revoked=args.all)
    table = [["ID", "NAME", "OWNER", "PREFIX", "CREATED", "LAST USED", "EXPIRES", "REVOKED"]]
    for r in rows:
        table.append([
            str(r.id), r.name or "-", r.owner, r.prefix, fmt_time(r.created_at),
            fmt_time(r.last_used_at) if r.last_used_at else "never",
            fmt_time(r.expires_at) if r.expires_at else "-",
            fmt_time(r.revoked_at) if r.revoked_at else "-",
        ])
    ctx.emit({"keys": rows}, aligned(table) if rows else ["no API keys"])
    return EXIT_OK


def cmd_revoke(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import api_keys
    from tui_helpdesk.services.door import write

    row = write(ctx.engine, ctx.actor, api_keys.revoke, args.id)
    ctx.emit(row, f"API key #{row.id} ({row.owner}, {row.prefix}) revoked")
    return EXIT_OK


def register(sub: Any) -> None:
    p_key = sub.add_parser("api-key", help="keys for the HTTP API (helpdesk serve)")
    k = p_key.add_subparsers(dest="cmd", metavar="ACTION", required=True)

    p = k.add_parser("create", help="make a key acting as USERNAME (printed once)")
    p.add_argument("username", metavar="USERNAME", help="the agent the key acts as (yourself unless admin)")
    p.add_argument("--name", help="what the key is for (e.g. monitoring)")
    p.add_argument("--expires", metavar="DATE", help="last day the key works (YYYY-MM-DD) or an ISO time")
    p.set_defaults(func=cmd_create)

    p = k.add_parser("list", help="keys with owner, created, last used and expiry (admins: everyone's)")
    p.add_argument("--all", action="store_true", help="include revoked keys")
    p.set_defaults(func=cmd_list)

    p = k.add_parser("revoke", help="revoke a key by its id")
    p.add_argument("id", metavar="ID", type=int)
    p.set_defaults(func=cmd_revoke)
