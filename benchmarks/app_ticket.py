"""Time opening a ticket in the app: open to first paint for tickets of 5, 500 and 5,000 entries.

    .venv/bin/python benchmarks/app_ticket.py [--db PATH] [--runs 5] [--size 120x36] [--ids 10000,...]

Builds a small desk (kept for later runs) whose tickets have 5, 500 and 5,000 thread entries of
Markdown of varied length, then drives a headless app (Pilot) that pushes the real TicketScreen and
times until the first frame that shows the thread (the selected entry drawn). The floor is a bare
Textual app pushing a screen with one Static, timed the same way in the same run. Figures are
medians of `--runs`. `--db` and `--ids` open given tickets of an existing desk (the 1M one) instead.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import random
import resource
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZES = (5, 500, 5000)
WORDS = (
    "the vpn client drops every hour since monday printer queue invoice refund password reset "
    "please could you send log file attached server restart again thanks regards kind error"
).split()


def _body(rnd: random.Random, n: int) -> str:
    paras = []
    for _ in range(rnd.randint(1, 4)):
        words = [rnd.choice(WORDS) for _ in range(rnd.randint(5, 60))]
        if rnd.random() < 0.3:
            words[0] = f"**{words[0]}**"
        paras.append(" ".join(words))
    if rnd.random() < 0.3:
        paras.append("- one item\n- another item")
    return f"Entry {n}.\n\n" + "\n\n".join(paras)


def build(path: Path) -> dict[int, int]:
    """{entries: ticket id}: one ticket per size in SIZES."""
    from sqlalchemy import insert, text

    from tui_helpdesk import clock, db
    from tui_helpdesk.models import TicketEntry, TicketEvent
    from tui_helpdesk.services import setup, tickets
    from tui_helpdesk.services.context import Actor, transaction

    clock.set_now("2025-06-01T12:00:00Z")
    engine = db.get_engine(f"sqlite:///{path}")
    with db.session_scope(engine) as s:
        setup.create_first_admin(s, "root", "Root Admin", "root@example.com")
    mail = Actor(None, "mail", True, "mail")
    rnd = random.Random(1)
    ids: dict[int, int] = {}
    start = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)  # after the first message
    for size in SIZES:
        with transaction(engine, mail) as tx:
            t = tickets.create(
                tx, subject=f"A ticket of {size} entries", department="Support",
                contact_email="alice@example.com", contact_name="Alice", body=_body(rnd, 0), source="email",
            )
        rows, events = [], []
        for n in range(1, size):
            kind = rnd.choice(("message", "reply", "reply", "note"))
            at = start + timedelta(minutes=10 * n)
            rows.append({
                "ticket_id": t.id, "kind": kind, "agent_id": None if kind == "message" else 1,
                "contact_id": None, "body": _body(rnd, n), "body_format": "markdown", "recipients": {},
                "time_spent": 0, "created_at": at,
            })
            if n % 5 == 0:
                events.append({"ticket_id": t.id, "kind": "status", "agent_id": 1,
                               "data": {"old": "Open", "new": "Pending"}, "created_at": at})
        with db.session_scope(engine) as s:
            # The search index keeps one document per ticket, rebuilt by a trigger on each entry:
            # 5,000 inserts into one ticket would rebuild it 5,000 times. Set the trigger aside and
            # have the ticket's own update trigger rebuild the document once.
            found = s.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                   "AND tbl_name = 'ticket_entry' AND sql LIKE '%AFTER INSERT%'")).all()
            for name, _ in found:
                s.execute(text(f"DROP TRIGGER {name}"))
            if rows:
                s.execute(insert(TicketEntry), rows)
            if events:
                s.execute(insert(TicketEvent), events)
            for _, sql in found:
                s.execute(text(sql))
            s.execute(text("UPDATE ticket SET subject = subject WHERE id = :id"), {"id": t.id})
        ids[size] = t.id
    clock.set_now(None)
    db.dispose_all()
    return ids


async def _open(app_factory, ready, size: tuple[int, int]) -> tuple[float, float]:
    """(wall, CPU) seconds from the push until the first frame drawn once `ready(app)` holds.

    The end is the frame itself (the compositor's update handed to the driver), not Pilot's pause,
    which waits for the whole process to go idle, background workers and all."""
    app = app_factory()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        return await _timed(app, app.open_it, ready)


def _bare_factory():
    from textual.app import App
    from textual.screen import Screen
    from textual.widgets import Static

    class One(Screen):
        def compose(self):
            yield Static("one static", id="one")

    class Bare(App[None]):
        def open_it(self) -> None:
            self.push_screen(One())

    return Bare()


def _ticket_factory(path: Path, ticket_id: int):
    from textual.app import App

    from tui_helpdesk import db
    from tui_helpdesk.config import Config
    from tui_helpdesk.services.context import Actor
    from tui_helpdesk.tui.context import AppContext
    from tui_helpdesk.tui.screens.ticket import TicketScreen

    url = f"sqlite:///{path}"
    engine = db.get_engine(url, migrate=False)
    actor = Actor(agent_id=1, username="root", is_admin=True, origin="tui")
    cfg = Config(database_url=url, data_dir=path.parent, config_file=path.parent / "none.toml")

    class Host(App[None]):
        def __init__(self) -> None:
            super().__init__()
            self.ctx = AppContext(engine, actor, cfg)

        def open_it(self) -> None:
            self.push_screen(TicketScreen(ticket_id))

    return Host()


async def _from_queue(path: Path, ticket_id: int, size: tuple[int, int]) -> tuple[float, float, float, float]:
    """The real app: Enter on the queue's row opens the ticket; (wall, CPU) of the first open in the app
    (its stylesheet read then) and of a later open after going back."""
    from tui_helpdesk import db
    from tui_helpdesk.config import Config
    from tui_helpdesk.services.context import Actor
    from tui_helpdesk.tui.app import HelpdeskApp

    url = f"sqlite:///{path}"
    cfg = Config(database_url=url, data_dir=path.parent, config_file=path.parent / "none.toml")
    actor = Actor(agent_id=1, username="root", is_admin=True, origin="tui")
    app = HelpdeskApp(cfg, db.get_engine(url, migrate=False), actor, poll_interval=0)
    out: list[float] = []
    async with app.run_test(size=size) as pilot:
        while app.screen.id != "queue" or app.screen.query_one("#tickets").current_row is None:
            await asyncio.sleep(0.005)
        queue = app.screen
        for _ in range(2):
            await pilot.pause()
            out += await _timed(app, lambda: queue.open_ticket(ticket_id), _ticket_ready)
            app.screen.dismiss(None)
            while app.screen is not queue:
                await asyncio.sleep(0.005)
    return out[0], out[1], out[2], out[3]


async def _timed(app, act, ready) -> tuple[float, float]:
    done: list[float] = []
    display = app._display

    def frame(screen, renderable) -> None:
        display(screen, renderable)
        if renderable is not None and not done and ready(app):
            done.append(time.perf_counter())

    app._display = frame  # type: ignore[method-assign]
    start, cpu = time.perf_counter(), time.process_time()
    act()
    while not done:
        await asyncio.sleep(0.001)
    cpu = time.process_time() - cpu
    app._display = display  # type: ignore[method-assign]
    return done[0] - start, cpu


def _ticket_ready(app) -> bool:
    from tui_helpdesk.tui.screens.ticket import TicketScreen
    from tui_helpdesk.tui.widgets.thread import ThreadView

    screen = app.screen
    if not isinstance(screen, TicketScreen) or screen.detail is None:
        return False
    return screen.query_one(ThreadView).painted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(HERE / "app_ticket.db"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", default="120x36")
    parser.add_argument("--ids", default="", help="ticket ids to open on an existing desk (e.g. the 1M one)")
    args = parser.parse_args(argv)
    path = Path(args.db)
    if not path.exists():
        if args.ids:
            parser.error(f"{path} does not exist")
        t = time.perf_counter()
        build(path)
        print(f"built {path.name} in {time.perf_counter() - t:.1f} s")
    from sqlalchemy import func, select

    from tui_helpdesk import db
    from tui_helpdesk.models import Ticket, TicketEntry

    with db.session_scope(db.get_engine(f"sqlite:///{path}", migrate=False), write=False) as s:
        if args.ids:
            ids = {
                s.scalar(select(func.count()).where(TicketEntry.ticket_id == int(i))) or 0: int(i)
                for i in args.ids.split(",")
            }
        else:
            found = dict(s.execute(select(Ticket.subject, Ticket.id)).all())
            ids = {n: found[f"A ticket of {n} entries"] for n in SIZES}
    db.dispose_all()
    w, h = (int(x) for x in args.size.split("x"))

    def median(factory, ready) -> tuple[float, float]:
        runs = [asyncio.run(_open(factory, ready, (w, h))) for _ in range(args.runs)]
        return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)

    floor, floor_cpu = median(
        _bare_factory, lambda app: app.screen.query("#one") and app.screen.query_one("#one").size.width
    )
    print(f"open to first paint, median of {args.runs} ({w}x{h}, {path.name}); CPU: the process's, same span")
    print(f"{'floor: bare app, one Static':46s} {floor * 1000:8.1f} ms   CPU {floor_cpu * 1000:6.1f} ms")
    for n, ticket_id in ids.items():
        value, cpu = median(functools.partial(_ticket_factory, path, ticket_id), _ticket_ready)
        print(f"{f'ticket of {n:,} entries (id {ticket_id})':46s} {value * 1000:8.1f} ms   CPU {cpu * 1000:6.1f} ms"
              f"  ({value / floor:.1f}x floor)")
    n, ticket_id = max(ids.items())
    runs = [asyncio.run(_from_queue(path, ticket_id, (w, h))) for _ in range(args.runs)]
    for label, k in (("first open in the app", 0), ("a later open", 2)):
        value, cpu = statistics.median(r[k] for r in runs), statistics.median(r[k + 1] for r in runs)
        print(f"{f'from the queue, {n:,} entries: {label}':46s} {value * 1000:8.1f} ms   CPU {cpu * 1000:6.1f} ms"
              f"  ({value / floor:.1f}x floor)")
    print(f"{'peak RSS (MB)':46s} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:8.0f}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    raise SystemExit(main())
