"""`helpdesk serve`: the HTTP API, with the worker in the same process unless --no-worker, and with --ssh the
SSH server (agents log in with their own key: tui_helpdesk/ssh/) in a thread of the same process."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from typing import Any

from tui_helpdesk.cli import EXIT_USAGE, CliError, CommandContext


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("serve", help="run the HTTP API, the SSH server (and the worker) on this host")
    p.add_argument("--http", metavar="HOST:PORT", default="127.0.0.1:8080",
                   help="where the API listens (default 127.0.0.1:8080)")
    p.add_argument("--no-http", action="store_true", help="no HTTP API (with --ssh: the SSH server only)")
    p.add_argument("--ssh", metavar="HOST:PORT",
                   help="also serve SSH here (e.g. 0.0.0.0:2222): agents log in with their own key")
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
    if args.no_http and not args.ssh:
        raise CliError("--no-http: give --ssh HOST:PORT, or there is nothing to serve", EXIT_USAGE, "no-http")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    ssh = _start_ssh(args, ctx) if args.ssh else None
    try:
        if not args.no_http:
            return serve(ctx.engine, host, port, worker=not args.no_worker, worker_interval=args.interval,
                         access_log=args.access_log, on_ready=lambda line: print(line, flush=True))
        return _wait_for_signal(ctx, worker=not args.no_worker, interval=args.interval)
    finally:
        if ssh is not None:
            ssh.stop()


def _start_ssh(args: argparse.Namespace, ctx: CommandContext) -> Any:
    from tui_helpdesk.api.server import parse_address
    from tui_helpdesk.services import ssh_access
    from tui_helpdesk.ssh.children import Desk
    from tui_helpdesk.ssh.runner import SshServer

    try:
        host, port = parse_address(args.ssh)
    except ValueError as exc:
        raise CliError(f"--ssh: {exc.args[0].replace('8080', '2222')}", EXIT_USAGE, "ssh") from exc
    ssh_access.require_service_account(ctx.login(), ctx.is_service_account())
    config = ctx.config
    desk = Desk(database_url=config.database_url, data_dir=str(config.data_dir),
                config_file=str(config.config_file) if config.config_file.is_file() else "")
    server = SshServer(ctx.engine, desk, host, port)
    try:
        server.start()
    except OSError as exc:
        raise CliError(f"--ssh: could not listen on {host}:{port}: {exc.strerror or exc}", field="ssh") from exc
    print(server.banner(), flush=True)
    return server


def _wait_for_signal(ctx: CommandContext, *, worker: bool, interval: float) -> int:
    """SSH only: the worker beside it, until SIGTERM or Ctrl-C."""
    from tui_helpdesk import worker as worker_mod

    log = logging.getLogger("tui_helpdesk.serve")
    handle = worker_mod.start_thread(ctx.engine, lambda line: log.info("%s", line), interval=interval) \
        if worker else None
    done = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: done.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        done.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if handle is not None:
            handle.stop(timeout=30)
    return 0
