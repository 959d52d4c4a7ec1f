"""`helpdesk serve`: the HTTP API, with the worker in the same process unless --no-worker."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from tui_helpdesk.cli import EXIT_USAGE, CliError, CommandContext


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("serve", help="run the HTTP API (and the worker) on this host")
    p.add_argument("--http", metavar="HOST:PORT", default="127.0.0.1:8080",
                   help="where the API listens (default 127.0.0.1:8080)")
    p.add_argument("--no-worker", action="store_true", help="do not run the worker in this process")
    p.add_argument("--interval", type=float, default=10.0, help="seconds between worker passes (default 10)")
    p.add_argument("--access-log", action="store_true", help="log every request")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.api.server import parse_address, serve

    try:
        host, port = parse_address(args.http)
    except ValueError as exc:
        raise CliError(f"--http: {exc}", EXIT_USAGE, "http") from exc
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    return serve(ctx.engine, host, port, worker=not args.no_worker, worker_interval=args.interval,
                 access_log=args.access_log, on_ready=lambda line: print(line, flush=True))
