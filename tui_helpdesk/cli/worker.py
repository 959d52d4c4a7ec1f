"""`helpdesk worker`: fetch mail, send the outbox and run the timers, once or in a loop."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("worker", help="fetch mail, send the outbox and run timers")
    p.add_argument("--once", action="store_true", help="one pass, then exit")
    p.add_argument("--interval", type=float, default=10.0, help="seconds between passes (default 10)")
    p.set_defaults(func=cmd_worker)


def cmd_worker(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk import worker

    engine = ctx.engine
    if args.once:
        errors: list[str] = []
        counts = worker.run_once(engine, errors=errors)
        lines = [f"{k}: {v}" for k, v in sorted(counts.items())] or ["nothing to do"]
        lines += [f"error: {e}" for e in errors]
        ctx.emit({"counts": counts, "errors": errors}, lines)
        return 1 if errors else 0
    try:
        worker.run_forever(engine, interval=args.interval, on_status=lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        pass
    return 0
