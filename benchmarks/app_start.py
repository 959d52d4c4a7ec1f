"""Process start to the first queue rows, beside a bare Textual app importing the same libraries.

    .venv/bin/python benchmarks/app_start.py DB [--runs 5]

Each run is a fresh process (`python -c ...`, headless, 120x36) timed from the parent: the app exits
as soon as the queue's ticket list holds rows (painted); the bare app imports textual, rich, sqlalchemy,
sqlmodel and markdown_it, shows one Static and exits on its first paint. The app starts as `helpdesk`
starts it (cli/app.py: tui/startup.hold_gc first, then the imports). Medians of `--runs` of the wall
time and of the process's CPU time (user + system: steadier on a shared machine), and their ratios
(issue 11: <= 1.3x), then the peak RSS of each.

Then, in one process, several apps one after another, as a test worker or an embedder runs them: the
first app's start and the median of the later ones (those reuse the parsed stylesheets, tui/shared_css.py).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

BARE = """
import sqlalchemy, sqlmodel, markdown_it, rich
from textual.app import App
from textual.widgets import Static
class Bare(App):
    def compose(self):
        yield Static("one static")
    def on_mount(self):
        self.call_after_refresh(self.exit)
Bare().run(headless=True, size=(120, 36))
"""

APP = """
import sys
from tui_helpdesk.tui import startup
startup.hold_gc()  # as `helpdesk` does first (cli/app.py)
from tui_helpdesk import db
from tui_helpdesk.config import Config
from tui_helpdesk.services.context import Actor
from tui_helpdesk.tui.app import HelpdeskApp
from pathlib import Path
if len(sys.argv) > 2:  # the start-up before issue 11: every stylesheet applied at start
    from tui_helpdesk.resources import styles_dir
    HelpdeskApp.CSS_PATH = sorted(styles_dir().glob("*.tcss"), key=lambda p: (p.name != "app.tcss", p.name))
url = "sqlite:///" + sys.argv[1]
engine = db.get_engine(url, migrate=False)
cfg = Config(database_url=url, data_dir=Path(sys.argv[1]).parent, config_file=Path("/nonexistent.toml"))
app = HelpdeskApp(cfg, engine, Actor(agent_id=1, username="root", is_admin=True, origin="tui"), poll_interval=0)
def check():
    try:
        rows = app.screen.query_one("#tickets").loaded_rows()
    except Exception:
        rows = []
    if rows:
        app.call_after_refresh(app.exit)
    else:
        app.set_timer(0.005, check)
app.call_later(check)
app.run(headless=True, size=(120, 36))
"""


# several apps in one process, each until its first queue rows; prints one JSON line of milliseconds
IN_PROCESS = """
import json, sys, time
from pathlib import Path
from tui_helpdesk import db
from tui_helpdesk.config import Config
from tui_helpdesk.services.context import Actor
from tui_helpdesk.tui.app import HelpdeskApp
url = "sqlite:///" + sys.argv[1]
engine = db.get_engine(url, migrate=False)
cfg = Config(database_url=url, data_dir=Path(sys.argv[1]).parent, config_file=Path("/nonexistent.toml"))
def one():
    app = HelpdeskApp(cfg, engine, Actor(agent_id=1, username="root", is_admin=True, origin="tui"), poll_interval=0)
    def check():
        try:
            rows = app.screen.query_one("#tickets").loaded_rows()
        except Exception:
            rows = []
        if rows:
            app.call_after_refresh(app.exit)
        else:
            app.set_timer(0.005, check)
    app.call_later(check)
    wall, cpu = time.perf_counter(), time.process_time()
    app.run(headless=True, size=(120, 36))
    return [(time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000]
print(json.dumps([one() for _ in range(int(sys.argv[2]))]))
"""


def _run(code: str, *args: str) -> tuple[float, float, float]:
    """(wall s, CPU s, peak RSS MB) of one child process."""
    start = time.perf_counter()
    pid = os.spawnv(os.P_NOWAIT, sys.executable, [sys.executable, "-c", code, *args])
    _, status, usage = os.wait4(pid, 0)
    if status != 0:
        raise SystemExit(f"a run failed (status {status})")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _median(runs: list[tuple[float, float, float]], i: int) -> float:
    return statistics.median(r[i] for r in runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--apps", type=int, default=6, help="apps started one after another in one process")
    args = parser.parse_args(argv)
    bare: list[tuple[float, float, float]] = []
    app: list[tuple[float, float, float]] = []
    every: list[tuple[float, float, float]] = []
    for _ in range(args.runs):  # interleaved, so a busy moment of the machine hits all alike
        bare.append(_run(BARE))
        app.append(_run(APP, args.db))
        every.append(_run(APP, args.db, "all-sheets"))
    b_wall, b_cpu = _median(bare, 0), _median(bare, 1)
    print(f"process start to first paint, median of {args.runs}: wall, CPU (user+sys), peak RSS")
    for name, runs in (
        ("bare Textual app (same imports)", bare),
        ("helpdesk: first queue rows", app),
        ("  the same, every sheet at start", every),
    ):
        wall, cpu, rss = _median(runs, 0), _median(runs, 1), _median(runs, 2)
        print(
            f"{name:34s} {wall * 1000:7.0f} ms ({wall / b_wall:.2f}x)  "
            f"{cpu * 1000:7.0f} ms CPU ({cpu / b_cpu:.2f}x)  {rss:5.0f} MB"
        )
    if args.apps > 1:
        import json
        import subprocess

        out = subprocess.run(
            [sys.executable, "-c", IN_PROCESS, args.db, str(args.apps)], check=True, capture_output=True, text=True
        ).stdout
        times = json.loads(out.strip().splitlines()[-1])
        later = times[1:]
        print(f"apps one after another in one process ({args.apps}): start to first queue rows")
        print(f"{'  first app':34s} {times[0][0]:7.0f} ms  {times[0][1]:7.0f} ms CPU")
        print(
            f"{'  later apps (median)':34s} {statistics.median(t[0] for t in later):7.0f} ms  "
            f"{statistics.median(t[1] for t in later):7.0f} ms CPU"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
