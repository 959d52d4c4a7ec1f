"""Typed, always-bidirectional ticket links; resolving children; merging threads under a parent."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select, update

from tui_helpdesk.models import LINK_INVERSE, Collaborator, Contact, Ticket, TicketLink

from . import lookup
from .context import Tx, event, require
from .errors import Conflict, ValidationError
from .ticket_view import TicketDetail, detail
from .tickets import DONE_STATES, _change_status, add_participant, load

LINK_KINDS = ("related_to", "parent_of", "child_of", "caused_by", "duplicate_of")


def link(tx: Tx, ref: str | int, other_ref: str | int, kind: str = "related_to", *,
         expected_version: int | None = None) -> TicketDetail:
    """Link two tickets; `expected_version` is the version of `ref` the caller saw."""
    ticket = add_link(tx, ref, other_ref, kind, expected_version=expected_version)
    return detail(tx.session, ticket)


def add_link(tx: Tx, ref: str | int, other_ref: str | int, kind: str = "related_to", *,
             expected_version: int | None = None) -> Ticket:
    """`link` without the ticket view it returns (the mail ingest links and never shows the ticket)."""
    kind = str(kind or "").strip().lower().replace("-", "_").replace(" ", "_")
    if kind not in LINK_INVERSE:
        raise ValidationError("kind", f"unknown link type {kind!r} (one of {', '.join(LINK_KINDS)})")
    ticket = load(tx, ref, expected_version)
    other = load(tx, other_ref)
    if ticket.id == other.id:
        raise ValidationError("ticket", "a ticket cannot be linked to itself")
    require(tx, ticket, "ticket.link")
    require(tx, other, "ticket.link")
    if kind in ("parent_of", "child_of"):
        child, parent = (other, ticket) if kind == "parent_of" else (ticket, other)
        if _is_ancestor(tx, child.id, parent.id):
            raise ValidationError("kind", f"{child.number} is already above {parent.number}; that would be a cycle")
    existing = tx.session.get(TicketLink, (ticket.id, other.id))
    if existing is not None:
        if existing.kind == kind:
            raise Conflict(f"{ticket.number} is already linked to {other.number} as {kind}")
        # one link per pair: a new type replaces the old in both directions
        _unlink_rows(tx, ticket.id, other.id)
    tx.session.add(TicketLink(ticket_id=ticket.id, other_id=other.id, kind=kind, created_at=tx.now,
                              created_by_id=tx.actor.agent_id))
    tx.session.add(TicketLink(ticket_id=other.id, other_id=ticket.id, kind=LINK_INVERSE[kind], created_at=tx.now,
                              created_by_id=tx.actor.agent_id))
    event(tx, ticket, "linked", kind=kind, other=other.number)
    event(tx, other, "linked", kind=LINK_INVERSE[kind], other=ticket.number)
    tx.session.flush()
    return ticket


def _is_ancestor(tx: Tx, candidate: int, of: int) -> bool:
    """Is `candidate` a parent (at any depth) of `of`?"""
    seen: set[int] = set()
    frontier = [of]
    while frontier:
        current = frontier.pop()
        parents = tx.session.execute(
            select(TicketLink.other_id).where(TicketLink.ticket_id == current, TicketLink.kind == "child_of")
        ).scalars().all()
        for p in parents:
            if p == candidate:
                return True
            if p not in seen:
                seen.add(p)
                frontier.append(p)
    return False


def _unlink_rows(tx: Tx, a: int, b: int) -> None:
    tx.session.execute(delete(TicketLink).where(
        ((TicketLink.ticket_id == a) & (TicketLink.other_id == b)) | ((TicketLink.ticket_id == b) & (TicketLink.other_id == a))
    ))


def unlink(tx: Tx, ref: str | int, other_ref: str | int, *, expected_version: int | None = None) -> TicketDetail:
    ticket = load(tx, ref, expected_version)
    other = load(tx, other_ref)
    require(tx, ticket, "ticket.link")
    require(tx, other, "ticket.link")
    row = tx.session.get(TicketLink, (ticket.id, other.id))
    if row is None:
        raise Conflict(f"{ticket.number} is not linked to {other.number}")
    _unlink_rows(tx, ticket.id, other.id)
    event(tx, ticket, "unlinked", kind=row.kind, other=other.number)
    event(tx, other, "unlinked", kind=LINK_INVERSE[row.kind], other=ticket.number)
    tx.session.flush()
    return detail(tx.session, ticket)


def resolve_children(tx: Tx, ref: str | int, notes: str | None = None, *,
                     expected_version: int | None = None) -> list[str]:
    """Resolve every open child with the parent's resolution notes (or the notes given)."""
    parent = load(tx, ref, expected_version)
    require(tx, parent, "ticket.close")
    notes = notes if notes is not None else parent.resolution_notes
    resolved_status = lookup.default_status_for(tx.session, "resolved")
    children = tx.session.execute(
        select(Ticket).join(TicketLink, TicketLink.other_id == Ticket.id)
        .where(TicketLink.ticket_id == parent.id, TicketLink.kind == "parent_of").order_by(Ticket.id)
    ).scalars().all()
    done = []
    for child in children:
        if child.state in DONE_STATES:
            continue
        require(tx, child, "ticket.close")
        _change_status(tx, child, resolved_status, notes or "")
        event(tx, child, "resolved_by_parent", parent=parent.number)
        done.append(child.number)
    if done:
        event(tx, parent, "children_resolved", children=done)
    return done


def merge(tx: Tx, parent_ref: str | int, child_refs: Iterable[str | int], *,
          expected_version: int | None = None) -> TicketDetail:
    """Combine threads under the parent. Children stay as records, hidden from queues, closed.

    The merge permission is needed on both sides: the parent's department and every child's.
    The parent's thread shows the children's entries (see ticket_view.thread_items); requesters
    and collaborators of the children become collaborators on the parent so they keep hearing.
    `expected_version` is the version of the parent the caller saw.
    """
    parent = load(tx, parent_ref, expected_version)
    require(tx, parent, "ticket.merge")
    if parent.merged_into_id is not None:
        raise Conflict(f"{parent.number} is itself merged into another ticket")
    children = []
    for ref in child_refs:
        child = load(tx, ref)
        if child.id == parent.id:
            raise ValidationError("ticket", "a ticket cannot be merged into itself")
        if child.merged_into_id is not None:
            raise Conflict(f"{child.number} is already merged")
        require(tx, child, "ticket.merge")
        children.append(child)
    if not children:
        raise ValidationError("tickets", "name at least one ticket to merge")
    closed_status = lookup.default_status_for(tx.session, "closed")
    for child in children:
        # grandchildren merged earlier into this child now hang under the parent
        tx.session.execute(update(Ticket).where(Ticket.merged_into_id == child.id).values(merged_into_id=parent.id))
        participants = [child.contact_id] + list(tx.session.execute(
            select(Collaborator.contact_id).where(Collaborator.ticket_id == child.id)
        ).scalars())
        for contact_id in participants:
            contact = tx.session.get(Contact, contact_id) if contact_id else None
            if contact is not None:
                add_participant(tx, parent, contact.email)
        child.merged_into_id = parent.id
        child.visible = False
        if child.state != "closed":
            _change_status(tx, child, closed_status, None)
        event(tx, child, "merged_into", parent=parent.number)
        event(tx, parent, "merged_from", child=child.number, subject=child.subject)
    tx.session.flush()
    return detail(tx.session, parent)
