"""The sidebar's counters stay equal to a fresh count after every kind of ticket write (issue 11)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select, true

from tui_helpdesk import clock
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Ticket, TicketCount
from tui_helpdesk.services import inbound, lifecycle, links, queries, tickets
from tui_helpdesk.services.context import reading, transaction

T = Ticket.__table__.c


def _fresh_sidebar(desk, actor) -> queries.SidebarCounts:
    """Each number counted over the ticket table, as the lists behind the entries count them."""
    with transaction(desk.engine, actor) as tx:
        counts = {
            name: 0 if name == "mine" and actor.agent_id is None
            else queries.count(tx, queries.sidebar_query(name, actor.agent_id))
            for name in queries.SIDEBAR_ENTRIES
        }
        depts = queries.sidebar_counts(tx).departments
        per_dept = {d: queries.count(tx, queries.department_query(d)) for d in depts}
    return queries.SidebarCounts(**counts, departments=per_dept)


def _stored_equal_recount(desk) -> None:
    with desk.engine.connect() as conn:
        key = (T.department_id, func.coalesce(T.assignee_id, 0), T.state, T.is_overdue)
        fresh = {tuple(r[:-1]): r[-1] for r in conn.execute(
            select(*key, func.count()).where(T.visible == true()).group_by(*key))}
        c = TicketCount.__table__.c
        stored = {tuple(r[:-1]): r[-1] for r in conn.execute(
            select(c.department_id, c.assignee_id, c.state, c.is_overdue, c.n).where(c.n != 0))}
    assert stored == fresh


def _check(desk, step: str) -> None:
    _stored_equal_recount(desk)
    for actor in (desk.admin, desk.agent):
        with transaction(desk.engine, actor) as tx:
            kept = queries.sidebar_counts(tx)
        assert kept == _fresh_sidebar(desk, actor), f"after {step} for {actor.username}"


def _new(desk, subject: str, department: str = "Support", **more):
    with desk.tx() as tx:
        return tickets.create(tx, subject=subject, body="It broke", contact_email="bob@acme.example",
                              department=department, detail=False, **more)


def test_counters_equal_a_fresh_count_after_every_kind_of_write(desk):
    a = _new(desk, "Printer jam")
    b = _new(desk, "Invoice missing", "Billing")
    c = _new(desk, "VPN drops")
    d = _new(desk, "Duplicate of the printer")
    _check(desk, "create")

    with desk.tx() as tx:
        tickets.assign(tx, a.number, "sam")
    _check(desk, "assign")
    with desk.tx() as tx:
        tickets.assign(tx, b.number, "sam")  # Sam's ticket outside his department: in his scope
    _check(desk, "assign outside the department")
    with desk.tx() as tx:
        tickets.set_status(tx, a.number, "pending")
    _check(desk, "status")
    with desk.tx() as tx:
        tickets.transfer(tx, c.number, "Billing")
    _check(desk, "transfer")
    with desk.tx() as tx:
        links.merge(tx, a.number, [d.number])
    _check(desk, "merge")
    with desk.tx() as tx:
        tickets.resolve(tx, c.number)
    with desk.tx() as tx:
        tickets.set_status(tx, c.number, "closed")
    with desk.tx() as tx:
        tickets.archive(tx, c.number)
    _check(desk, "resolve, close and archive")

    clock.set_now("2026-03-09T09:00:00Z")
    e = _new(desk, "Server room too warm")
    with session_scope(desk.engine) as s:
        s.get(Ticket, e.id).due_at = datetime(2026, 3, 9, 10, tzinfo=UTC)
    clock.set_now("2026-03-10T09:00:00Z")
    assert lifecycle.mark_overdue(desk.engine) >= 1
    _check(desk, "overdue pass")
    with desk.tx() as tx:
        tickets.release(tx, b.number, "wrong person")
    _check(desk, "release")

    raw = (b"From: Carol <carol@customer.test>\r\nTo: support@helpdesk.test\r\nSubject: Door badge\r\n"
           b"Message-ID: <badge-1@customer.test>\r\n\r\nMy badge stopped working.\r\n")
    made = inbound.ingest_raw(desk.engine, raw)
    assert made.ticket_id is not None
    reply = (f"From: carol@customer.test\r\nTo: support@helpdesk.test\r\nSubject: Re: [{e.number}] x\r\n"
             f"Message-ID: <badge-2@customer.test>\r\n\r\nStill warm.\r\n").encode()
    inbound.ingest_raw(desk.engine, reply)
    _check(desk, "ingest")


@pytest.mark.parametrize("entry", ["open", "all"])
def test_the_sidebar_reads_the_counters_not_the_tickets(desk, entry):
    _new(desk, "Printer jam")
    # a ticket row written behind the services' back is not counted: the numbers come from the counters
    with desk.engine.begin() as conn:
        conn.execute(Ticket.__table__.update().values(state="closed"))
    with desk.tx() as tx:
        assert getattr(queries.sidebar_counts(tx), entry) == 1


def test_the_sidebar_is_one_statement_over_the_counters(desk):
    _new(desk, "Printer jam")
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(desk.engine, "before_cursor_execute", record)
    try:
        with reading(desk.engine, desk.admin) as tx:
            counts = queries.sidebar_counts(tx)
    finally:
        event.remove(desk.engine, "before_cursor_execute", record)
    reads = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1 and "ticket_count" in reads[0] and " ticket " not in reads[0]
    assert counts.open == 1 and set(counts.departments) >= {1}
