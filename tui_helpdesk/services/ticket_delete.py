"""Deleting a ticket (seed 002's DELETE), with the ticket.delete permission, in two steps.

1. `delete`: the ticket is archived (out of every queue) and listed in ticket_deletion with the day it
   will be purged: `ticket_delete_retention_days` (a setting) from now. Until then it can be restored
   (tickets.restore); a restored ticket is taken off the list by the next purge pass.
2. `purge_due` (the worker, once a pass): each listed ticket past its day is removed with its thread, and
   its attachment files are removed from disk after the commit. What the ticket was (its fields and its
   whole thread) goes into the audit row of the purge, so nothing said on it is lost; the mail journal
   and the outbox keep their rows, unlinked from it; the audit rows of its life stay.

Deleting is refused while other tickets are merged into it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, or_, select, update
from sqlalchemy import delete as sql_delete

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
    TicketDeletion,
    TicketEntry,
    TicketEvent,
    TicketLink,
    TicketTag,
    TimeEntry,
)

from . import lookup, settings, visibility
from .context import Actor, Tx, audit, event, require, transaction
from .errors import Conflict
from .ticket_view import detail
from .tickets import check_version

log = logging.getLogger(__name__)
PURGE_BATCH = 100


@dataclass(frozen=True)
class Deleted:
    number: str
    purge_after: datetime


def delete(tx: Tx, ref: str | int, *, expected_version: int | None = None) -> str:
    """Delete a ticket: archive it and schedule its purge; returns its number."""
    return request(tx, ref, expected_version=expected_version).number


def request(tx: Tx, ref: str | int, *, expected_version: int | None = None) -> Deleted:
    s = tx.session
    ticket = lookup.ticket(s, ref, lock=True)
    visibility.require_access(tx, ticket)
    check_version(tx, ticket, expected_version)
    require(tx, ticket, "ticket.delete")
    pending = s.get(TicketDeletion, ticket.id)
    if pending is not None and ticket.archived:
        raise Conflict(f"{ticket.number} is already deleted; it is purged after {pending.purge_after:%Y-%m-%d}")
    if s.execute(select(Ticket.id).where(Ticket.merged_into_id == ticket.id).limit(1)).first():
        raise Conflict(f"tickets are merged into {ticket.number}: it cannot be deleted")
    if _invoiced(tx, ticket.id or 0):
        raise Conflict(f"{ticket.number} has invoiced time: the invoice keeps it, so it cannot be deleted")
    days = int(settings.get(s, "ticket_delete_retention_days"))
    purge_after = tx.now + timedelta(days=days)
    if pending is None:
        s.add(TicketDeletion(ticket_id=ticket.id or 0, deleted_at=tx.now, deleted_by_id=tx.actor.agent_id,
                             purge_after=purge_after))
    else:  # restored since an earlier delete, not yet swept: a new period
        pending.deleted_at, pending.purge_after, pending.deleted_by_id = tx.now, purge_after, tx.actor.agent_id
        s.add(pending)
    was_archived = ticket.archived
    ticket.archived = True
    ticket.visible = False
    event(tx, ticket, "deleted", purge_after=purge_after, was_archived=was_archived, retention_days=days)
    return Deleted(ticket.number, purge_after)


def pending(tx: Tx, ref: str | int) -> datetime | None:
    """When a deleted ticket will be purged (None: it is not deleted)."""
    ticket = lookup.ticket(tx.session, ref)
    visibility.require_access(tx, ticket)
    row = tx.session.get(TicketDeletion, ticket.id)
    return row.purge_after if row is not None and ticket.archived else None


def purge_due(engine: Engine, attachments_dir: Path | None, *, now: datetime | None = None) -> dict[str, int]:
    """The worker's step: purge every deleted ticket past its day, one transaction each; counts."""
    from tui_helpdesk import clock
    from tui_helpdesk.db import session_scope

    at = now or clock.now()
    counts = {"purged": 0, "restored": 0, "files_removed": 0}
    with session_scope(engine, write=False) as s:
        due = list(s.execute(
            select(TicketDeletion.ticket_id).where(TicketDeletion.purge_after <= at)
            .order_by(TicketDeletion.purge_after).limit(PURGE_BATCH)
        ).scalars())
    for tid in due:
        with transaction(engine, Actor.system()) as tx:
            files = _purge_one(tx, tid)
        if files is None:
            counts["restored"] += 1
            continue
        counts["purged"] += 1
        # after the commit: a purge that failed leaves the files with their rows
        for name in files:
            if attachments_dir is not None and _remove(Path(attachments_dir) / name):
                counts["files_removed"] += 1
    return counts


def _remove(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False
    except OSError:  # the orphan sweep gets it later
        log.warning("could not remove %s", path)
        return False


def _purge_one(tx: Tx, tid: int) -> list[str] | None:
    """Remove the ticket; its stored file names, or None when it was restored (nothing removed)."""
    s = tx.session
    row = s.get(TicketDeletion, tid, with_for_update=True)
    ticket = s.get(Ticket, tid)
    if row is None:
        return []
    if ticket is None or not ticket.archived or _invoiced(tx, tid) or (
        s.execute(select(Ticket.id).where(Ticket.merged_into_id == tid).limit(1)).first()
    ):
        s.delete(row)
        tx.changed = True
        return None
    files = list(s.execute(select(Attachment.storage_name).where(Attachment.ticket_id == tid)).scalars())
    kept = detail(s, ticket).as_json()
    entry_ids = select(TicketEntry.id).where(TicketEntry.ticket_id == tid)
    for model in (InboundMessage, OutboundMessage):
        s.execute(update(model).where(model.ticket_id == tid).values(ticket_id=None, entry_id=None))
    s.execute(sql_delete(EntryRevision).where(EntryRevision.entry_id.in_(entry_ids)))
    s.execute(sql_delete(TicketLink).where(or_(TicketLink.ticket_id == tid, TicketLink.other_id == tid)))
    for model in (TimeEntry, Attachment, TicketTag, Collaborator, Task, Presence, TicketEvent, ReplyDraft,
                  TicketDeletion):
        s.execute(sql_delete(model).where(model.ticket_id == tid))
    for column in _other_references():  # tables added since (custom field values, assets, ...)
        stmt = column.table.update().values({column.name: None}) if column.nullable else column.table.delete()
        s.execute(stmt.where(column == tid))
    s.execute(sql_delete(TicketEntry).where(TicketEntry.ticket_id == tid))
    s.execute(sql_delete(Ticket).where(Ticket.id == tid))
    audit(tx, "ticket.purged", "ticket", tid, number=kept["number"], files=len(files), ticket=kept)
    return files


# Tables whose rows stay with a history of their own: a ticket referenced there is never purged.
_KEEPING = frozenset({"invoice_line"})
_HANDLED = frozenset({
    "ticket", "ticket_entry", "time_entry", "attachment", "ticket_tag", "collaborator", "task", "presence",
    "ticket_event", "reply_draft", "ticket_deletion", "ticket_link", "inbound_message", "outbound_message",
})


def _references() -> list[Any]:
    from tui_helpdesk.models import load_all

    ticket_id = Ticket.__table__.c.id
    return [
        fk.parent for table in load_all().tables.values() for fk in table.foreign_keys
        if fk.column is ticket_id
    ]


def _other_references() -> list[Any]:
    return [c for c in _references() if c.table.name not in _HANDLED | _KEEPING]


def _invoiced(tx: Tx, tid: int) -> bool:
    for column in _references():
        if column.table.name in _KEEPING:
            if tx.session.execute(select(column).where(column == tid).limit(1)).first():
                return True
    return False
