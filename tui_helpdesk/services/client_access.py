"""The customer's read-only view of their ticket, opened with the ticket's client access key (seed 004's `c`).

What a customer may see is decided here, once: the ticket's number, subject, status, department and dates,
and the thread's messages and public replies. Never internal notes, deleted entries, events, or agent-only
fields (assignee, team, SLA, tags, custom fields, version). A wrong key and an unknown number get the same
answer, so the view cannot be used to find out which numbers exist.
"""

from __future__ import annotations

import hmac
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from tui_helpdesk.models import Ticket

from . import lookup
from .context import Tx
from .errors import NotFound
from .ticket_view import detail


@dataclass(frozen=True)
class PublicEntry:
    id: int
    kind: str  # message (from the customer) | reply (from the help desk)
    author: str
    created_at: datetime
    body: str
    attachments: tuple[str, ...]


@dataclass(frozen=True)
class PublicTicket:
    number: str
    subject: str
    status: str
    state: str
    department: str
    requester: str
    created_at: datetime
    updated_at: datetime
    entries: tuple[PublicEntry, ...]

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        for item in [out, *out["entries"]]:
            for key, value in item.items():
                if isinstance(value, datetime):
                    item[key] = value.isoformat()
        return out


def key_of(ticket: Ticket) -> str:
    """The ticket's client key, for the notices' templates ("" for a ticket that has none)."""
    return ticket.client_key or ""


def view(tx: Tx, number: str, key: str, *, order: str = "ASC") -> PublicTicket:
    refused = NotFound("no ticket with that number and access key")
    try:
        ticket = lookup.ticket(tx.session, number)
    except NotFound:
        raise refused from None
    if not ticket.client_key or not hmac.compare_digest(ticket.client_key.encode(), (key or "").encode()):
        raise refused
    d = detail(tx.session, ticket, order=order, events=False, staff=False)
    entries = tuple(
        PublicEntry(
            id=i.id, kind=i.kind, author=i.author,
            created_at=i.created_at, body=i.body, attachments=tuple(a.filename for a in i.attachments),
        )
        for i in d.thread
        if i.kind in ("message", "reply") and not i.deleted
    )
    return PublicTicket(
        number=d.number, subject=d.subject, status=d.status, state=d.state, department=d.department,
        requester=d.requester, created_at=d.created_at, updated_at=d.updated_at, entries=entries,
    )
