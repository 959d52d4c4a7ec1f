"""The queue's small things that live in the services (issue 12 item 13)."""

from __future__ import annotations

from datetime import timedelta

from tui_helpdesk import clock
from tui_helpdesk.services import door, queries, tickets


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
