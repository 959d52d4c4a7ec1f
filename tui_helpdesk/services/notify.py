"""Who hears about a ticket change. Each function queues mail in the outbox, in the caller's transaction.

The outbox (services/outbound.py) builds and queues the messages and applies the alert_* and
notify_client_* settings; this module is the ticket services' one door to it, so they stay free of
mail details. None of these raise for lack of recipients: nobody to tell means nothing is queued.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from . import outbound

if TYPE_CHECKING:
    from tui_helpdesk.models import Agent, Contact, Department, Team, Ticket, TicketEntry

    from .context import Tx


_muted: ContextVar[bool] = ContextVar("notify_muted", default=False)
F = TypeVar("F", bound=Callable[..., None])


@contextmanager
def suppressed() -> Iterator[None]:
    """No mail for changes made inside the block (the demo replays fictional history)."""
    token = _muted.set(True)
    try:
        yield
    finally:
        _muted.reset(token)


def _unless_muted(fn: F) -> F:
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        if not _muted.get():
            fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@_unless_muted
def reply_added(tx: Tx, ticket: Ticket, entry: TicketEntry) -> None:
    """A public reply goes to the requester, with the collaborators on Cc."""
    outbound.queue_reply(tx, ticket, entry)


@_unless_muted
def created(tx: Tx, ticket: Ticket, message: str = "", *, client: bool = True) -> None:
    """A ticket an agent opened: the new-ticket alert (and distribution list) and, unless the agent
    said not to (`client=False`), the client notice.

    Mail-created tickets get their alert and autoresponse from the ingest instead.
    """
    outbound.queue_alert(tx, ticket, "new_ticket", message=message)
    if client:
        outbound.queue_client_notice(tx, ticket, "created", message=message)


@_unless_muted
def mail_arrived(tx: Tx, ticket: Ticket, kind: str, sender: Contact, message: str = "") -> None:
    """The alert for mail that opened a ticket ("new_ticket") or joined one ("new_message").

    It names who wrote, not the requester: on a thread with collaborators they differ. And each agent
    hears of one ticket at most alert_rate_limit_per_ticket_per_hour times an hour, so a mail loop with
    a robot that sets no auto headers (50 messages) cannot become hundreds of alerts."""
    outbound.queue_alert(
        tx,
        ticket,
        kind,
        message=message,
        quiet=set() if kind == "new_ticket" else _alerted_enough(tx, ticket),  # a new ticket had no alerts
        variables={"sender": outbound.person_label(sender.name, sender.email)},
    )


def _alerted_enough(tx: Tx, ticket: Ticket) -> set[str]:
    """The addresses that reached the per-ticket alert limit in the last hour."""
    from datetime import timedelta

    from . import settings

    limit = int(settings.get(tx.session, "alert_rate_limit_per_ticket_per_hour"))
    if not limit or ticket.id is None:
        return set()
    outbound.flush_queued(tx.session)  # a Core read: this transaction's alerts count too
    rows = tx.session.connection().execute(
        _alert_counts(), {"ticket_id": ticket.id, "since": tx.now - timedelta(hours=1)}
    )
    counts: Counter[str] = Counter()
    for listed, n in rows:
        for address in (json.loads(listed) if listed else None) or []:
            counts[address.lower()] += n
    return {address for address, n in counts.items() if n >= limit}


@functools.cache
def _alert_counts() -> Any:
    """The ticket's alerts of the last hour as (recipient list, how many rows had it): a ticket's 60
    first alerts, one per agent, were 60 rows decoded through the ORM for every message on it."""
    from sqlalchemy import Text, bindparam, cast, func, select

    from tui_helpdesk.models import OutboundMessage

    c = OutboundMessage.__table__.c
    listed = cast(c.to_addrs, Text)
    return (
        select(listed, func.count())
        .where(c.ticket_id == bindparam("ticket_id"), c.kind.like("alert.%"), c.created_at >= bindparam("since"))
        .group_by(listed)
    )


@_unless_muted
def assigned(tx: Tx, ticket: Ticket, agent: Agent | None, team: Team | None) -> None:
    outbound.queue_alert(tx, ticket, "assignment", agent=agent, team=team)


@_unless_muted
def transferred(tx: Tx, ticket: Ticket, department: Department) -> None:
    outbound.queue_alert(tx, ticket, "transfer", department=department)


@_unless_muted
def reopened(tx: Tx, ticket: Ticket) -> None:
    outbound.queue_alert(tx, ticket, "reopened")


@_unless_muted
def closed(tx: Tx, ticket: Ticket) -> None:
    outbound.queue_client_notice(tx, ticket, "closed")
