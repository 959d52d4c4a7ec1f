"""Canned responses: the ones an agent may use on a ticket, and their variables filled in.

Admins create and edit them with services/admin (create_canned ...).

Variables are written `%{ticket.number}` (osTicket's spelling). An unknown variable is left as
typed so the agent sees it in the draft and fixes it, rather than sending a silent blank.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import or_, select

from tui_helpdesk.models.views import CannedResponse

from .context import Tx
from .queries import Bind, _connect
from .ticket_view import TicketDetail

VARIABLE = re.compile(r"%\{\s*([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)\s*\}")
VARIABLES = (
    "ticket.number",
    "ticket.subject",
    "ticket.status",
    "ticket.priority",
    "ticket.department",
    "ticket.due",
    "recipient.name",
    "recipient.email",
    "organization.name",
    "agent.name",
    "agent.email",
    "ticket.resolution",
)
CUSTOM_PREFIX = "ticket.custom."  # %{ticket.custom.NAME}: one per custom field of the ticket


@dataclass(frozen=True)
class Canned:
    id: int
    title: str
    body: str
    department_id: int | None
    owner_id: int | None


def list_for(bind: Bind, agent_id: int | None, department_id: int | None) -> list[Canned]:
    """Active responses usable on a ticket of `department_id`: shared ones (no owner) and the
    agent's own, for every department or for this one. Titles in alphabetical order."""
    t = CannedResponse.__table__.c
    stmt = (
        select(t.id, t.title, t.body, t.department_id, t.owner_id)
        .where(t.active.is_(True))
        .where(or_(t.owner_id.is_(None), t.owner_id == agent_id))
        .where(or_(t.department_id.is_(None), t.department_id == department_id))
        .order_by(t.title, t.id)
    )
    with _connect(bind) as conn:
        return [Canned(r.id, r.title, r.body, r.department_id, r.owner_id) for r in conn.execute(stmt)]


def variables_for(ticket: TicketDetail, agent_name: str = "", agent_email: str = "") -> dict[str, str]:
    """The values of every variable for one ticket and the agent writing."""
    return {
        "ticket.number": ticket.number,
        "ticket.subject": ticket.subject,
        "ticket.status": ticket.status,
        "ticket.priority": ticket.priority,
        "ticket.department": ticket.department,
        "ticket.due": ticket.due_at.strftime("%Y-%m-%d %H:%M UTC") if ticket.due_at else "",
        "recipient.name": ticket.requester or ticket.requester_email,
        "recipient.email": ticket.requester_email,
        "organization.name": ticket.organization,
        "agent.name": agent_name,
        "agent.email": agent_email,
        "ticket.resolution": ticket.resolution_notes,
        **{f"{CUSTOM_PREFIX}{v.name}": v.text for v in ticket.custom},
    }


def expand(body: str, values: Mapping[str, str]) -> str:
    """Replace each `%{name}` that `values` knows; leave the others as written."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        return values[name] if name in values else m.group(0)

    return VARIABLE.sub(sub, body)


def unknown_variables(body: str) -> list[str]:
    """Variables in a body that `expand` would leave untouched (for a warning before sending)."""
    return sorted({m.group(1) for m in VARIABLE.finditer(body)
                   if m.group(1) not in VARIABLES and not m.group(1).startswith(CUSTOM_PREFIX)})


def require_known_variables(body: str) -> None:
    """Refuse a canned body with a variable `expand` does not know (a typo would reach customers)."""
    unknown = unknown_variables(body)
    if unknown:
        from .errors import ValidationError

        names = ", ".join(f"%{{{u}}}" for u in unknown)
        raise ValidationError("body", f"unknown variable {names}; known: {', '.join(VARIABLES)}")


def spaced(before: str, snippet: str, after: str) -> str:
    """`snippet` as it goes between `before` and `after` (the text around the cursor): a blank line
    between it and any text on either side, never two blank lines, and no blank line at the edges."""
    core = snippet.strip("\n")
    if not core.strip():
        return ""
    lead = ""
    if before.strip():
        lead = "\n" * max(2 - (len(before) - len(before.rstrip("\n"))), 0)
    tail = ""
    if after.strip():
        tail = "\n" * max(2 - (len(after) - len(after.lstrip("\n"))), 0)
    return lead + core + tail


def fill(tx: Tx, body: str, ticket: TicketDetail) -> str:
    """`body` with the variables of `ticket` and of the acting agent filled in."""
    agent = tx.agent()
    return expand(body, variables_for(ticket, agent.name if agent else "", agent.email if agent else ""))
