"""Who hears about a ticket change. Each function queues mail in the outbox, in the caller's transaction.

The mail layer (tui_helpdesk/mail/outbox.py) builds and queues the messages; this module decides
whether a change warrants one, so the ticket services stay free of mail details.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tui_helpdesk.models import Agent, Department, Team, Ticket, TicketEntry

    from .context import Tx


def reply_added(tx: Tx, ticket: Ticket, entry: TicketEntry) -> None:
    """A public reply goes to the requester and the collaborators."""
    from tui_helpdesk.mail import outbox

    outbox.queue_reply(tx, ticket, entry)


def assigned(tx: Tx, ticket: Ticket, agent: Agent | None, team: Team | None) -> None:
    from tui_helpdesk.mail import outbox

    outbox.queue_alert(tx, ticket, "assignment", agent=agent, team=team)


def transferred(tx: Tx, ticket: Ticket, department: Department) -> None:
    from tui_helpdesk.mail import outbox

    outbox.queue_alert(tx, ticket, "transfer", department=department)


def reopened(tx: Tx, ticket: Ticket) -> None:
    from tui_helpdesk.mail import outbox

    outbox.queue_alert(tx, ticket, "reopened")


def closed(tx: Tx, ticket: Ticket) -> None:
    from tui_helpdesk.mail import outbox

    outbox.queue_client_notice(tx, ticket, "closed")
