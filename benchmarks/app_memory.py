"""Peak memory of the app on a big desk: after start, after opening a ticket, after paging far.

    .venv/bin/python benchmarks/app_memory.py DB [--ticket NUMBER] [--far 100000]

One process drives a headless app (Pilot, 120x36) on DB as the admin (agent 1): the queue's first rows;
Enter on the first row opens its ticket (until the thread shows) and Esc goes back; G reads the last
page; then the list moves to row --far (at most half the list), which walks there a page of 1,000 rows at a time (the far
scrollbar drag). After each step it prints the peak RSS (ru_maxrss) and the current RSS. The floor is a
bare Textual app importing the same libraries, its peak RSS measured in its own process in the same run
(issue 11: the app's peak <= 150 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

BARE = """
import resource
import sqlalchemy, sqlmodel, markdown_it, rich
from textual.app import App
from textual.widgets import Static
class Bare(App):
    def compose(self):
        yield Static("one static")
    def on_mount(self):
        self.call_after_refresh(self.exit)
Bare().run(headless=True, size=(120, 36))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _rss() -> tuple[float, float]:
    """(peak, current) resident set size in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open("/proc/self/statm") as fh:
        current = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    return peak, current


async def _until(pilot, condition, what: str, timeout: float = 600.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def drive(db_path: str, far: int) -> list[tuple[str, float, float, float]]:
    from tui_helpdesk import db
    from tui_helpdesk.config import Config
    from tui_helpdesk.services.context import Actor
    from tui_helpdesk.tui.app import HelpdeskApp

    url = "sqlite:///" + db_path
    engine = db.get_engine(url, migrate=False)
    cfg = Config(database_url=url, data_dir=Path(db_path).parent, config_file=Path("/nonexistent.toml"))
    app = HelpdeskApp(cfg, engine, Actor(agent_id=1, username="root", is_admin=True, origin="tui"), poll_interval=0)
    out: list[tuple[str, float, float, float]] = []
    start = time.perf_counter()

    def note(step: str) -> None:
        out.append((step, time.perf_counter() - start, *_rss()))

    async with app.run_test(size=(120, 36)) as pilot:
        def tickets():  # noqa: ANN202
            return app.screen.query_one("#tickets")

        def has_rows() -> bool:
            try:
                return bool(tickets().loaded_rows())
            except Exception:  # noqa: BLE001 - the queue screen is not up yet
                return False

        await _until(pilot, has_rows, "the first rows")
        await pilot.pause()
        note("first queue rows")

        await pilot.press("enter")
        await _until(
            pilot,
            lambda: type(app.screen).__name__ == "TicketScreen" and getattr(app.screen, "detail", None) is not None,
            "the ticket",
        )
        await pilot.pause()
        note("a ticket opened")
        await pilot.press("escape")
        await _until(pilot, lambda: type(app.screen).__name__ == "QueueScreen", "the queue again")

        await pilot.press("G")
        await _until(pilot, lambda: has_rows() and tickets().cursor > 0, "the last page")
        await pilot.pause()
        note("G: the last page")

        target = min(far, tickets().total // 2)  # away from both ends: a walk, not a loaded page
        tickets().move_to(target)
        await _until(
            pilot,
            lambda: tickets().row_at(target) is not None and not tickets()._walking,  # noqa: SLF001
            f"row {target}",
        )
        await pilot.pause()
        note(f"walked to row {target:,}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("--far", type=int, default=100_000)
    args = parser.parse_args(argv)
    bare = int(subprocess.run([sys.executable, "-c", BARE], check=True, capture_output=True, text=True).stdout)
    steps = asyncio.run(drive(args.db, args.far))
    print(f"{'bare Textual app (same imports)':34s} {'':>8s}  peak {bare / 1024:6.1f} MB")
    for step, at, peak, current in steps:
        print(f"{step:34s} {at:7.1f}s  peak {peak:6.1f} MB  now {current:6.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
