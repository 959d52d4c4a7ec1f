"""Audit viewer figures: `python benchmarks/audit.py PATH [--rows N]`.

Fills the audit log of the SQLite desk at PATH (made and migrated if new) up to N rows (default 1M:
60 agents and the system, eight actions, 30 s apart from 2025-01-01), runs ANALYZE, then prints the
median of 5 first pages (100 rows, newest first) of services/audit.list_entries for each kind of filter.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import timedelta

from sqlalchemy import text

from tui_helpdesk import clock, db
from tui_helpdesk.db import session_scope
from tui_helpdesk.services import audit, setup
from tui_helpdesk.services.context import Actor, reading

INSERT = text("INSERT INTO audit_log(at, actor, origin, action, object_type, object_id, data)"
              " VALUES (:at, :actor, :origin, :action, :object_type, :object_id, :data)")
ACTIONS = ("ticket.status", "ticket.reply", "ticket.note", "ticket.assigned", "ticket.field_edited",
           "kb.article_edited", "mailbox.edit", "ticket.overdue")


def fill(engine: object, rows: int) -> None:
    with engine.begin() as conn:  # type: ignore[attr-defined]
        have = int(conn.execute(text("SELECT count(*) FROM audit_log")).scalar())
        rnd = random.Random(1)
        actors = [f"agent{i}" for i in range(60)] + ["system"] * 20
        start = clock.parse_iso("2025-01-01T00:00:00Z")
        batch: list[dict[str, object]] = []
        for i in range(have, rows):
            batch.append({"at": (start + timedelta(seconds=30 * i)).isoformat(sep=" "), "actor": rnd.choice(actors),
                          "origin": "cli", "action": rnd.choice(ACTIONS), "object_type": "ticket",
                          "object_id": rnd.randrange(1, 200_000),
                          "data": json.dumps({"field": "x", "old": "a", "new": "b"})})
            if len(batch) == 20_000:
                conn.execute(INSERT, batch)
                batch = []
        if batch:
            conn.execute(INSERT, batch)
        conn.execute(text("ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path")
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    engine = db.get_engine(f"sqlite:///{args.path}")
    with session_scope(engine) as s:
        setup.ensure_defaults(s)
    fill(engine, args.rows)
    june = clock.parse_iso("2025-06-01T00:00:00Z")
    cases = {
        "newest page": audit.AuditFilter(),
        "who": audit.AuditFilter(who="agent7"),
        "action": audit.AuditFilter(action="kb.article_edited"),
        "action prefix ticket.*": audit.AuditFilter(action="ticket.*"),
        "object ticket:4242": audit.AuditFilter(object="ticket:4242"),
        "one day (since+until)": audit.AuditFilter(since=june, until=june + timedelta(days=1)),
        "who + action + since": audit.AuditFilter(who="agent7", action="ticket.status", since=june),
    }
    for name, f in cases.items():
        times = []
        for _ in range(5):
            started = time.perf_counter()
            with reading(engine, Actor.system("cli")) as tx:
                audit.list_entries(tx, f, limit=100)
            times.append((time.perf_counter() - started) * 1000)
        print(f"{name:26s} {statistics.median(times):8.1f} ms")


if __name__ == "__main__":
    main()
