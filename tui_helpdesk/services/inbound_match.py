"""Which ticket an arriving message belongs to.

The order is fixed, strongest evidence first: a Message-ID we already hold (a duplicate); the
In-Reply-To/References headers naming a stored entry or one of our signed outgoing ids; a signed token
from one of our bodies; the ticket number in the subject. A merged ticket hands over to the ticket it
went into. The keys themselves (signatures, subject numbers) are mail/threading.py's.

Every key can reach a stranger (a customer's Message-ID is in every Cc'd inbox, a token in every
forwarded reply, anyone can type ``[TCK-1042]``), so a key only says which ticket a message points
at; whether it may join that ticket is ``participant()``'s answer, the one rule for every key.
"""

from __future__ import annotations

import functools

from sqlalchemy import Select, bindparam, exists, func, select
from sqlmodel import Session

from tui_helpdesk.mail import threading as keys
from tui_helpdesk.mail.parse import ParsedMessage
from tui_helpdesk.models import (
    Agent,
    Collaborator,
    Contact,
    InboundMessage,
    OutboundMessage,
    Ticket,
    TicketEntry,
)

from . import lookup, outbound, settings

MAX_MERGE_HOPS = 20


_DUPLICATE_REASONS = (
    "a message with this Message-ID was already processed",
    "a thread entry already has this Message-ID",
    "this is a copy of a message we sent",
)


@functools.cache
def _duplicate_check() -> Select:
    """Whether each of the three places a Message-ID may already be holds it (_DUPLICATE_REASONS'
    order), as one statement built once: every message asks all three, and building a SELECT, or
    running three, cost more than the index probes."""
    mid = bindparam("mid")
    journal, entry, sent = InboundMessage.__table__.c, TicketEntry.__table__.c, OutboundMessage.__table__.c
    return select(
        exists().where(journal.message_id == mid, journal.state.in_(("done", "ignored")),
                       journal.id != bindparam("journal_id")),
        # min(id), as entry_ticket_by_message_id: SQLite's statistics made EXISTS scan the thread table
        select(func.min(entry.id)).where(entry.message_id == mid).scalar_subquery().is_not(None),
        exists().where(sent.message_id == mid),
    )  # fmt: skip


def is_duplicate(session: Session, message_id: str | None, journal_id: int | None) -> str | None:
    """Why a message with this id was seen before (None when it is new)."""
    if not message_id:
        return None
    session.flush()  # a Core read: what this transaction wrote must be in the database first
    params = {"mid": message_id, "journal_id": journal_id if journal_id is not None else -1}
    found = session.connection().execute(_duplicate_check(), params).one()
    return next((why for why, hit in zip(_DUPLICATE_REASONS, found, strict=True) if hit), None)


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
        # Core reads (built once; is_duplicate flushed this transaction's rows): an entry's id, then our
        # unsigned outgoing rows (none are made today, but the table is the record of what we sent)
        conn = session.connection()
        for stmt in (_entry_ticket(), _sent_ticket()):
            found = conn.execute(stmt, {"mid": mid}).scalar()
            if found is not None:
                return found
    return None


@functools.cache
def _sent_ticket() -> Select:
    o = OutboundMessage.__table__.c
    return select(o.ticket_id).where(o.message_id == bindparam("mid"), o.ticket_id.is_not(None)).limit(1)


@functools.cache
def _entry_ticket() -> Select:
    e = TicketEntry.__table__.c
    first = select(func.min(e.id)).where(e.message_id == bindparam("mid")).scalar_subquery()
    return select(e.ticket_id).where(e.id == first)


def entry_ticket_by_message_id(mid: str) -> Select:
    """The ticket of the first entry with this Message-ID, read from ix_entry_message_id (message_id, id).

    As min(id), not ORDER BY id LIMIT 1: SQLite's statistics count the NULLs of entries without a
    Message-ID (notes, replies typed in the app) as one value shared by most rows, and after ANALYZE it
    walked the whole thread table in id order for the first match (5M rows). An aggregate has no
    order to walk; PostgreSQL turns it back into the same ordered range of the index."""
    return _entry_ticket().params(mid=mid)


