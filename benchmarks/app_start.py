"""Process start to the first queue rows, beside a bare Textual app importing the same libraries.

    .venv/bin/python benchmarks/app_start.py DB [--runs 5]

Each run is a fresh process (`python -c ...`, headless, 120x36) timed from the parent: the app exits
as soon as the queue's ticket list holds rows; the bare app imports textual, rich, sqlalchemy,
sqlmodel and markdown_it, shows one Static and exits on its first paint. Medians of `--runs`, and
their ratio (issue 11: <= 1.3x).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
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


def _time(code: str, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], check=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    bare, app, every = [], [], []
    for _ in range(args.runs):  # interleaved, so a busy moment of the machine hits all alike
        bare.append(_time(BARE))
        app.append(_time(APP, args.db))
        every.append(_time(APP, args.db, "all-sheets"))
    b, a, e = statistics.median(bare), statistics.median(app), statistics.median(every)
    print(f"process start to first paint, median of {args.runs}")
    print(f"{'bare Textual app (same imports)':36s} {b * 1000:8.0f} ms")
    print(f"{'helpdesk: first queue rows':36s} {a * 1000:8.0f} ms  ({a / b:.2f}x)")
    print(f"{'  the same, every sheet at start':36s} {e * 1000:8.0f} ms  ({e / b:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
