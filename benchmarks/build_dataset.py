"""Build a large synthetic help desk for benchmarks: `python benchmarks/build_dataset.py [PATH] [-n N]`.

The spread aims at a real desk a few years in: most tickets closed or resolved, the open ones recent,
ids increasing with created_at. `build(engine, n, seed)` is importable so other benchmarks reuse it.
"""

from __future__ import annotations

import argparse
import math
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
    InboundMessage,
    Organization,
    OutboundMessage,
    Priority,
    ReportFact,
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
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _copy(conn, table, rows)
        return
    for i in range(0, len(rows), BATCH):
        conn.execute(insert(table), rows[i : i + BATCH])


def _copy(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: COPY, several times faster than multi-row INSERTs; the columns' Python defaults (and
    type conversions) applied here, as an INSERT would."""
    from psycopg.types.json import Json
    from sqlalchemy import JSON

    given = list(dict.fromkeys(k for r in rows[:1000] for k in r))
    fill = [c for c in table.c if c.name not in given and c.default is not None]
    procs = {}
    for name in given:
        col = table.c[name]
        if isinstance(col.type, JSON):
            procs[name] = Json
        else:
            proc = col.type._cached_bind_processor(conn.dialect)
            if proc is not None:
                procs[name] = proc
    names = ", ".join(f'"{n}"' for n in (*given, *(c.name for c in fill)))
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cur.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for r in rows:
            values = [procs[k](r.get(k)) if k in procs and r.get(k) is not None else r.get(k) for k in given]
            values += [c.default.arg if c.default.is_scalar else c.default.arg(None) for c in fill]
            copy.write_row(values)


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
    engine: Engine,
    n: int = 1_000_000,
    seed: int = 1,
    entries: float = 5.0,
    now: datetime | None = None,
    long_every: int = 10_000,
    long_size: int = 500,
) -> None:
    """Fill an empty, migrated database with n tickets and about `entries` thread entries per ticket.

    Every `long_every`-th ticket gets a thread of `long_size` entries (the 500-entry ticket of the
    issue); the rest get a spread around the mean, so n=1M, entries=5 gives about 5M entries. The
    text is varied (templates filled from word lists, error codes, names), so a search sees common and
    rare words. Tickets of the last year also get the journal and outbox rows ingest looks at."""
    rng = random.Random(seed)
    text_rng = random.Random(seed + 1)
    now = now or clock.now()
    start = now - timedelta(days=3 * 365)
    span = (now - start).total_seconds()
    year_ago = span - 365 * 86400
    table = Ticket.__table__
    entry_table = TicketEntry.__table__
    # the mean of 1 + floor(Exp(rate)) is 1 + 1/(e^rate - 1): solve for the per-ticket mean asked
    others_mean = max(entries - (long_size / long_every if long_every else 0), 1.0)
    rate = math.log(1 + 1 / max(others_mean - 1, 0.01))
    secondary = {
        t: list(t.indexes)
        for t in (table, entry_table, InboundMessage.__table__, OutboundMessage.__table__, ReportFact.__table__)
    }
    with engine.begin() as conn:
        _search_off(conn)
        ref = _reference_data(conn, rng, now)
        # Loading without the secondary indexes and building them once at the end is several times faster.
        for ixs in secondary.values():
            for ix in ixs:
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
        inbound_rows: list[dict[str, Any]] = []
        outbound_rows: list[dict[str, Any]] = []
        entry_id = 0
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
            subject = rng.choice(ISSUES) + rng.choice(DETAILS)
            rows.append(
                {
                    "id": tid,
                    "number": f"TCK-{100000 + tid}",
                    "number_seq": 100000 + tid,
                    "subject": subject,
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
                    "reopened": rng.random() < 0.03 and state != "closed",
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
            if entries:
                count = (
                    long_size
                    if long_every and tid % long_every == 0
                    else 1 + min(int(rng.expovariate(rate)), 60)
                )
                recent = offsets[i] > year_ago
                client = ref["contact_org"][contact] or 0
                step = max(60, int((updated - created).total_seconds() / count)) if count else 60
                for k in range(count):
                    entry_id += 1
                    kind = "message" if k % 2 == 0 else ("note" if rng.random() < 0.2 else "reply")
                    at = created + timedelta(seconds=step * k)
                    if kind == "message":
                        mid = f"<{text_rng.getrandbits(64):016x}.{tid}@client{client}.example>"
                        body = _customer_text(text_rng, subject, k)
                    elif kind == "reply":
                        mid = f"<hd.{tid}.{entry_id}@desk.example>"
                        body = _agent_text(text_rng)
                    else:
                        mid = None
                        body = _note_text(text_rng)
                    entry_rows.append(
                        {
                            "id": entry_id,
                            "ticket_id": tid,
                            "kind": kind,
                            "contact_id": contact if kind == "message" else None,
                            "agent_id": (assignee or 1) if kind != "message" else None,
                            "body": body,
                            "message_id": mid,
                            "recipients": {},
                            "created_at": at,
                        }
                    )
                    if recent and kind == "message":
                        inbound_rows.append(
                            {
                                "message_id": mid,
                                "size": 0,  # the raw bytes were pruned (no inbound_raw row)
                                "received_at": at,
                                "state": "done",
                                "outcome": "new_ticket" if k == 0 else "reply",
                                "reason": "",
                                "ticket_id": tid,
                                "entry_id": entry_id,
                                "processed_at": at,
                                "server_done": True,
                            }
                        )
                        if k == 0:
                            outbound_rows.append(_outbound(tid, "autoresponse", contact, client, subject, at))
                    elif recent and kind == "reply":
                        row = _outbound(tid, "reply", contact, client, subject, at)
                        row["entry_id"], row["message_id"] = entry_id, mid
                        outbound_rows.append(row)
            if len(rows) >= BATCH:
                _insert(conn, table, rows)
                rows.clear()
            if len(entry_rows) >= BATCH:
                _insert(conn, table, rows)  # the entries' tickets first (foreign keys)
                rows.clear()
                _insert(conn, entry_table, entry_rows)
                entry_rows.clear()
                _insert(conn, InboundMessage.__table__, inbound_rows)
                inbound_rows.clear()
                _insert(conn, OutboundMessage.__table__, outbound_rows)
                outbound_rows.clear()
            if tid % 100_000 == 0:
                print(f"  {tid:,} tickets, {entry_id:,} entries", file=sys.stderr, flush=True)
        _insert(conn, table, rows)
        _insert(conn, TicketTag.__table__, tags)
        _insert(conn, entry_table, entry_rows)
        _insert(conn, InboundMessage.__table__, inbound_rows)
        _insert(conn, OutboundMessage.__table__, outbound_rows)
        _after_load(conn)
        print("  building indexes", file=sys.stderr, flush=True)
        for ixs in secondary.values():
            for ix in ixs:
                ix.create(conn)
        if not is_sqlite(engine):
            _set_sequences(conn)
        _search_on(conn)
    # Fresh statistics for the planner; on PostgreSQL, VACUUM also sets the visibility map, without
    # which an index-only scan still visits the table for every row.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE" if is_sqlite(engine) else "VACUUM ANALYZE")


def _set_sequences(conn: Connection) -> None:
    """PostgreSQL: every table loaded with explicit ids has its id sequence moved past them (else the
    next contact, ticket or entry the services add collides with a loaded one)."""
    from sqlmodel import SQLModel

    for table in SQLModel.metadata.sorted_tables:
        if "id" in table.c and table.c.id.primary_key:
            conn.execute(text(
                f"SELECT setval(seq, (SELECT coalesce(max(id), 0) + 1 FROM {table.name}), false) "
                f"FROM pg_get_serial_sequence('{table.name}', 'id') AS seq WHERE seq IS NOT NULL"
            ))


def _after_load(conn: Connection) -> None:
    """Whatever the services derive from the loaded rows in every write (counters, report facts) is
    rebuilt from them; the bulk inserts bypassed the ORM flush that keeps them."""
    from tui_helpdesk.services import counters, report_facts

    print("  counters and report facts", file=sys.stderr, flush=True)
    counters.rebuild(conn)
    report_facts.rebuild(conn)


def _search_migration() -> Any:
    """The latest migration that made the SQLite search triggers: the one text of them and of the
    index's rows (0022: a row per ticket and per entry)."""
    import importlib.util

    versions = Path(__file__).resolve().parent.parent / "migrations" / "versions"
    path = versions / "0022_search_index_rows_per_entry.py"
    spec = importlib.util.spec_from_file_location("_search_0022", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _has_search(conn: Connection) -> bool:
    if conn.dialect.name == "sqlite":
        found = conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'search_fts'").first()
    else:
        found = conn.exec_driver_sql("SELECT to_regclass('ticket_search')").scalar()
    return bool(found)


# Migration 0012's ticket_search_doc(), for the tickets with ids in [lo, hi) at once.
_PG_DOCS = """
WITH owned AS (
  SELECT e.ticket_id AS owner, e.id, e.kind, e.body FROM ticket_entry e
   WHERE e.ticket_id >= %(lo)s AND e.ticket_id < %(hi)s AND e.deleted_at IS NULL
  UNION ALL
  SELECT m.merged_into_id, e.id, e.kind, e.body FROM ticket m JOIN ticket_entry e ON e.ticket_id = m.id
   WHERE m.merged_into_id >= %(lo)s AND m.merged_into_id < %(hi)s AND e.deleted_at IS NULL
), thread AS (
  SELECT owner, string_agg(body, ' ' ORDER BY id) FILTER (WHERE kind <> 'note') AS public,
         string_agg(body, ' ' ORDER BY id) FILTER (WHERE kind = 'note') AS notes
    FROM owned GROUP BY owner
), tags AS (
  SELECT tt.ticket_id, string_agg(g.name, ' ') AS names FROM ticket_tag tt JOIN tag g ON g.id = tt.tag_id
   WHERE tt.ticket_id >= %(lo)s AND tt.ticket_id < %(hi)s GROUP BY tt.ticket_id
)
INSERT INTO ticket_search(ticket_id, doc)
SELECT t.id,
       setweight(to_tsvector('simple', helpdesk_unaccent(
           t.number || ' ' || coalesce(t.number_seq::text, '') || ' ' || t.subject)), 'A')
    || setweight(to_tsvector('simple', helpdesk_unaccent(
           coalesce(c.name, '') || ' ' || coalesce(c.email, '') || ' ' || coalesce(o.name, ''))), 'B')
    || setweight(to_tsvector('simple', helpdesk_unaccent(coalesce(g.names, ''))), 'B')
    || setweight(to_tsvector('simple', helpdesk_unaccent(coalesce(th.public, ''))), 'C')
    || setweight(to_tsvector('simple', helpdesk_unaccent(coalesce(th.notes, ''))), 'D')
FROM ticket t LEFT JOIN contact c ON c.id = t.contact_id LEFT JOIN organization o ON o.id = t.organization_id
LEFT JOIN tags g ON g.ticket_id = t.id LEFT JOIN thread th ON th.owner = t.id
WHERE t.id >= %(lo)s AND t.id < %(hi)s
"""


def _search_off(conn: Connection) -> None:
    """The search triggers rebuild a ticket's whole document on every entry: during a bulk load (and
    without the entry indexes) that is quadratic, so they are off and the index is filled once after."""
    if not _has_search(conn):
        return
    if conn.dialect.name == "sqlite":
        _search_migration().drop_sqlite_triggers(conn)
    else:
        # this transaction only: no trigger (nor foreign-key check) fires on the rows it loads
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.exec_driver_sql("DROP INDEX IF EXISTS ix_ticket_search_doc")


def _search_on(conn: Connection) -> None:
    """Index every loaded ticket the way the search migrations index an existing desk, then the
    triggers again."""
    if not _has_search(conn):
        return
    print("  search index", file=sys.stderr, flush=True)
    if conn.dialect.name == "sqlite":
        m = _search_migration()
        m.index_existing(conn)
        m.create_sqlite_triggers(conn)
        return
    # ticket_search_doc(id) reads one ticket's thread by index (migration 0023; before it, a scan of every
    # entry per ticket), but a call per ticket is still a million statements: the same document is built
    # here a range of tickets at a time, and checked against the function on a sample.
    low, high = conn.exec_driver_sql("SELECT min(id), max(id) FROM ticket").one()
    started = time.perf_counter()
    for lo in range(low or 0, (high or 0) + 1, 20_000):
        conn.exec_driver_sql(_PG_DOCS, {"lo": lo, "hi": lo + 20_000})
        print(f"\r  search documents to ticket {lo + 20_000:,} ({time.perf_counter() - started:.0f} s)",
              end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    # positions may differ (a ticket's tags are joined in no set order), so lexemes and weights are compared
    bad = conn.exec_driver_sql(
        "SELECT s.ticket_id FROM ticket_search s WHERE s.ticket_id IN "
        "(SELECT id FROM ticket WHERE mod(id, 99991) = 1 OR merged_into_id IS NOT NULL LIMIT 10) "
        "AND strip(s.doc)::text IS DISTINCT FROM strip(ticket_search_doc(s.ticket_id))::text LIMIT 5"
    ).scalars().all()
    if bad:  # a warning, not a lost hour of loading
        print(f"  the bulk search documents differ from ticket_search_doc() for tickets {bad}", file=sys.stderr)
    conn.exec_driver_sql("CREATE INDEX ix_ticket_search_doc ON ticket_search USING gin (doc)")
    conn.exec_driver_sql("SET LOCAL session_replication_role = origin")


def _outbound(tid: int, kind: str, contact: int, client: int, subject: str, at: datetime) -> dict[str, Any]:
    return {
        "ticket_id": tid,
        "kind": kind,
        "from_addr": "support@desk.example",
        "to_addrs": [f"user{contact}@client{client}.example"],
        "cc_addrs": [],
        "subject": f"[TCK-{100000 + tid}] {subject}",
        "body": "",
        "message_id": f"<hd.{tid}.{kind}.{int(at.timestamp())}@desk.example>",
        "headers": {},
        "state": "sent",
        "attempts": 1,
        "next_attempt_at": at,
        "last_error": "",
        "created_at": at,
        "sent_at": at,
    }


GREETINGS = ["Hello,", "Hi,", "Hi team,", "Good morning,", "Hello support,", "Dear helpdesk,", "Hey,", ""]
SIGNOFFS = ["Thanks", "Thank you", "Regards", "Best regards", "Cheers", "Many thanks", "Kind regards"]
PRODUCTS = [
    "Outlook", "the VPN client", "Teams", "the laptop", "the printer on floor 3", "SharePoint", "Excel",
    "the badge reader", "the payroll portal", "Salesforce", "Zoom", "the docking station", "OneDrive",
    "the CRM", "Chrome", "the invoicing system", "the shared drive", "Wi-Fi in the east wing", "Jira",
    "the phone system", "the warehouse scanner", "SAP", "the expenses app", "my second monitor",
]
SYMPTOMS = [
    "keeps crashing when I open it", "shows an error about the certificate", "is very slow since this morning",
    "will not accept my password", "asks me to sign in again every few minutes", "does not start at all",
    "freezes after a couple of minutes", "says my licence has expired", "cannot reach the server",
    "prints blank pages", "drops the connection every hour or so", "shows someone else's account",
    "lost all my settings after the update", "is stuck on the loading screen", "sends duplicate emails",
    "refuses the attachment", "reports that the disk is full", "shows the wrong time zone",
]
CONTEXTS = [
    "I already tried restarting it.", "This started after the update last night.",
    "My colleagues in {city} have the same problem.", "It worked fine yesterday.",
    "I need this fixed before the meeting with {client} on {day}.", "I cleared the cache but nothing changed.",
    "The error code is {code}.", "Screenshot attached.", "It only happens on the office network, not at home.",
    "Reinstalling did not help.", "Could you please look at it today?", "Ticket {ref} was about the same thing.",
    "Our manager {name} asked me to raise this.", "We have about {num} people affected.",
    "It happens roughly every {num} minutes.", "I am working from {city} this week.",
]
AGENT_LINES = [
    "Thanks for reporting this.", "I have reset your account; please try to log in again.",
    "Could you send a screenshot of the error message?", "We pushed a fix for {product} this morning.",
    "Please restart {product} and let me know if the problem is still there.",
    "I have escalated this to the {dept} team.", "The licence has been renewed until {day}.",
    "This is a known issue with version {version}; an update is scheduled for {day}.",
    "I could not reproduce it on my side. Does it still happen?", "Error {code} means the token expired.",
    "I have added you to the group; it can take an hour to apply.", "A technician will visit {city} on {day}.",
    "Please try the steps in the knowledge base article {kb}.", "I am closing this ticket; reply if it returns.",
    "The replacement part has been ordered.", "We changed the DNS settings for {product}.",
]
NOTE_LINES = [
    "Customer called, confirmed the issue persists.", "Checked the logs: {code} at {time}.",
    "Waiting on the vendor ({client}) for a patch.", "Same root cause as {ref}.",
    "Spoke with {name}; they will test tomorrow.", "Do not close before the {dept} team confirms.",
    "Possible phishing, forwarded headers to security.", "Billing adjusted by {num} EUR.",
]
CITIES = ["Leeds", "Lyon", "Porto", "Gdansk", "Utrecht", "Malmo", "Cork", "Brno", "Graz", "Turku", "Bilbao"]
CLIENTS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Tyrell", "Cyberdyne"]
NAMES = ["Amélie", "Bjørn", "Chiara", "Dmitri", "Eóin", "François", "Grete", "Håkon", "Inès", "José", "Zoë"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "the 14th", "the end of the month"]
DEPTS = [d for d, _ in DEPARTMENTS]


def _fill(rng: random.Random, line: str) -> str:
    if "{" not in line:
        return line
    return line.format(
        city=rng.choice(CITIES),
        client=rng.choice(CLIENTS),
        day=rng.choice(DAYS),
        code=f"0x{rng.getrandbits(24):06X}" if rng.random() < 0.5 else f"E{rng.randint(100, 9999)}",
        ref=f"TCK-{rng.randint(100001, 999999)}",
        name=rng.choice(NAMES),
        num=rng.randint(2, 90),
        product=rng.choice(PRODUCTS),
        dept=rng.choice(DEPTS),
        version=f"{rng.randint(1, 12)}.{rng.randint(0, 20)}.{rng.randint(0, 99)}",
        kb=f"KB{rng.randint(1000, 99999)}",
        time=f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
    )


def _customer_text(rng: random.Random, subject: str, k: int) -> str:
    parts = [rng.choice(GREETINGS)]
    if k == 0:
        parts.append(f"{subject}: {rng.choice(PRODUCTS)} {rng.choice(SYMPTOMS)}.")
    else:
        parts.append(rng.choice(["It is still not working.", "Thanks, that helped.", "Any news on this?",
                                 f"Now {rng.choice(PRODUCTS)} {rng.choice(SYMPTOMS)}."]))
    parts.extend(_fill(rng, rng.choice(CONTEXTS)) for _ in range(rng.randint(0, 3)))
    parts.append(f"{rng.choice(SIGNOFFS)}\n{rng.choice(NAMES)}")
    return "\n\n".join(p for p in parts if p)


def _agent_text(rng: random.Random) -> str:
    lines = [_fill(rng, rng.choice(AGENT_LINES)) for _ in range(rng.randint(1, 3))]
    return "Hello,\n\n" + " ".join(lines) + f"\n\n{rng.choice(SIGNOFFS)}"


def _note_text(rng: random.Random) -> str:
    return " ".join(_fill(rng, rng.choice(NOTE_LINES)) for _ in range(rng.randint(1, 2)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=str(Path(__file__).parent / "bench.db"))
    parser.add_argument("-n", type=int, default=1_000_000, help="number of tickets (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--entries", type=float, default=5.0, help="thread entries per ticket on average (default 5; 0: none)"
    )
    parser.add_argument("--url", help="a database URL instead of PATH (e.g. postgresql://...)")
    parser.add_argument("--force", action="store_true", help="replace an existing file")
    args = parser.parse_args(argv)
    path = Path(args.path)
    if args.url:
        t0 = time.perf_counter()
        build(get_engine(args.url), args.n, args.seed, args.entries, now=datetime(2025, 6, 1, 12, 0, tzinfo=UTC))
        print(f"built {args.n:,} tickets in {args.url} in {time.perf_counter() - t0:.1f} s")
        return 0
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
