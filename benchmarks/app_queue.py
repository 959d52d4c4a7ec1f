"""Time the app itself on a large queue: first paint, page down, jump to end, filter, sort, memory.

    .venv/bin/python benchmarks/app_queue.py [-n 1000000] [--db PATH] [--repeat 5] [--no-migrate]

Builds the data set with benchmarks/build_dataset.py on first use (kept for later runs), then
drives the real app with Pilot in a headless terminal (120x36) as an admin, who sees every ticket.
Each figure is wall time from the key press until the rows under the cursor are on screen; a filter
or sort change gives two: the first frame with the new list's rows, and when its total is counted
(the total and the sidebar counts follow the rows and never hold them up); the three changes on the
Open view run `--repeat` rounds (5) and print the median, the first (cold) round beside it. The floor
is a bare app whose one Static changes, timed to the frame that shows it.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


async def _until(pilot, ready: Callable[[], bool], timeout: float = 120.0) -> None:
    end = time.perf_counter() + timeout
    while not ready():
        if time.perf_counter() > end:
            raise TimeoutError(f"the list did not settle: {_state(pilot.app)}")
        await pilot.pause(0.002)


def _state(app) -> dict:
    tl = app.screen.query_one("#tickets")
    return {
        k: getattr(tl, k)
        for k in (
            "cursor",
            "_win_start",
            "total",
            "total_known",
            "loading_rows",
            "_walking",
            "_loading_fwd",
            "_loading_back",
            "_at_start",
            "_at_end",
            "scroll_y",
        )
    } | {"win": len(tl._win), "workers": [w.name for w in app.workers]}


def _settled(tl) -> bool:
    return (
        tl.query_ is not None
        and not tl.loading_rows
        and not tl._walking
        and tl.total_known
        and tl.current_row is not None
    )


async def measure(
    db_path: Path, size: tuple[int, int], migrate: bool = True, repeat: int = 5, first: dict[str, float] | None = None
) -> dict[str, float]:
    """The figures; a filter or sort change's are the median of `repeat` rounds (the first round's go
    in `first`)."""
    first = {} if first is None else first
    runs: dict[str, list[float]] = {}
    from tui_helpdesk import db
    from tui_helpdesk.config import Config
    from tui_helpdesk.services.context import Actor
    from tui_helpdesk.tui.app import HelpdeskApp

    url = f"sqlite:///{db_path}"
    t0 = time.perf_counter()
    engine = db.get_engine(url, migrate=migrate)
    actor = Actor(agent_id=1, username="agent001", is_admin=True, origin="tui")
    cfg = Config(database_url=url, data_dir=db_path.parent, config_file=db_path.parent / "none.toml")
    app = HelpdeskApp(cfg, engine, actor, poll_interval=0)
    out: dict[str, float] = {}
    async with app.run_test(size=size) as pilot:

        def tl():
            return app.screen.query_one("#tickets")

        await _until(pilot, lambda: app.screen.id == "queue" and _settled(tl()))
        out["first paint of the queue (Open view)"] = time.perf_counter() - t0
        out["  rows in the Open view"] = tl().total

        async def timed(label: str, act: Callable[[], object], repaint: bool = False) -> None:
            # Actions are called directly: Pilot's key presses wait for the whole process to go
            # idle (up to 1 s a key while a count runs in a thread), which would time Pilot.
            # `repaint`: also the first frame that shows the new list's rows (the total and the
            # sidebar counts follow it; the figure after it is when they are in).
            frames: list[float] = []
            cpus: list[float] = []
            display = app._display
            before = tl().query_

            def frame(screen, renderable) -> None:
                display(screen, renderable)
                t = tl()
                if (renderable is not None and not frames and t.query_ is not before and not t.loading_rows
                        and t.current_row is not None):
                    frames.append(time.perf_counter())
                    cpus.append(time.process_time())

            if repaint:
                app._display = frame
            start, cpu = time.perf_counter(), time.process_time()
            act()
            await asyncio.sleep(0)
            await _until(pilot, lambda: _settled(tl()) and not tl()._loading_fwd and not tl()._loading_back)
            end, end_cpu = time.perf_counter(), time.process_time()
            if repaint:
                await _until(pilot, lambda: bool(frames))  # settled before its rows were drawn
            app._display = display
            # CPU: the whole process's (the app's thread workers too), steadier than wall on a shared machine
            if repaint:
                runs.setdefault(f"{label}: rows repainted", []).append(frames[0] - start)
                runs.setdefault(f"  CPU to the rows repainted, ms ({label})", []).append((cpus[0] - cpu) * 1000)
                runs.setdefault(f"{label}: total known", []).append(end - start)
            else:
                out[label] = end - start
                out[f"  CPU, ms ({label})"] = (end_cpu - cpu) * 1000

        screen = app.screen

        def set_filter(text: str) -> Callable[[], None]:
            def run() -> None:
                screen.filter_text = text
                screen.apply_query()
                tl().total_known = False  # settled again only when the new list is counted

            return run

        await timed("page down", lambda: tl().action_page_down())
        await timed("page down x10", lambda: [tl().action_page_down() for _ in range(10)])
        await timed("jump to end (G)", lambda: tl().action_last())
        await timed("back to top (g)", lambda: tl().action_first())
        # The same three changes `repeat` times (the sort returns to where it was each round): the first
        # round reads cold pages and builds statements for the first time; the figures are the medians.
        for _ in range(repeat):
            await timed("filter change (/prio:high)", set_filter("prio:high"), repaint=True)
            await timed(
                "sort change (o: newest)",
                lambda: (screen.action_cycle_sort(), setattr(tl(), "total_known", False)),
                repaint=True,
            )
            await timed("filter cleared (Esc)", set_filter(""), repaint=True)
            if repeat > 1:
                while screen.sort != "updated":
                    screen.action_cycle_sort()
                tl().total_known = False
                await _until(pilot, lambda: _settled(tl()))
        screen.choose_view("builtin:all")
        tl().total_known = False
        await _until(pilot, lambda: _settled(tl()))
        out["  rows in the All view"] = tl().total
        await timed("All view: jump to end (G)", lambda: tl().action_last())
        await timed("All view: page up from the end", lambda: tl().action_page_up())
        await timed(
            "All view: sort change (o: oldest)",
            lambda: (screen.action_cycle_sort(), setattr(tl(), "total_known", False)),
            repaint=True,
        )
        await app.workers.wait_for_complete()
    for label, values in runs.items():
        out[label] = statistics.median(values)
        if len(values) > 1:
            first[label] = values[0]
    out["peak RSS (MB)"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


async def floor(size: tuple[int, int], runs: int = 5) -> tuple[float, float]:
    """A bare Textual app: a Static's text changed, until the frame that shows it (median of `runs`)."""
    from textual.app import App
    from textual.widgets import Static

    class Bare(App[None]):
        def compose(self):
            yield Static("one", id="one")

    times: list[float] = []
    cpus: list[float] = []
    app = Bare()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        display = app._display
        for n in range(runs):
            frames: list[float] = []

            def frame(screen, renderable, frames: list[float] = frames) -> None:
                display(screen, renderable)
                if renderable is not None and not frames:
                    frames.append(time.perf_counter())

            app._display = frame
            start, cpu = time.perf_counter(), time.process_time()
            app.query_one("#one", Static).update(f"changed {n}")
            while not frames:
                await asyncio.sleep(0.001)
            times.append(frames[0] - start)
            cpus.append(time.process_time() - cpu)
            app._display = display
    return sorted(times)[len(times) // 2], sorted(cpus)[len(cpus) // 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1_000_000)
    parser.add_argument("--db", default=None, help="SQLite file (built if missing)")
    parser.add_argument("--size", default="120x36")
    parser.add_argument("--repeat", type=int, default=5, help="rounds of the filter and sort changes (median)")
    parser.add_argument("--no-migrate", action="store_true",
                        help="open the desk as it is (a 1M copy at an older revision: a re-indexing migration "
                        "there takes most of an hour)")
    args = parser.parse_args(argv)
    path = Path(args.db or HERE / f"app_queue_{args.n}.db")
    if not path.exists():
        from build_dataset import build

        from tui_helpdesk.db import get_engine

        t = time.perf_counter()
        build(get_engine(f"sqlite:///{path}"), args.n, 1, now=datetime(2025, 6, 1, 12, 0, tzinfo=UTC))
        print(f"built {args.n:,} tickets in {time.perf_counter() - t:.1f} s")
        from tui_helpdesk.db import dispose_all

        dispose_all()
    w, h = (int(x) for x in args.size.split("x"))
    floor_s, floor_cpu = asyncio.run(floor((w, h)))
    first: dict[str, float] = {}
    figures = asyncio.run(measure(path, (w, h), migrate=not args.no_migrate, repeat=args.repeat, first=first))
    print(f"app on {args.n:,} tickets ({path.name}, {w}x{h}); a filter or sort change: median of {args.repeat} "
          "rounds [the first round's in brackets]")
    print(f"{'floor: bare app, a Static changed':40s} {floor_s * 1000:>8.1f} ms (CPU {floor_cpu * 1000:.1f} ms)")
    for label, value in figures.items():
        was = f"  [{first[label]:.0f}]" if label in first and label.startswith("  CPU") else ""
        if label.startswith("  CPU"):
            print(f"{label:40s} {value:>8.0f} ms{was}")
        elif label.startswith("  ") or "RSS" in label:
            print(f"{label:40s} {value:>10,.0f}")
        else:
            print(f"{label:40s} {value * 1000:>8.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
