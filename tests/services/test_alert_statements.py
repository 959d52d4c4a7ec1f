"""A new ticket's alerts cost the same statements whatever the size of the department (issue 11)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, func, select

from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Agent, Department, OutboundMessage
from tui_helpdesk.services import outbound, tickets


@contextmanager
def _statements(engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _hire(desk, n: int) -> None:
    with session_scope(desk.engine) as s:
        support = s.execute(select(Department).where(Department.name == "Support")).scalar_one()
        start = s.execute(select(func.count()).select_from(Agent)).scalar_one()
        for i in range(start, start + n):
            s.add(Agent(username=f"extra{i}", name=f"Extra {i}", email=f"extra{i}@example.com",
                        primary_department_id=support.id))


def _open_one(desk) -> tuple[int, int]:
    """(statements run, alerts queued) for one new Support ticket."""
    with _statements(desk.engine) as seen, desk.tx() as tx:
        t = tickets.create(tx, subject="Printer jam", body="Jammed", contact_email="bob@acme.example",
                           department="Support", detail=False)
    outbound.expand_fanouts(desk.engine)  # a big department's alert is one row until the sender splits it
    with session_scope(desk.engine) as s:
        alerts = s.execute(select(func.count()).select_from(OutboundMessage).where(
            OutboundMessage.ticket_id == t.id, OutboundMessage.kind == "alert.new_ticket")).scalar_one()
    return len(seen), alerts


def test_alerts_for_a_new_ticket_are_one_insert_whatever_the_department_size(desk):
    _open_one(desk)  # the caches (settings, templates) warm
    small, small_alerts = _open_one(desk)
    _hire(desk, 12)
    big, big_alerts = _open_one(desk)
    assert big_alerts == small_alerts + 12  # every agent is still told
    assert big == small  # no statement per agent



def test_alert_rows_read_back_like_any_outbox_row(desk):
    """The alerts' INSERT hands the driver converted values itself (outbound._insert_alert_rows): each
    column must read back as the ORM writes it, on both engines."""
    with desk.tx() as tx:
        t = tickets.create(tx, subject="Printer jam", body="Jammed", contact_email="bob@acme.example",
                           department="Support", detail=False)
    with session_scope(desk.engine) as s:
        rows = s.execute(select(OutboundMessage).where(OutboundMessage.ticket_id == t.id)).scalars().all()
        alerts = [r for r in rows if r.kind == "alert.new_ticket"]
        written_by_orm = [r for r in rows if r.kind == "notice.created"]
        assert alerts and written_by_orm
        for alert in alerts:
            assert len(alert.to_addrs) == 1 and "@" in alert.to_addrs[0]
            assert alert.cc_addrs == [] and alert.headers["Auto-Submitted"] == "auto-generated"
            assert alert.headers["X-Helpdesk-Ticket"] == t.number
            assert alert.created_at == written_by_orm[0].created_at and alert.created_at.tzinfo is not None
            assert alert.next_attempt_at == alert.created_at and alert.state == "queued" and alert.attempts == 0
            assert alert.sent_at is None and alert.message_id.startswith(f"<tck.{t.id}.")
        assert len({a.message_id for a in alerts}) == len(alerts)


def test_assignment_and_transfer_alerts_go_to_whom_they_concern(desk):
    """The assignee hears of an assignment (never the agent who made it); a transfer tells the new
    department's agents; an unassigned ticket's new message its department's."""
    with desk.tx() as tx:
        t = tickets.create(tx, subject="Printer jam", body="Jammed", contact_email="bob@acme.example",
                           department="Support", detail=False)
    with desk.tx(desk.supervisor) as tx:
        tickets.assign(tx, t.number, "sam")
        tickets.assign(tx, t.number, "sue")  # herself: nobody to tell
    with desk.tx() as tx:
        tickets.transfer(tx, t.number, "Billing")
    with session_scope(desk.engine) as s:
        rows = s.execute(select(OutboundMessage.kind, OutboundMessage.to_addrs).where(
            OutboundMessage.ticket_id == t.id, OutboundMessage.kind.in_(("alert.assignment", "alert.transfer"))
        ).order_by(OutboundMessage.id)).all()
    assert [(k, list(to)) for k, to in rows] == [
        ("alert.assignment", ["sam@example.com"]), ("alert.transfer", ["olly@example.com"])]
