"""The audit viewer: filters by who, object, action and time, before/after, newest-first pages, CSV."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import text

from tui_helpdesk import clock, db
from tui_helpdesk.services import audit, kb, tickets
from tui_helpdesk.services.errors import PermissionDenied, ValidationError


@pytest.fixture
def logged(desk, db_url, built_once) -> str:
    """Made once per session and engine, then copied (tests/support/snapshots.py; the clock is pinned
    where the build left it, two hours on)."""
    return built_once(db_url, "audit-logged", lambda: _logged(desk))


def _logged(desk) -> str:
    with desk.tx(desk.agent) as tx:
        number = tickets.create(tx, subject="Printer", body="jam", contact_email="a@acme.com",
                                department="Support").number
    clock.advance(hours=2)
    with desk.tx(desk.supervisor) as tx:
        kb.create(tx, "Paper jam", "Open tray 2", "Printers", new_category=True)
        kb.update(tx, "paper-jam", title="Clearing a paper jam")
    return number


def test_filters_and_before_after(desk, logged) -> None:
    with desk.tx() as tx:
        by_sue = audit.list_entries(tx, audit.AuditFilter(who="sue")).rows
        assert {r.action for r in by_sue} == {"kb.category_added", "kb.article_created", "kb.article_edited"}
        edited = audit.list_entries(tx, audit.AuditFilter(action="kb.article_edited")).rows
        assert [(c.field, c.before, c.after) for c in edited[0].changes] == [
            ("title", "Paper jam", "Clearing a paper jam")
        ]
        on_ticket = audit.list_entries(tx, audit.AuditFilter(object=logged)).rows
        assert on_ticket and {r.object_type for r in on_ticket} == {"ticket"}
        assert all(r.actor == "sam" for r in on_ticket)
        kb_rows = audit.list_entries(tx, audit.AuditFilter(action="kb.*")).rows
        assert len(kb_rows) == 3 and [r.id for r in kb_rows] == sorted((r.id for r in kb_rows), reverse=True)
        earlier = audit.list_entries(tx, audit.AuditFilter(until=audit.parse_when("1h", "until"))).rows
        assert earlier and not any(r.action.startswith("kb.") for r in earlier)
        later = audit.list_entries(tx, audit.AuditFilter(since=audit.parse_when("1h", "since"))).rows
        assert {r.actor for r in later} == {"sue"}
        first = audit.list_entries(tx, audit.AuditFilter(action="kb."), limit=2)
        rest = audit.list_entries(tx, audit.AuditFilter(action="kb."), before_id=first.next_before, limit=2)
        assert [r.id for r in first.rows + rest.rows] == [r.id for r in kb_rows] and rest.next_before is None
    with desk.tx() as tx, pytest.raises(ValidationError, match="since: expected a date"):
        audit.parse_when("last tuesday", "since")
    with desk.tx() as tx, pytest.raises(ValidationError, match="object: no ticket TCK-999999"):
        audit.list_entries(tx, audit.AuditFilter(object="TCK-999999"))
    with desk.tx(desk.supervisor) as tx, pytest.raises(PermissionDenied, match="not an admin"):
        audit.list_entries(tx)


def test_csv_export_has_one_line_per_change(desk, logged) -> None:
    with desk.tx() as tx:
        lines = "".join(audit.csv_lines(tx, audit.AuditFilter(action="kb.article_edited")))
    rows = list(csv.DictReader(io.StringIO(lines)))
    assert [(r["actor"], r["field"], r["before"], r["after"]) for r in rows] == [
        ("sue", "title", "Paper jam", "Clearing a paper jam")
    ]


def test_the_filters_use_an_index(sqlite_url) -> None:
    # SQLite only: PostgreSQL's plan on a near-empty table depends on its statistics, not on the index.
    with db.get_engine(sqlite_url).connect() as conn:
        for where in ("actor = 'sam'", "action = 'ticket.status'", "object_type = 'ticket' AND object_id = 3"):
            plan = " ".join(r[-1] for r in conn.execute(text(
                f"EXPLAIN QUERY PLAN SELECT * FROM audit_log WHERE {where} ORDER BY id DESC LIMIT 100")))
            assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, plan