def subject_tickets(session: Session, subject: str | None) -> list[Ticket]:
    """The tickets the bracketed numbers of a subject name, under the current or an older prefix."""
    found = (lookup.ticket_by_number(session, number) for number in keys.subject_numbers(subject))
    return list({t.id: t for t in found if t is not None}.values())


def agent_by_address(session: Session, address: str | None) -> Agent | None:
    """The active agent whose own address this is (the agent record, not a name in a header)."""
    if not address:
        return None
    return (
        session.execute(
            select(Agent).where(func.lower(Agent.email) == address.strip().lower(), Agent.active.is_(True))
        )
        .scalars()
        .first()
    )


@functools.cache
def contact_by_email() -> Select:
    """The contact with the address ``email`` (built once: every arriving message asks)."""
    return select(Contact).where(Contact.email == bindparam("email"))


def participant(session: Session, ticket: Ticket, address: str | None) -> str | None:
    """How the sender of a message takes part in a ticket, or None for a stranger.

    "requester"; "collaborator" (added by an agent or by a participant's Cc: writing in never makes
    one); "agent" (an active agent's own address); "organization" (an address of the ticket's
    organization, only when the thread_org_members setting allows it)."""
    if not address:
        return None
    address = address.strip().lower()
    contact = session.execute(contact_by_email(), {"email": address}).scalars().first()
    if contact is not None:
        if ticket.contact_id == contact.id:
            return "requester"
        if session.get(Collaborator, (ticket.id, contact.id)) is not None:
            return "collaborator"
    if agent_by_address(session, address) is not None:
        return "agent"
    if ticket.organization_id is not None and settings.get(session, "thread_org_members"):
        org_id = contact.organization_id if contact is not None else None
        if org_id is None:
            org = lookup.organization_for_domain(session, address)
            org_id = org.id if org is not None else None
        if org_id == ticket.organization_id:
            return "organization"
    return None


def is_participant(session: Session, ticket: Ticket, address: str | None) -> bool:
    return participant(session, ticket, address) is not None


def by_subject(session: Session, parsed: ParsedMessage) -> int | None:
    """The newest ticket named in the subject whose participant wrote the message, else the newest named.

    Newest, because a subject can carry an older number beside a newer one (a late reply opened a new
    ticket while the customer's client kept the old tag): the newer ticket is the live conversation.
    A ticket the sender takes no part in is still returned when it is the only kind named: the ingest
    then opens a new ticket linked to it rather than joining it."""
    named = subject_tickets(session, parsed.subject)
    matches = []
    for ticket in named:
        target = follow_merges(session, ticket.id) or ticket
        if any(is_participant(session, c, parsed.from_addr) for c in {ticket.id: ticket, target.id: target}.values()):
            matches.append(ticket)
    pick = matches or named
    return max(pick, key=lambda t: t.id).id if pick else None


def find_ticket(session: Session, parsed: ParsedMessage) -> tuple[Ticket, str, int] | None:
    """The ticket this message continues, how it was recognised, and the id it pointed at (before
    following merges); None for a new conversation. Whether the sender may join it is sender_role's."""
    for how, finder in (
        ("header", by_headers),
        ("token", lambda s, p: outbound.ticket_from_token(s, p.text, p.html)),
        ("subject", by_subject),
    ):
        ticket_id = finder(session, parsed)
        if ticket_id is not None:
            ticket = follow_merges(session, ticket_id)
            if ticket is not None:
                return ticket, how, ticket_id
    return None


def sender_role(session: Session, ticket: Ticket, pointed_id: int, address: str | None) -> str | None:
    """participant() on the ticket, or on the merged ticket the message pointed at (its people were
    that ticket's before the merge)."""
    role = participant(session, ticket, address)
    if role is None and pointed_id != ticket.id:
        pointed = session.get(Ticket, pointed_id)
        role = participant(session, pointed, address) if pointed is not None else None
    return role
