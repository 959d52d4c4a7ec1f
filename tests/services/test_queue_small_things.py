"""The queue's small things that live in the services (issue 12 item 13)."""

from __future__ import annotations

from datetime import timedelta

from tui_helpdesk import clock
from tui_helpdesk.models import OutboundMessage
from tui_helpdesk.services import door, outbound, queries, tickets
from tui_helpdesk.services.context import reading


def _make(desk, subject: str, due_in: timedelta | None = None):
    with desk.tx() as tx:
        t = tickets.create(tx, subject=subject, body="Hi", contact_email="bob@acme.example", department="Support")
        if due_in is not None:
            tickets.update_fields(tx, t.number, {"due_at": (clock.now() + due_in).isoformat()}, reason="agreed")
        return t


def _numbers(desk, sort: str, view: str = "open") -> list[str]:
    query = queries.sidebar_query(view, desk.admin.agent_id, sort)
    return [r.number for r in door.read(desk.engine, desk.admin, queries.fetch_page, query, None, 50).rows]


def test_sort_by_due_puts_tickets_without_a_due_time_last(desk):
    none_first = _make(desk, "No due")
    late = _make(desk, "Late", timedelta(days=2))
    soon = _make(desk, "Soon", timedelta(hours=2))
    assert _numbers(desk, "due") == [soon.number, late.number, none_first.number]


def test_a_failed_notice_does_not_bump_a_ticket_in_the_last_updated_sort(desk):
    quiet = _make(desk, "Quiet")
    clock.advance(minutes=5)
    busy = _make(desk, "Busy")
    assert _numbers(desk, "updated") == [busy.number, quiet.number]
    with desk.tx() as tx:
        row = OutboundMessage(ticket_id=quiet.id, kind="reply", from_addr="desk@example.com",
                              to_addrs=["bob@acme.example"], subject="Re: Quiet", body="Hello",
                              message_id="<x@example.com>")
        tx.session.add(row)
    clock.advance(minutes=5)
    assert outbound._record(desk.engine, row.id, "permanent: 550 no such user") == "failed"

    assert _numbers(desk, "updated") == [busy.number, quiet.number]
    with reading(desk.engine) as tx:
        shown = tickets.view(tx, quiet.number)
    assert "mail_failed" in [i.event_kind for i in shown.thread]  # still in the thread
    assert shown.version > quiet.version  # and a copy seen before it is stale
