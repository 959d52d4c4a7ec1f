"""Build a large synthetic help desk for benchmarks: `python benchmarks/build_dataset.py [PATH] [-n N]`.

The spread aims at a real desk a few years in: most tickets closed or resolved, the open ones recent,
ids increasing with created_at. `build(engine, n, seed)` is importable so other benchmarks reuse it.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, text

from tui_helpdesk import clock
from tui_helpdesk.db import get_engine, is_sqlite
from tui_helpdesk.models import (
    Agent,
    Contact,
    Department,
    HelpTopic,
    Organization,
    Priority,
    Status,
    Tag,
    Team,
    Ticket,
    TicketEntry,
    TicketTag,
)

DEPARTMENTS = [
    ("Support", 30),
    ("Billing", 12),
    ("Network", 14),
    ("Field Ops", 8),
    ("Accounts", 10),
    ("Security", 6),
    ("Facilities", 8),
    ("Sales", 12),
]
# (name, state, colour, weight among old tickets, weight among tickets of the last 60 days)
STATUSES = [
    ("New", "new", "cyan", 0.002, 0.15),
    ("Open", "open", "green", 0.06, 0.42),
    ("Awaiting customer", "pending", "yellow", 0.008, 0.13),
    ("Resolved", "resolved", "blue", 0.16, 0.20),
    ("Closed", "closed", "grey50", 0.77, 0.10),
]
PRIORITIES = [
    ("Low", 1, "grey50", 20),
    ("Normal", 2, "white", 60),
    ("High", 3, "orange1", 15),
    ("Emergency", 4, "red", 5),
]
ISSUES = [
    "Cannot log in",
    "VPN drops",
    "Printer jam",
    "Invoice missing",
    "Password reset",
    "Email bounce",
    "Slow network",
    "Laptop will not boot",
    "Refund request",
    "Access to shared drive",
    "Phone line dead",
    "New starter account",
    "Licence renewal",
    "Wi-Fi keeps dropping",
    "Monitor flickers",
    "Calendar sync fails",
    "Quote for upgrade",
    "Door badge not working",
    "Server room too warm",
    "Suspicious email",
]
DETAILS = [
    "",
    "",
    "",
    " (urgent)",
    " again",
    " since Monday",
    " after update",
    " for the team",
    " on site",
    " - follow up",
]
TAGS = [f"tag{i:02d}" for i in range(40)]
TAGS[:8] = ["vpn", "billing", "hardware", "outage", "vip", "onboarding", "phishing", "printer"]

BATCH = 50_000


def _insert(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), BATCH):
        conn.execute(insert(table), rows[i : i + BATCH])


def _reference_data(conn: Connection, rng: random.Random, now: datetime) -> dict[str, Any]:
    _insert(
        conn,
        Department.__table__,
        [
            {"id": i + 1, "name": n, "signature": "", "created_at": now}
            for i, (n, _) in enumerate(DEPARTMENTS)
        ],
    )
    _insert(
        conn,
        Status.__table__,
        [
            {"id": i + 1, "name": n, "state": s, "color": c, "sort_order": i, "is_default": True}
            for i, (n, s, c, *_) in enumerate(STATUSES)
        ],
    )
    _insert(
        conn,
        Priority.__table__,
        [
            {"id": i + 1, "name": n, "rank": r, "color": c, "is_default": n == "Normal"}
            for i, (n, r, c, _) in enumerate(PRIORITIES)
        ],
    )
    _insert(conn, Team.__table__, [{"id": i + 1, "name": f"Team {i + 1}"} for i in range(10)])
    agents = []
    dept_agents: dict[int, list[int]] = {i + 1: [] for i in range(len(DEPARTMENTS))}
    dept_weights = [w for _, w in DEPARTMENTS]
    for i in range(1, 201):
        dept = rng.choices(range(1, len(DEPARTMENTS) + 1), dept_weights)[0]
        dept_agents[dept].append(i)
        agents.append(
            {
                "id": i,
                "username": f"agent{i:03d}",
                "name": f"Agent {i:03d}",
                "email": f"agent{i:03d}@desk.example",
                "primary_department_id": dept,
                "signature": "",
                "created_at": now,
            }
        )
    _insert(conn, Agent.__table__, agents)
    _insert(
        conn,
        Organization.__table__,
        [{"id": i, "name": f"Org {i:03d}", "notes": "", "created_at": now} for i in range(1, 301)],
    )
    contacts = []
    contact_org: list[int | None] = [None]
    for i in range(1, 5001):
        org = rng.randint(1, 300) if rng.random() < 0.85 else None
        contact_org.append(org)
        contacts.append(
            {
                "id": i,
                "email": f"user{i}@client{org or 0}.example",
                "name": f"User {i}",
                "organization_id": org,
                "created_at": now,
            }
        )
    _insert(conn, Contact.__table__, contacts)
    _insert(
        conn,
        HelpTopic.__table__,
        [{"id": i, "name": f"Topic {i}", "department_id": (i % len(DEPARTMENTS)) + 1} for i in range(1, 21)],
    )
    _insert(conn, Tag.__table__, [{"id": i + 1, "name": n} for i, n in enumerate(TAGS)])
    return {"dept_agents": dept_agents, "contact_org": contact_org}


def build(
    engine: Engine, n: int = 1_000_000, seed: int = 1, entries: float = 0.0, now: datetime | None = None
) -> None:
    """Fill an empty, migrated database with n tickets (and thread entries for a fraction `entries`)."""
    rng = random.Random(seed)
    now = now or clock.now()
    start = now - timedelta(days=3 * 365)
    span = (now - start).total_seconds()
    table = Ticket.__table__
    with engine.begin() as conn:
        ref = _reference_data(conn, rng, now)
        # Loading without the secondary indexes and building them once at the end is several times faster.
        indexes = [ix for ix in table.indexes]
        for ix in indexes:
            ix.drop(conn)

        offsets = sorted(rng.random() * span for _ in range(n))
        dept_ids = list(range(1, len(DEPARTMENTS) + 1))
        depts = rng.choices(dept_ids, [w for _, w in DEPARTMENTS], k=n)
        prios = rng.choices(range(len(PRIORITIES)), [p[3] for p in PRIORITIES], k=n)
        recent_cut = span - 60 * 86400
        old_w = [s[3] for s in STATUSES]
        new_w = [s[4] for s in STATUSES]
        rows: list[dict[str, Any]] = []
        tags: list[dict[str, Any]] = []
        entry_rows: list[dict[str, Any]] = []
        for i in range(n):
            tid = i + 1
            created = start + timedelta(seconds=int(offsets[i]))
            st = rng.choices(range(5), new_w if offsets[i] > recent_cut else old_w)[0]
            state = STATUSES[st][1]
            active = state in ("new", "open", "pending")
            age = (now - created).total_seconds()
            if active:
                updated = created + timedelta(seconds=int(rng.random() * min(age, 14 * 86400)))
            else:
                updated = created + timedelta(seconds=int(rng.random() * min(age, 20 * 86400)))
            if updated > now:
                updated = now
            dept = depts[i]
            contact = rng.randint(1, 5000)
            assignee = (
                None
                if (state == "new" and rng.random() < 0.8) or rng.random() < 0.06
                else rng.choice(ref["dept_agents"][dept] or [1])
            )
            due = created + timedelta(hours=rng.choice((8, 24, 48, 72))) if rng.random() < 0.6 else None
            overdue = False
            if active and rng.random() < 0.2:
                overdue = True
                due = now - timedelta(hours=rng.randint(1, 240))
            elif active and due is not None and due < now:
                due = now + timedelta(hours=rng.randint(1, 96))
            archived = not active and offsets[i] < span * 0.6 and rng.random() < 0.033
            merged_into = None
            if not archived and not active and tid > 1 and rng.random() < 0.005:
                merged_into = rng.randint(max(1, tid - 5000), tid - 1)  # a recent earlier ticket
            pr = PRIORITIES[prios[i]]
            rows.append(
                {
                    "id": tid,
                    "number": f"TCK-{100000 + tid}",
                    "subject": rng.choice(ISSUES) + rng.choice(DETAILS),
                    "contact_id": contact,
                    "organization_id": ref["contact_org"][contact],
                    "department_id": dept,
                    "topic_id": rng.randint(1, 20) if rng.random() < 0.7 else None,
                    "priority_id": prios[i] + 1,
                    "priority_rank": pr[1],
                    "status_id": st + 1,
                    "state": state,
                    "assignee_id": assignee,
                    "team_id": rng.randint(1, 10) if rng.random() < 0.2 else None,
                    "due_at": due,
                    "is_overdue": overdue,
                    "source": "email",
                    "archived": archived,
                    "merged_into_id": merged_into,
                    "visible": not archived and merged_into is None,
                    "reopened": rng.random() < 0.03,
                    "resolution_notes": "",
                    "custom_fields": {},
                    "created_at": created,
                    "updated_at": updated,
                    "version": 1,
                }
            )
            if rng.random() < 0.2:
                for tag in rng.sample(range(1, len(TAGS) + 1), rng.choice((1, 1, 1, 2, 3))):
                    tags.append({"ticket_id": tid, "tag_id": tag})
            if entries and rng.random() < entries:
                for k in range(rng.randint(1, 4)):
                    entry_rows.append(
                        {
                            "ticket_id": tid,
                            "kind": "message" if k % 2 == 0 else "reply",
                            "contact_id": contact if k % 2 == 0 else None,
                            "agent_id": assignee if k % 2 else None,
                            "body": "Hello,\n\nThe problem is still there.\n\nThanks"
                            if k % 2 == 0
                            else "Please try again now.",
                            "recipients": {},
                            "created_at": created + timedelta(minutes=30 * k),
                        }
                    )
            if len(rows) >= BATCH:
                _insert(conn, table, rows)
                rows.clear()
        _insert(conn, table, rows)
        _insert(conn, TicketTag.__table__, tags)
        _insert(conn, TicketEntry.__table__, entry_rows)
        for ix in indexes:
            ix.create(conn)
        if not is_sqlite(engine):
            conn.execute(text("SELECT setval(pg_get_serial_sequence('ticket', 'id'), :n)"), {"n": max(n, 1)})
    # Fresh statistics for the planner; on PostgreSQL, VACUUM also sets the visibility map, without
    # which an index-only scan still visits the table for every row.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE" if is_sqlite(engine) else "VACUUM ANALYZE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=str(Path(__file__).parent / "bench.db"))
    parser.add_argument("-n", type=int, default=1_000_000, help="number of tickets (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--entries", type=float, default=0.0, help="fraction of tickets given a thread (e.g. 0.01)"
    )
    parser.add_argument("--force", action="store_true", help="replace an existing file")
    args = parser.parse_args(argv)
    path = Path(args.path)
    if path.exists():
        if not args.force:
            print(f"{path} exists; use --force to replace it", file=sys.stderr)
            return 1
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    t0 = time.perf_counter()
    engine = get_engine(f"sqlite:///{path}")
    build(engine, args.n, args.seed, args.entries, now=datetime(2025, 6, 1, 12, 0, tzinfo=UTC))
    print(f"built {args.n:,} tickets in {path} in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
