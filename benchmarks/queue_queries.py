"""Time the queue's queries on a built data set: `python benchmarks/queue_queries.py [PATH|URL]`.

Build the data first with benchmarks/build_dataset.py. Each figure is the median of --runs runs, in
milliseconds, for a page of 50 rows (the scan, then the name joins for those rows). Each read runs in its
own read transaction of an actor, as the app's are: an admin (every ticket) unless the label names the
agent's scope (their primary department or their own tickets, added by services/visibility.py).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from tui_helpdesk.db import get_engine
from tui_helpdesk.models import Agent, Tag, Ticket
from tui_helpdesk.services import queries
from tui_helpdesk.services.context import Actor, reading
from tui_helpdesk.services.queries import SORTS, TicketQuery

PAGE = 50
ADMIN = Actor(agent_id=None, username="bench", is_admin=True)


def _as(engine: Engine, actor: Actor, fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn(tx, ...)` run in a read transaction of `actor`, as the app and the CLI run it."""

    def call(*args: Any, **kwargs: Any) -> Any:
        with reading(engine, actor) as tx:
            return fn(tx, *args, **kwargs)

    return call


def _median_ms(fn: Callable[[], Any], runs: int) -> float:
    fn()  # warm the page cache and SQLAlchemy's statement cache
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def _deep_cursor(engine: Engine, q: TicketQuery, pages: int):
    """Walk `pages` pages forward; returns the cursor there and the mean time per page."""
    fetch_page = _as(engine, ADMIN, queries.fetch_page)
    page = fetch_page(q, None, PAGE)
    t0 = time.perf_counter()
    walked = 1
    while walked < pages and not page.at_end:
        page = fetch_page(q, page.next, PAGE)
        walked += 1
    return page.prev, (time.perf_counter() - t0) * 1000 / max(walked - 1, 1), walked


def run(engine: Engine, runs: int, deep_pages: int) -> list[tuple[str, float]]:
    results: list[tuple[str, float]] = []

    def bench(label: str, fn: Callable[[], Any]) -> None:
        ms = _median_ms(fn, runs)
        results.append((label, ms))
        print(f"{label:<48} {ms:9.2f} ms", flush=True)

    with engine.connect() as conn:
        tag_id = conn.execute(select(Tag.__table__.c.id).where(Tag.__table__.c.name == "vpn")).scalar_one()
        a = Agent.__table__.c
        agent = conn.execute(select(a.id, a.username, a.primary_department_id).order_by(a.id)).first()
        total = (
            conn.execute(select(Ticket.__table__.c.id).order_by(Ticket.__table__.c.id.desc()))
            .scalars()
            .first()
        )
    print(f"{total:,} tickets; page size {PAGE}; median of {runs} runs; {engine.dialect.name}")
    pk = select(Ticket.__table__).where(Ticket.__table__.c.id == total // 2)
    floor = _median_ms(_as(engine, ADMIN, lambda tx: tx.session.connection().execute(pk).all()), runs)
    results.append(("floor: one ticket by primary key (a read transaction)", floor))
    print(f"{'floor: one ticket by primary key':<48} {floor:9.2f} ms\n", flush=True)
    agent_id = agent.id
    scoped = Actor(agent_id=agent.id, username=agent.username)
    fetch_page = _as(engine, ADMIN, queries.fetch_page)
    fetch_last_page = _as(engine, ADMIN, queries.fetch_last_page)
    count = _as(engine, ADMIN, queries.count)
    position_of = _as(engine, ADMIN, queries.position_of)

    for sort in SORTS:
        q = TicketQuery(sort=sort)
        bench(f"first page, sort={sort}", lambda q=q: fetch_page(q, None, PAGE))
        cursor, per_page, walked = _deep_cursor(engine, q, deep_pages)
        results.append((f"paging forward, sort={sort} (mean of {walked} pages)", per_page))
        print(f"{'paging forward, sort=' + sort + f' (mean of {walked} pages)':<48} {per_page:9.2f} ms")
        bench(f"page {walked} (deep), sort={sort}", lambda q=q, c=cursor: fetch_page(q, c, PAGE))
        bench(
            f"page before page {walked}, sort={sort}",
            lambda q=q, c=cursor: fetch_page(q, c, PAGE, True),
        )
        bench(f"last page, sort={sort}", lambda q=q: fetch_last_page(q, PAGE))

    filters = {
        "state open": TicketQuery(states=("open",)),
        "state new+open+pending": TicketQuery(states=("new", "open", "pending")),
        "state open, sort=priority": TicketQuery(states=("open",), sort="priority"),
        "department 3": TicketQuery(department_ids=(3,)),
        "department 3, state open": TicketQuery(department_ids=(3,), states=("open",)),
        f"assignee {agent_id}": TicketQuery(assignee_id=agent_id),
        "unassigned, new+open": TicketQuery(unassigned=True, states=("new", "open")),
        "tag vpn": TicketQuery(tag_ids=(tag_id,)),
        "overdue": TicketQuery(overdue=True),
        "overdue, sort=due": TicketQuery(overdue=True, sort="due"),
        "text 'vpn'": TicketQuery(text="vpn"),
        "text 'no such words' (no match)": TicketQuery(text="no such words"),
        "archived only": TicketQuery(archived=True),
        "everything (archived=None)": TicketQuery(archived=None),
    }
    for label, q in filters.items():
        bench(f"first page, {label}", lambda q=q: fetch_page(q, None, PAGE))
    scope_label = f"agent scope (department {agent.primary_department_id} or own)"
    bench(
        f"first page, {scope_label}",
        lambda: _as(engine, scoped, queries.fetch_page)(TicketQuery(), None, PAGE),
    )
    bench(
        f"last page, {scope_label}", lambda: _as(engine, scoped, queries.fetch_last_page)(TicketQuery(), PAGE)
    )
    for label in ("state open", "department 3", "tag vpn", "overdue", "text 'vpn'"):
        q = filters[label]
        bench(f"last page, {label}", lambda q=q: fetch_last_page(q, PAGE))

    for label, q in {
        "all visible": TicketQuery(),
        "state open": filters["state open"],
        "state new+open+pending": filters["state new+open+pending"],
        "department 3": filters["department 3"],
        "tag vpn": filters["tag vpn"],
        "overdue": filters["overdue"],
        "text 'vpn'": filters["text 'vpn'"],
    }.items():
        bench(f"count, {label}", lambda q=q: count(q))
    bench(f"count, {scope_label}", lambda: _as(engine, scoped, queries.count)(TicketQuery()))
    q = TicketQuery()
    cursor, _, _ = _deep_cursor(engine, q, deep_pages)
    bench("position_of (deep cursor, sort=updated)", lambda: position_of(q, cursor))
    admin_agent = Actor(agent_id=agent_id, username=agent.username, is_admin=True)
    bench(
        "sidebar_counts, admin (all departments)", lambda: _as(engine, admin_agent, queries.sidebar_counts)()
    )
    bench(f"sidebar_counts, {scope_label}", lambda: _as(engine, scoped, queries.sidebar_counts)())
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "target",
        nargs="?",
        default=str(Path(__file__).parent / "bench.db"),
        help="SQLite path or database URL",
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--deep", type=int, default=1000, help="pages to walk for the deep-page figures")
    args = parser.parse_args(argv)
    url = args.target if "://" in args.target else f"sqlite:///{args.target}"
    run(get_engine(url), args.runs, args.deep)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
