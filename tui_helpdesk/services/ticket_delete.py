"""Deleting a ticket for good: the last step after archiving, with the ticket.delete permission.

A ticket is archived first (tickets.archive), so a delete is never the first thing that happens to a live
ticket; it is refused while other tickets are merged into it. What the ticket was (its fields and its whole
thread) goes into the audit row of the delete, so nothing said on it is lost; the mail journal and the
outbox keep their rows, unlinked from it.
"""

from __future__ import annotations

from sqlalchemy import delete as sql_delete
from sqlalchemy import or_, select, update

from tui_helpdesk.models import (
    Attachment,
    Collaborator,
    EntryRevision,
    InboundMessage,
    OutboundMessage,
    Presence,
    ReplyDraft,
    Task,
    Ticket,
    TicketEntry,
    TicketEvent,
    TicketLink,
    TicketTag,
    TimeEntry,
)

from . import lookup, visibility
from .context import Tx, audit, require
from .errors import Conflict
from .ticket_view import detail
from .tickets import check_version


def delete(tx: Tx, ref: str | int, *, expected_version: int | None = None) -> str:
    """Delete an archived ticket; returns its number."""
    s = tx.session
    ticket = lookup.ticket(s, ref, lock=True)
    visibility.require_access(tx, ticket)
    check_version(tx, ticket, expected_version)
    require(tx, ticket, "ticket.delete")
    if not ticket.archived:
        raise Conflict(f"{ticket.number} is not archived: archive it first, then delete it")
    if s.execute(select(Ticket.id).where(Ticket.merged_into_id == ticket.id).limit(1)).first():
        raise Conflict(f"tickets are merged into {ticket.number}: it cannot be deleted")
    kept = detail(s, ticket).as_json()
    tid = ticket.id
    entry_ids = select(TicketEntry.id).where(TicketEntry.ticket_id == tid)
    for model in (InboundMessage, OutboundMessage):
        s.execute(update(model).where(model.ticket_id == tid).values(ticket_id=None, entry_id=None))
    s.execute(sql_delete(EntryRevision).where(EntryRevision.entry_id.in_(entry_ids)))
    s.execute(sql_delete(TicketLink).where(or_(TicketLink.ticket_id == tid, TicketLink.other_id == tid)))
    for model in (TimeEntry, Attachment, TicketTag, Collaborator, Task, Presence, TicketEvent, ReplyDraft):
        s.execute(sql_delete(model).where(model.ticket_id == tid))
    s.execute(sql_delete(TicketEntry).where(TicketEntry.ticket_id == tid))
    s.execute(sql_delete(Ticket).where(Ticket.id == tid))
    audit(tx, "ticket.deleted", "ticket", tid, number=kept["number"], ticket=kept)
    return str(kept["number"])
