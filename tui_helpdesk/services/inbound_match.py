"""Which ticket an arriving message belongs to.

The order is fixed, strongest evidence first: a Message-ID we already hold (a duplicate); the
In-Reply-To/References headers naming a stored entry or one of our signed outgoing ids; a signed token
from one of our bodies; the ticket number in the subject, trusted only from the requester or a
collaborator (anyone can type ``[TCK-1042]``). A merged ticket hands over to the ticket it went into.
The keys themselves (signatures, subject numbers) are mail/threading.py's.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from tui_helpdesk.mail import threading as keys
from tui_helpdesk.mail.parse import ParsedMessage
from tui_helpdesk.models import Collaborator, Contact, InboundMessage, OutboundMessage, Ticket, TicketEntry

from . import lookup, outbound

MAX_MERGE_HOPS = 20


def is_duplicate(session: Session, message_id: str | None, journal_id: int | None) -> str | None:
    """Why a message with this id was seen before (None when it is new)."""
    if not message_id:
        return None
    q = select(InboundMessage.id).where(
        InboundMessage.message_id == message_id, InboundMessage.state.in_(("done", "ignored"))
    )
    if journal_id is not None:
        q = q.where(InboundMessage.id != journal_id)
    if session.execute(q.limit(1)).first():
        return "a message with this Message-ID was already processed"
    if session.execute(select(TicketEntry.id).where(TicketEntry.message_id == message_id).limit(1)).first():
        return "a thread entry already has this Message-ID"
    if session.execute(
        select(OutboundMessage.id).where(OutboundMessage.message_id == message_id).limit(1)
    ).first():
        return "this is a copy of a message we sent"
    return None


def follow_merges(session: Session, ticket_id: int) -> Ticket | None:
    ticket = session.get(Ticket, ticket_id)
    hops = 0
    while ticket is not None and ticket.merged_into_id is not None and hops < MAX_MERGE_HOPS:
        ticket = session.get(Ticket, ticket.merged_into_id)
        hops += 1
    return ticket


def by_headers(session: Session, parsed: ParsedMessage) -> int | None:
    for mid in keys.header_ids(parsed):
        ours = outbound.ticket_from_message_id(session, mid)
        if ours is not None:
            return ours
        found = session.execute(
            select(TicketEntry.ticket_id)
            .where(TicketEntry.message_id == mid)
            .order_by(TicketEntry.id)
            .limit(1)
        ).scalar()
        if found is not None:
            return found
        # Our unsigned outgoing rows (none are made today, but the table is the record of what we sent).
        found = session.execute(
            select(OutboundMessage.ticket_id)
            .where(OutboundMessage.message_id == mid, OutboundMessage.ticket_id.is_not(None))
            .limit(1)
        ).scalar()
        if found is not None:
            return found
    return None


def subject_tickets(session: Session, subject: str | None) -> list[Ticket]:
    """The tickets the bracketed numbers of a subject name, under the current or an older prefix."""
    found = (lookup.ticket_by_number(session, number) for number in keys.subject_numbers(subject))
    return list({t.id: t for t in found if t is not None}.values())


def is_participant(session: Session, ticket: Ticket, address: str | None) -> bool:
    if not address:
        return False
    contact = session.execute(select(Contact).where(Contact.email == address.lower())).scalars().first()
    if contact is None:
        return False
    if ticket.contact_id == contact.id:
        return True
    return session.get(Collaborator, (ticket.id, contact.id)) is not None


def by_subject(session: Session, parsed: ParsedMessage) -> int | None:
    """The newest ticket named in the subject whose requester or collaborator wrote the message.

    Newest, because a subject can carry an older number beside a newer one (a late reply opened a new
    ticket while the customer's client kept the old tag): the newer ticket is the live conversation."""
    matches = []
    for ticket in subject_tickets(session, parsed.subject):
        target = follow_merges(session, ticket.id) or ticket
        if any(is_participant(session, c, parsed.from_addr) for c in {ticket.id: ticket, target.id: target}.values()):
            matches.append(ticket)
    return max(matches, key=lambda t: t.id).id if matches else None


def find_ticket(session: Session, parsed: ParsedMessage) -> tuple[Ticket, str] | None:
    """The ticket this message continues, and how it was recognised; None for a new conversation."""
    for how, finder in (
        ("header", by_headers),
        ("token", lambda s, p: outbound.ticket_from_token(s, p.text, p.html)),
        ("subject", by_subject),
    ):
        ticket_id = finder(session, parsed)
        if ticket_id is not None:
            ticket = follow_merges(session, ticket_id)
            if ticket is not None:
                return ticket, how
    return None
