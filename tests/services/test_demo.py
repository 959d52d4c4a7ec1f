"""The demo help desk: everything a first look at the app should show, made through the services."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select
from support.databases import copy_sqlite

from tui_helpdesk import clock, db
from tui_helpdesk.models import (
    Agent,
    AuditLog,
    Department,
    HelpTopic,
    Organization,
    Team,
    Ticket,
    TicketEntry,
    TicketEvent,
    TicketLink,
    TimeEntry,
)
from tui_helpdesk.services import demo, lifecycle, tickets
from tui_helpdesk.services.context import resolve_actor, transaction

NOW = "2026-03-02T09:00:00Z"


def test_demo_has_every_state_links_a_merge_and_real_history(sqlite_url):
    # SQLite only: the subject is the demo's content, which no engine changes (the PostgreSQL path of
    # build_demo runs in test_small_demos_work[postgres] and
    # tests/cli/test_admin_cli.py::test_demo_refuses_a_database_with_tickets_unless_reset[postgres],
    # whose 25 tickets include the outage's links and merge).
    engine = db.get_engine(sqlite_url)
    clock.set_now(NOW)
    made = demo.build_demo(engine, tickets=90, seed=42, admin_username="root")
    assert clock.now() == clock.parse_iso(NOW)  # the caller's pinned clock is given back
    assert made["tickets"] == 90
    with db.session_scope(engine, write=False) as s:
        rows = s.execute(select(Ticket)).scalars().all()
        assert len(rows) == 90
        states = Counter(t.state for t in rows)
        assert set(states) == {"new", "open", "pending", "resolved", "closed"}, states
        assert any(t.merged_into_id for t in rows) and any(not t.visible for t in rows)
        assert any(t.archived for t in rows)
        assert any(t.reopened for t in rows)
        assert any(t.is_overdue for t in rows)
        assert any(t.assignee_id for t in rows) and any(t.team_id for t in rows)
        assert all(t.created_at <= clock.parse_iso(NOW) for t in rows)
        oldest = min(t.created_at for t in rows)
        assert (clock.parse_iso(NOW) - oldest).days >= 60  # spread over the last 90 days
        link_kinds = set(s.execute(select(TicketLink.kind)).scalars())
        assert {"child_of", "parent_of", "duplicate_of", "related_to"} <= link_kinds
        entry_kinds = Counter(s.execute(select(TicketEntry.kind)).scalars())
        assert entry_kinds["message"] > 90 and entry_kinds["reply"] > 50 and entry_kinds["note"] > 10
        assert s.execute(select(func.count()).select_from(TimeEntry)).scalar() > 10
        # every change left its event and audit row, dated when it happened
        assert s.execute(select(func.count()).select_from(TicketEvent)).scalar() > 300
        audit_times = (
            s.execute(select(AuditLog.at).where(AuditLog.action == "ticket.created")).scalars().all()
        )
        assert len(audit_times) == 90 and min(audit_times) == oldest
        assert s.execute(select(Department).where(Department.state == "archived")).scalars().first()
        assert s.execute(select(func.count()).select_from(Organization)).scalar() == 5
        assert s.execute(select(func.count()).select_from(Team)).scalar() == 2
        assert s.execute(select(HelpTopic).where(HelpTopic.parent_id.is_not(None))).scalars().first()
        agents = s.execute(select(Agent)).scalars().all()
        assert len(agents) >= 9
        root = next(a for a in agents if a.username == "root")
        assert root.is_admin
        actor = resolve_actor(s, "root", "cli")
    # the merged parent shows its child's thread
    with transaction(engine, actor) as tx:
        parent_id = (
            tx.session.execute(select(Ticket.merged_into_id).where(Ticket.merged_into_id.is_not(None)))
            .scalars()
            .first()
        )
        detail = tickets.view(tx, parent_id)
        assert detail.merged_children
        assert {i.ticket_id for i in detail.thread} > {detail.id}
    # issue 12 item 13: the first worker pass has no timer work left over from the replayed history (it
    # closed 22 resolved tickets whose reopen window had ended); they were closed when the window ended
    assert all(not numbers for numbers in lifecycle.preview_timers(engine).values())
    assert made["closed_after_window"] > 0
    with db.session_scope(engine, write=False) as s:
        closed = s.execute(select(TicketEvent).where(TicketEvent.kind == "auto_closed")).scalars().all()
        assert len(closed) == made["closed_after_window"]
        assert all(e.created_at < clock.parse_iso(NOW) for e in closed)


def test_demo_is_deterministic_for_a_seed(tmp_path, _sqlite_template):
    def build(name: str, seed: int) -> list[tuple]:
        clock.set_now(NOW)
        (tmp_path / name).mkdir()
        engine = db.get_engine(copy_sqlite(_sqlite_template, tmp_path / name))  # migrated once per session
        demo.build_demo(engine, tickets=5, seed=seed, admin_username="root")
        with db.session_scope(engine, write=False) as s:
            tickets_ = s.execute(
                select(Ticket.number, Ticket.subject, Ticket.state, Ticket.created_at).order_by(Ticket.id)
            ).all()
            entries = s.execute(
                select(
                    TicketEntry.ticket_id, TicketEntry.kind, TicketEntry.body, TicketEntry.created_at
                ).order_by(TicketEntry.id)
            ).all()
            events = s.execute(select(TicketEvent.ticket_id, TicketEvent.kind).order_by(TicketEvent.id)).all()
            return [tuple(r) for r in tickets_ + entries + events]

    try:
        first, second, other = build("a.db", 5), build("b.db", 5), build("c.db", 6)
    finally:
        db.dispose_all()
    assert first == second
    assert first != other


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # finding the admin by login is no SQL of its own
def test_demo_reuses_an_existing_admin(engine):
    from tui_helpdesk.services import setup

    clock.set_now(NOW)
    with db.session_scope(engine) as s:
        setup.create_first_admin(s, "root", "Root Admin")
    demo.build_demo(engine, tickets=5, admin_username="root")
    with db.session_scope(engine, write=False) as s:
        assert (
            s.execute(select(func.count()).select_from(Agent).where(Agent.username == "root")).scalar() == 1
        )
        assert demo.has_tickets(engine)


@pytest.mark.parametrize("count", [0, 3])
def test_small_demos_work(engine, count):
    clock.set_now(NOW)
    assert demo.build_demo(engine, tickets=count, admin_username="root")["tickets"] == count
