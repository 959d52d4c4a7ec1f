"""The ticket as a screen shows it, read in one transaction: the detail, who else has it open, the
statuses a picker offers, and the change counter the read saw (so a poll knows when to read again)."""

from __future__ import annotations

from dataclasses import dataclass

from . import choices, presence, tickets
from .choices import Choice
from .context import CHANGE_COUNTER, Tx, read_counter
from .presence import Seen
from .ticket_view import TicketDetail


@dataclass(frozen=True)
class TicketPage:
    detail: TicketDetail
    seen: list[Seen]  # other agents with the ticket open
    statuses: list[Choice]
    counter: int


def load(tx: Tx, ticket_id: int, number: str | None = None) -> TicketPage:
    """`number` when the caller has it; a screen opened on an id resolves it here (digits are numbers)."""
    number = number or choices.ticket_number(tx.session, ticket_id)
    detail = tickets.view(tx, number, order="ASC", events=True)
    return TicketPage(detail, others_on(tx, detail.id), choices.statuses(tx.session), change_counter(tx))


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
