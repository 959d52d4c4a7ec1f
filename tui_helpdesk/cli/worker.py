"""`helpdesk worker`: fetch mail, send the outbox and run the timers, once or in a loop."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("worker", help="fetch mail, send the outbox and run timers")
    p.add_argument("--once", action="store_true", help="one pass, then exit")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="say what each timer would do now (or at HELPDESK_NOW) and change nothing",
    )
    p.add_argument("--interval", type=float, default=10.0, help="seconds between passes (default 10)")
    p.set_defaults(func=cmd_worker)


def cmd_worker(args: argparse.Namespace, ctx: Any) -> int:
    from tui_helpdesk import clock, worker

    engine = ctx.engine
    if args.dry_run:
        plan = worker.dry_run(engine)
        now = clock.now()
        timers = {name: {"count": len(items), "tickets": items} for name, items in plan.items()}
        lines = [f"dry run at {now:%Y-%m-%d %H:%M:%S} UTC: nothing was changed, no mail fetched or sent"]
        for name, items in plan.items():
            lines.append(f"{name}: {len(items)}" + (f" ({', '.join(items)})" if items else ""))
        ctx.emit({"dry_run": True, "now": now, "timers": timers}, lines)
        return 0
    # SIGTERM unwinds like Ctrl-C, so the lease is released however the worker is stopped
    with worker.graceful_exit():
        if args.once:
            errors: list[str] = []
            try:
                counts = worker.run_once(engine, errors=errors)
            except worker.Terminated:
                return 128 + 15  # as a shell reports a process ended by SIGTERM
            except KeyboardInterrupt:
                return 128 + 2
            lines = [f"{k}: {v}" for k, v in sorted(counts.items())] or ["nothing to do"]
            lines += [f"error: {e}" for e in errors]
            ctx.emit({"counts": counts, "errors": errors}, lines)
            return 1 if errors else 0
        try:
            worker.run_forever(engine, interval=args.interval, on_status=lambda line: print(line, flush=True))
        except (KeyboardInterrupt, worker.Terminated):
            pass
        return 0
