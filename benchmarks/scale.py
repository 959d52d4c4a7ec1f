"""Issue 11's database-side figures on a big desk: `python benchmarks/scale.py PATH_OR_URL [--runs 5]`.

Build the desk first (benchmarks/build_dataset.py: 1M tickets, 5M entries). Each figure is the median
of --runs runs, printed beside a floor measured in the same run on the same engine: a primary-key
read of one ticket for the reads, a one-row update in a write transaction for the writes, journaling
alone for ingest. Writes go to the desk (notes, replies, new tickets): use a copy you can spoil.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select, text

from tui_helpdesk import db
from tui_helpdesk.db import get_engine, is_sqlite, session_scope
from tui_helpdesk.models import Ticket, TicketEntry
from tui_helpdesk.services import inbound, notify, queries, tickets
from tui_helpdesk.services.context import Actor, reading, transaction
from tui_helpdesk.services.inbound_journal import journal

_STATEMENTS = [0]  # statements sent to the database, counted by an engine event (main)


def _median_ms(fn: Callable[[int], Any], runs: int) -> tuple[float, float, float]:
    """(wall, CPU) medians in ms, CPU being the steadier figure on a shared machine, and the statements
    a run sent."""
    times, cpus = [], []
    sent = _STATEMENTS[0]
    for i in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn(i)
        times.append((time.perf_counter() - t0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
    return statistics.median(times), statistics.median(cpus), (_STATEMENTS[0] - sent) / runs


def _row(name: str, ms: tuple[float, float, float], floor: tuple[float, float, float], target: str) -> None:
    print(f"| {name} | {ms[0]:,.1f} ms (CPU {ms[1]:,.1f}, {ms[2]:.0f} statements) "
          f"| {floor[0]:,.2f} ms (CPU {floor[1]:,.2f}) | {target} |", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="a SQLite file or a database URL")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ingest", type=int, default=200, help="messages ingested for the msg/s figure")
    parser.add_argument("--upto", help="migrate only to this revision (e.g. to leave a slow later migration out)")
    parser.add_argument("--ingest-only", action="store_true", help="only the ingest row (with its floor)")
    parser.add_argument("--no-ingest", action="store_true", help="every row but ingest")
    args = parser.parse_args(argv)
    url = args.target if "://" in args.target else f"sqlite:///{Path(args.target).resolve()}"
    t0 = time.perf_counter()
    if args.upto:
        from alembic import command

        engine = get_engine(url, migrate=False)
        command.upgrade(db.alembic_config(engine), args.upto)
        db.refresh_statistics(engine)
    else:
        engine = get_engine(url)  # migrates to head (counters, indexes) on first use
    print(f"opened (and migrated) in {time.perf_counter() - t0:.1f} s", flush=True)

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_args: Any) -> None:
        _STATEMENTS[0] += 1

    admin = Actor(agent_id=1, username="agent001", is_admin=True, origin="cli")
    agent = Actor(agent_id=2, username="agent002", origin="cli")
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(Ticket.__table__)).scalar_one()
        top = conn.execute(select(func.max(Ticket.__table__.c.id))).scalar_one()
        long_id = conn.execute(
            select(TicketEntry.ticket_id).group_by(TicketEntry.ticket_id).having(func.count() >= 500).limit(1)
        ).scalar()
        entries = conn.execute(select(func.max(TicketEntry.id))).scalar_one()
    print(f"{n:,} tickets, {entries or 0:,} entries; {engine.dialect.name}; median of {args.runs}\n", flush=True)
    with engine.connect() as conn:  # numbers of older tickets, read before any timing
        numbers = list(conn.execute(
            select(Ticket.__table__.c.number).where(Ticket.__table__.c.id < top - 10)
            .order_by(Ticket.__table__.c.id.desc()).limit(200)
        ).scalars())
    print("| step | median | floor | target |\n| --- | --- | --- | --- |")
    runs = args.runs
    if args.ingest_only:
        return _ingest_row(engine, args.ingest)

    def floor_read(i: int) -> None:
        with reading(engine, admin) as tx:
            tx.session.execute(select(Ticket.__table__.c.number).where(Ticket.__table__.c.id == top - i)).one()

    read_floor = _median_ms(floor_read, runs)

    for who, actor in (("admin", admin), ("agent", agent)):
        def due(_i: int, actor: Actor = actor) -> None:
            with reading(engine, actor) as tx:
                queries.fetch_page(tx, queries.sidebar_query("open", actor.agent_id, "due"), None, 50)

        _row(f"due sort on the Open view ({who})", _median_ms(due, runs), read_floor, "<= 50 ms")

        def sidebar(_i: int, actor: Actor = actor) -> None:
            with reading(engine, actor) as tx:
                queries.sidebar_counts(tx)

        _row(f"sidebar counts ({who})", _median_ms(sidebar, runs), read_floor, "<= 5 ms")

    def open_ticket(i: int) -> None:
        with reading(engine, admin) as tx:
            tickets.view(tx, numbers[7 * i + 1])

    _row("open a ticket's data (service)", _median_ms(open_ticket, runs), read_floor, "<= 60 ms")
    if long_id is not None:
        def open_long(_i: int) -> None:
            with reading(engine, admin) as tx:
                tickets.view(tx, int(long_id))

        _row(f"open a 500-entry ticket's data (service, id {long_id})", _median_ms(open_long, runs),
             read_floor, "<= 150 ms")

    def floor_write(i: int) -> None:
        with transaction(engine, admin) as tx:
            tx.session.execute(text("UPDATE ticket SET version = version WHERE id = :id"), {"id": top - i})

    write_floor = _median_ms(floor_write, runs)
    with notify.suppressed():
        def note(i: int) -> None:
            with transaction(engine, admin) as tx:
                tickets.note(tx, numbers[11 * i + 3], f"Checked the logs, run {i}.")

        _row("a note write", _median_ms(note, runs), write_floor, "<= 20 ms")

    def reply(i: int) -> None:
        with transaction(engine, admin) as tx:
            tickets.reply(tx, numbers[13 * i + 5], f"Please try again now ({i}).")

    _row("a reply write (queues the mail)", _median_ms(reply, runs), write_floor, "<= 20 ms")
    return 0 if args.no_ingest else _ingest_row(engine, args.ingest)


def _ingest_row(engine: Any, count: int) -> int:
    # ingest: half new tickets, half replies threaded by a Message-ID of a recent customer message
    with engine.connect() as conn:
        recent = list(conn.execute(
            select(TicketEntry.message_id, TicketEntry.ticket_id)
            .where(TicketEntry.kind == "message", TicketEntry.message_id.is_not(None))
            .order_by(TicketEntry.id.desc()).limit(count)
        ))
    stamp = int(time.time())

    def message(i: int) -> bytes:
        if i % 2 and recent:
            mid, tid = recent[i % len(recent)]
            head = f"Subject: Re: [TCK-{100000 + tid}] still broken\r\nIn-Reply-To: {mid}\r\n"
            sender = f"user{i % 5000 + 1}@client0.example"
        else:
            head = f"Subject: Printer on floor {i % 9} jams ({stamp}.{i})\r\n"
            sender = f"new{stamp}.{i}@client0.example"
        return (f"From: {sender}\r\nTo: support@desk.example\r\n{head}"
                f"Message-ID: <bench.{stamp}.{i}@client0.example>\r\n\r\nIt happened again at 10:{i % 60:02d}.\r\n"
                ).encode()

    msgs = [message(i) for i in range(count)]
    t0 = time.perf_counter()
    for raw in msgs[: count // 4]:
        journal(engine, raw.replace(b"<bench.", b"<floor."))
    floor_rate = (count // 4) / (time.perf_counter() - t0)
    t0, cpu = time.perf_counter(), time.process_time()
    for raw in msgs:
        inbound.ingest_raw(engine, raw)
    rate = len(msgs) / (time.perf_counter() - t0)
    per_cpu = len(msgs) / (time.process_time() - cpu)  # what a loaded machine's wall time hides
    print(f"| ingest, journal + process (service, {len(msgs)} messages, half replies) | {rate:,.0f} msg/s "
          f"({per_cpu:,.0f} per CPU second) | journal only {floor_rate:,.0f} msg/s | >= 150 msg/s |")
    if is_sqlite(engine):
        with session_scope(engine, write=False) as s:
            plan = s.execute(text(
                "EXPLAIN QUERY PLAN SELECT ticket_id FROM ticket_entry WHERE message_id = 'x' ORDER BY id LIMIT 1"
            )).all()
        print("\nMessage-ID lookup plan:", " / ".join(str(r[-1]) for r in plan))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
