"""Contacts and organizations as an agent meets them: the requester search of the new-ticket form and
the per-client page (details, every ticket, time logged, notes), ITFlow's client view.

Tickets, time and notes are read through the queue query, so a page shows only what the actor may see
(visibility lives there); editing a contact goes through admin/clients.py, which checks who may.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from tui_helpdesk.models import Agent, Contact, Organization, Ticket, TicketEntry, TimeEntry

from . import directory
from .admin import clients
from .context import Tx
from .queries import QueueRow, TicketQuery, fetch_page

OPEN = ("new", "open", "pending")
DONE = ("resolved", "closed")
PAGE_LIMIT = 200  # the page lists this many open and this many done tickets at most


def search(tx: Tx, text: str, limit: int = 8) -> list[clients.ContactRow]:
    """Contacts whose address or name contains `text` (the requester field of the new-ticket form)."""
    text = text.strip()
    if len(text) < 2:
        return []
    return [c for c in clients.list_contacts(tx, text, limit=limit) if not c.archived]


@dataclass(frozen=True)
class NoteRow:
    ticket_number: str
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True)
class ClientPage:
    """One contact's or organization's page. `contact` or `organization` is set, the other None."""

    contact: clients.ContactRow | None
    organization: clients.OrganizationRow | None
    tickets: tuple[QueueRow, ...]  # open first, then resolved and closed; each newest first
    open_count: int
    minutes: int
    billable_minutes: int
    notes: tuple[NoteRow, ...]  # the latest internal notes on those tickets
    members: tuple[clients.ContactRow, ...] = ()  # an organization's contacts
    custom: tuple[Any, ...] = ()  # its custom fields with their values (custom_fields.ShownValue)
    assets: tuple[Any, ...] = ()  # an organization's assets (assets.AssetRow)

    @property
    def title(self) -> str:
        if self.contact is not None:
            return self.contact.name or self.contact.email
        return self.organization.name if self.organization else ""


def _tickets(tx: Tx, **where: int) -> tuple[list[QueueRow], int]:
    opened = fetch_page(tx, TicketQuery(states=OPEN, archived=None, **where), limit=PAGE_LIMIT).rows
    done = fetch_page(tx, TicketQuery(states=DONE, archived=None, **where), limit=PAGE_LIMIT).rows
    return [*opened, *done], len(opened)


def _time_and_notes(tx: Tx, ticket_ids: list[int], notes: int) -> tuple[int, int, list[NoteRow]]:
    if not ticket_ids:
        return 0, 0, []
    s = tx.session
    total, billable = s.execute(
        select(
            func.coalesce(func.sum(TimeEntry.minutes), 0),
            func.coalesce(func.sum(TimeEntry.minutes).filter(TimeEntry.billable.is_(True)), 0),
        ).where(TimeEntry.ticket_id.in_(ticket_ids))
    ).one()
    rows = s.execute(
        select(Ticket.number, Agent.name, TicketEntry.body, TicketEntry.created_at)
        .join(Ticket, Ticket.id == TicketEntry.ticket_id)
        .outerjoin(Agent, Agent.id == TicketEntry.agent_id)
        .where(
            TicketEntry.ticket_id.in_(ticket_ids),
            TicketEntry.kind == "note",
            TicketEntry.deleted_at.is_(None),
        )
        .order_by(TicketEntry.created_at.desc(), TicketEntry.id.desc())
        .limit(notes)
    ).all()
    return int(total), int(billable), [NoteRow(r[0], r[1] or "", r[2], r[3]) for r in rows]


def contact_page(tx: Tx, contact_id: int, notes: int = 10) -> ClientPage:
    contact = directory.contact(tx, contact_id)
    rows, open_count = _tickets(tx, contact_id=contact_id)
    total, billable, found = _time_and_notes(tx, [r.id for r in rows], notes)
    from . import custom_fields

    row = tx.session.get(Contact, contact_id)
    custom = custom_fields.shown_for(tx.session, "contact", row.custom_fields if row else None)
    return ClientPage(contact, None, tuple(rows), open_count, total, billable, tuple(found), custom=custom)


def organization_page(tx: Tx, organization_id: int, notes: int = 10) -> ClientPage:
    org = directory.organization(tx, organization_id)
    rows, open_count = _tickets(tx, organization_id=organization_id)
    total, billable, found = _time_and_notes(tx, [r.id for r in rows], notes)
    members = clients._contact_rows(tx, list(tx.session.execute(
        select(Contact).where(Contact.organization_id == org.id).order_by(Contact.email).limit(clients.LIST_LIMIT)
    ).scalars()))
    from . import assets, custom_fields

    row = tx.session.get(Organization, org.id)
    custom = custom_fields.shown_for(tx.session, "organization", row.custom_fields if row else None)
    return ClientPage(None, org, tuple(rows), open_count, total, billable, tuple(found), tuple(members),
                      custom=custom, assets=tuple(assets.list_assets(tx, org.id)))
