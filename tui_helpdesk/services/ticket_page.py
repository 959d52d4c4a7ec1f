"""The ticket as a screen shows it, read in one transaction: the detail, the newest page of its thread,
who else has it open, the statuses a picker offers, and the change counter the read saw (so a poll
knows when to read again)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import choices, lookup, presence, visibility
from .choices import Choice
from .context import CHANGE_COUNTER, Tx, read_counter
from .errors import ServiceError
from .presence import Seen
from .ticket_view import Cursor, ThreadPage, TicketDetail, detail, thread_page

PAGE = 60  # thread items read at a time: more than any terminal shows at once


@dataclass(frozen=True)
class TicketPage:
    detail: TicketDetail  # its `thread` is empty: the items are in `thread`
    thread: ThreadPage
    seen: list[Seen]  # other agents with the ticket open
    statuses: list[Choice]
    counter: int
    # with_drafts: the actor's drafts kept here (services/drafts.SavedDraft), or why they were not read
    drafts: tuple[Any, ...] | None = None
    drafts_error: str = ""


def load(tx: Tx, ticket_id: int, number: str | None = None, *, items: int = PAGE,
         with_drafts: bool = False) -> TicketPage:
    """`number` when the caller has it; a screen opened on an id resolves it here (digits are numbers).
    `items`: at least this many of the newest thread items (a reload keeps what the agent scrolled to).
    `with_drafts`: also the actor's kept drafts (a screen's first read: one transaction, not two)."""
    ticket = _findable(tx, number or ticket_id)  # an int is an id (a str of digits would be a number)
    shown = detail(tx.session, ticket, thread=False)
    page = thread_page(tx.session, ticket, limit=max(items, 1))
    kept: tuple[Any, ...] | None = None
    refused = ""
    if with_drafts:
        from . import drafts  # here: it imports the write services, which a ticket's reads do not need

        try:
            kept = tuple(drafts.kept(tx, ticket.id))
        except ServiceError as exc:  # the ticket still opens, with no kept draft, and says why
            kept, refused = (), str(exc)
    return TicketPage(shown, page, others_on(tx, ticket.id), choices.statuses(tx.session), change_counter(tx),
                      kept, refused)


def earlier(tx: Tx, number: str, before: Cursor, *, items: int = PAGE) -> ThreadPage:
    """The page of thread items just before `before` (the oldest item a screen has)."""
    return thread_page(tx.session, _findable(tx, number), limit=items, before=before)


def _findable(tx: Tx, ref: str | int):
    ticket = lookup.ticket(tx.session, ref)
    visibility.require_findable(tx, ticket)  # as tickets.view: ticket.view_any reaches any ticket
    return ticket


@dataclass(frozen=True)
class Poll:
    counter: int
    seen: list[Seen]


def poll(tx: Tx, ticket_id: int) -> Poll:
    """The cheap read a screen repeats: has anything changed, and who else is here now."""
    return Poll(change_counter(tx), others_on(tx, ticket_id))


def others_on(tx: Tx, ticket_id: int) -> list[Seen]:
    return list(presence.on_tickets(tx, [ticket_id]).values())


def change_counter(tx: Tx) -> int:
    """Moves on every committed write; screens poll it and re-read what they show when it moved."""
    return read_counter(tx.session, CHANGE_COUNTER)
