"""Deleting a ticket: archived and scheduled first, purged by the worker's step after the retention period,
its files gone from disk and its audit rows kept (both engines)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tui_helpdesk import clock, worker
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import AuditLog, Ticket, TicketDeletion
from tui_helpdesk.services import attachments, queries, settings, ticket_delete, tickets
from tui_helpdesk.services.errors import Conflict, PermissionDenied


@pytest.fixture
def with_file(desk, tmp_path: Path) -> tuple[str, Path]:
    src = tmp_path / "log.txt"
    src.write_text("boot log")
    store = tmp_path / "store"
    with desk.tx() as tx:
        number = tickets.create(tx, subject="Printer on fire", body="help", contact_email="a@acme.com",
                                department="Support").number
        entry = tickets.note(tx, number, "the log")
        stored = attachments.store(tx, number, src, store, entry_id=entry.id)
    return number, stored.path


def test_delete_archives_then_the_purge_removes_ticket_and_files_and_keeps_the_audit(desk, with_file) -> None:
    number, stored = with_file
    with session_scope(desk.engine) as s:
        settings.put(s, "ticket_delete_retention_days", 7)
    with desk.tx(desk.agent) as tx, pytest.raises(PermissionDenied, match="ticket.delete"):
        ticket_delete.delete(tx, number)
    with desk.tx(desk.supervisor) as tx:
        assert ticket_delete.delete(tx, number) == number
    with desk.tx() as tx:
        assert ticket_delete.pending(tx, number) == clock.now() + timedelta(days=7)
        open_numbers = [r.number for r in queries.fetch_page(tx, queries.TicketQuery(), None, 50, False).rows]
    assert number not in open_numbers  # out of the queues at once
    store = stored.parent.parent

    # before the day nothing goes; after it the ticket, its rows and its file are gone
    assert ticket_delete.purge_due(desk.engine, store)["purged"] == 0 and stored.exists()
    clock.advance(days=7, seconds=1)
    counts = worker.run_once(desk.engine, attachments_dir=store, sweep=False)  # the worker's step
    assert (counts["deleted_purged"], counts["deleted_files_removed"]) == (1, 1)
    assert not stored.exists()
    with session_scope(desk.engine, write=False) as s:
        assert s.execute(select(Ticket).where(Ticket.number == number)).first() is None
        assert s.execute(select(TicketDeletion)).first() is None
        actions = [a for (a,) in s.execute(select(AuditLog.action).where(AuditLog.object_type == "ticket"))]
        purged = s.execute(select(AuditLog.data).where(AuditLog.action == "ticket.purged")).scalar_one()
    assert {"ticket.deleted", "attachment.add", "ticket.purged"} <= set(actions)  # its life's rows stay
    assert purged["number"] == number and purged["ticket"]["subject"] == "Printer on fire"


def test_a_restored_ticket_is_not_purged(desk, with_file) -> None:
    number, stored = with_file
    with desk.tx() as tx:
        ticket_delete.delete(tx, number)
    with desk.tx() as tx, pytest.raises(Conflict, match="already deleted"):
        ticket_delete.delete(tx, number)
    with desk.tx() as tx:
        tickets.restore(tx, number)
    later = clock.now() + timedelta(days=365)
    assert ticket_delete.purge_due(desk.engine, stored.parent.parent, now=later)["restored"] == 1
    assert stored.exists()
    with desk.tx() as tx:
        assert ticket_delete.pending(tx, number) is None
        assert tickets.view(tx, number).number == number
