"""A deleted ticket's thread says when it will be purged (the event the delete records)."""

from __future__ import annotations

from datetime import UTC, datetime

from tui_helpdesk.services.ticket_view import ThreadItem
from tui_helpdesk.tui.widgets.thread import describe_event


def test_the_deleted_event_names_the_purge_day() -> None:
    item = ThreadItem(kind="event", id=1, ticket_id=1, created_at=datetime(2026, 3, 2, tzinfo=UTC), author="root",
                      event_kind="deleted", data={"purge_after": "2026-04-01T09:00:00+00:00", "retention_days": 30})
    assert describe_event(item) == "deleted: purged after 2026-04-01 unless restored"
