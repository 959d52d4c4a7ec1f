"""Times every dashboard figure (services/reports.py) for 30 days on a large desk.

    python benchmarks/reports.py PATH [--prepare] [--runs 5]

PATH is a COPY of a SQLite file made by build_dataset.py (never the shared one: --prepare writes to it).
`--prepare`, before the desk is migrated past 0018, gives the data set what build_dataset.py leaves out
and the reports read: first_response_at (the first reply), resolved_at/closed_at/status_changed_at
(the last update of a done ticket); the migration to head then builds the facts from them (0019), and
time entries are added for a fifth of the tickets. Each figure is the median of `--runs` runs in its own
read transaction, as an admin and as the data set's first agent (their scope added), beside a floor
(one ticket by primary key). The period is the 30 days to --now (the data set's pinned clock).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine, text

SHARED = "/work/team/bench/h6_1m.db"


def median_ms(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def prepare(path: str) -> None:
    raw = create_engine(f"sqlite:///{path}")
    t0 = time.perf_counter()
    with raw.begin() as conn:
        conn.execute(text(
            "UPDATE ticket SET first_response_at = (SELECT min(e.created_at) FROM ticket_entry e "
            "WHERE e.ticket_id = ticket.id AND e.kind = 'reply')"))
        conn.execute(text(
            "UPDATE ticket SET status_changed_at = updated_at, "
            "resolved_at = CASE WHEN state IN ('resolved', 'closed') THEN updated_at END, "
            "closed_at = CASE WHEN state = 'closed' THEN updated_at END"))
    print(f"prepared timestamps in {time.perf_counter() - t0:.1f} s")
    from tui_helpdesk import db

    t0 = time.perf_counter()
    engine = db.get_engine(f"sqlite:///{path}")  # migrates to head: 0019 builds the facts
    print(f"migrated (facts built) in {time.perf_counter() - t0:.1f} s")
    rng = random.Random(7)
    with engine.begin() as conn:
        tickets = conn.execute(text("SELECT id, assignee_id, created_at FROM ticket WHERE assignee_id IS NOT NULL "
                                    "AND id % 5 = 0")).all()
        rows = [{"t": t, "a": a, "m": rng.choice((15, 30, 45, 60, 90)), "c": c, "d": str(c)[:10]}
                for t, a, c in tickets]
        conn.execute(text("INSERT INTO time_entry (ticket_id, agent_id, minutes, billable, note, created_at, "
                          "work_date, version) VALUES (:t, :a, :m, 1, '', :c, :d, 1)"), rows)
    print(f"added {len(rows):,} time entries")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--prepare", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    # build_dataset.py pins its clock here; tickets a later ingest benchmark added carry the real date
    parser.add_argument("--now", default="2025-06-01T12:00:00Z", help="the end of the 30 days")
    args = parser.parse_args(argv)
    if args.prepare:
        if args.path == SHARED:
            print("refusing to write the shared data set: copy it first", file=sys.stderr)
            return 2
        prepare(args.path)
    from tui_helpdesk import clock, db
    from tui_helpdesk.services import reports
    from tui_helpdesk.services.context import Actor, reading

    engine = db.get_engine(f"sqlite:///{args.path}")
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM ticket")).scalar_one()
        facts = conn.execute(text("SELECT count(*) FROM report_fact")).scalar_one()
        agent = conn.execute(text("SELECT id, username FROM agent WHERE is_admin = 0 ORDER BY id LIMIT 1")).one()
    now = clock.parse_iso(args.now)
    clock.set_now(now)
    period = reports.period("30d", now=now)
    actors = {"admin": Actor.system("cli"), "agent": Actor(agent_id=agent[0], username=agent[1])}
    with reading(engine, actors["admin"]) as tx:
        total = reports.report(tx, period).total
    print(f"{n:,} tickets, {facts:,} facts; sqlite; 30 days to {period.last} ({total.created:,} created, "
          f"{total.closed:,} closed, {total.replies:,} replies, backlog now {total.backlog:,}); median of {args.runs}\n")

    def run(actor: Actor, fn: Callable[[Any], Any]) -> Callable[[], Any]:
        def go() -> Any:
            with reading(engine, actor) as tx:
                return fn(tx)
        return go

    floor = median_ms(run(actors["admin"], lambda tx: tx.session.execute(text("SELECT * FROM ticket WHERE id = 1")).all()),
                      args.runs)
    figures: list[tuple[str, Callable[[Any], Any]]] = [
        ("created/closed/reopened, total", lambda tx: reports.counts(tx, period)),
        ("created/closed/reopened by department", lambda tx: reports.counts(tx, period, "department")),
        ("created/closed/reopened by organization", lambda tx: reports.counts(tx, period, "organization")),
        ("backlog and overdue now by agent", lambda tx: reports.backlog_now(tx, "agent")),
        ("backlog and overdue now by organization", lambda tx: reports.backlog_now(tx, "organization")),
        ("backlog per day + created/closed per day", lambda tx: reports.daily(tx, period)),
        ("first response/resolution median+p90, SLA, by priority", lambda tx: reports.durations(tx, period, "priority")),
        ("first response/resolution median+p90, SLA, by agent", lambda tx: reports.durations(tx, period, "agent")),
        ("replies per agent", lambda tx: reports.replies(tx, period, "agent")),
        ("time logged per agent", lambda tx: reports.time_logged(tx, period, "agent")),
        ("time logged per organization", lambda tx: reports.time_logged(tx, period, "organization")),
        ("the whole F3 screen (report by department + days)", lambda tx: reports.report(tx, period, "department",
                                                                                        with_days=True)),
        ("the whole F3 screen by topic", lambda tx: reports.report(tx, period, "topic", with_days=True)),
    ]
    print("| figure (30 days) | admin | agent | floor | target |")
    print("| --- | --- | --- | --- | --- |")
    for name, fn in figures:
        a = median_ms(run(actors["admin"], fn), args.runs)
        g = median_ms(run(actors["agent"], fn), args.runs)
        print(f"| {name} | {a:.1f} ms | {g:.1f} ms | {floor:.2f} ms | < 1000 ms |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
