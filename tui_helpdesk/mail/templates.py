"""Email templates: admin-edited rows (per department where set) over built-in defaults.

Variables are written ``%{ticket.number}``. An unknown variable is left as written, so an admin who
mistypes one sees the mistake in the first message instead of a silent gap.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlmodel import Session

from tui_helpdesk import batch_cache
from tui_helpdesk.models import EmailTemplate

# segments may hold digits after their first letter: custom fields are %{ticket.custom.po2}
_VAR = re.compile(r"%\{([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)\}")
# What of a body an alert or notice quotes: enough to triage by, never the whole (a 10 MB body
# copied into every agent's alert is the outbox's size times the department's).
EXCERPT_CHARS = 2000

# code -> (subject, body). The subject of customer-facing mail always gets the ticket number appended
# by the outbox, so the defaults do not repeat it.
DEFAULTS: dict[str, tuple[str, str]] = {
    "reply": ("Re: %{ticket.subject}", "%{message}\n\n%{agent.signature}"),
    "autoresponse.new_ticket": (
        "%{ticket.subject}",
        "Dear %{recipient.name},\n\nWe received your request and opened ticket %{ticket.number}. "
        "A member of our team will answer as soon as possible.\n\nTo add to this request, reply to this "
        "message.\n\n%{helpdesk.name}",
    ),
    "autoresponse.new_message": (
        "Re: %{ticket.subject}",
        "Dear %{recipient.name},\n\nYour message was added to ticket %{ticket.number}.\n\n%{helpdesk.name}",
    ),
    "notice.created": (
        "%{ticket.subject}",
        "Dear %{recipient.name},\n\nWe opened ticket %{ticket.number} for you: %{ticket.subject}\n\n"
        "%{message}\n\n%{helpdesk.name}",
    ),
    "notice.closed": (
        "Closed: %{ticket.subject}",
        "Dear %{recipient.name},\n\nTicket %{ticket.number} is now closed.%{ticket.resolution_block}\n\n"
        "If you need more help, write to us again.\n\n%{helpdesk.name}",
    ),
    "notice.chaser": (
        "Re: %{ticket.subject}",
        "Dear %{recipient.name},\n\nWe are waiting for your answer on ticket %{ticket.number}. Without one "
        "it will be closed in a few days.\n\n%{helpdesk.name}",
    ),
    "notice.too_big": (
        "Your message was too large: %{message.subject}",
        "Dear %{recipient.name},\n\nYour message \"%{message.subject}\" is %{message.size} and our help desk accepts "
        "mail up to %{limit}, so nobody has read it yet. It is kept, and an administrator can still open "
        "it. To reach us now, please send it again without the large attachments (a link to the files "
        "works).\n\n%{helpdesk.name}",
    ),
    "notice.refused": (
        "Re: %{ticket.subject}",
        "Dear %{recipient.name},\n\nTicket %{ticket.number} is closed and does not accept new messages. "
        "Please write a new message (not a reply) to open a new request.\n\n%{helpdesk.name}",
    ),
    "alert.new_ticket": (
        "New ticket %{ticket.number}: %{ticket.subject}",
        "Hello %{recipient.name},\n\nA new ticket arrived in %{ticket.department}.\n\nFrom: "
        "%{sender}\nSubject: %{ticket.subject}\nPriority: %{ticket.priority}\n\n%{message}",
    ),
    "alert.new_message": (
        "New message on %{ticket.number}: %{ticket.subject}",
        "Hello %{recipient.name},\n\n%{sender} wrote on %{ticket.number}:\n\n%{message}",
    ),
    "alert.assignment": (
        "Assigned to you: %{ticket.number} %{ticket.subject}",
        "Hello %{recipient.name},\n\n%{ticket.number} (%{ticket.subject}) was assigned to %{assignee}.",
    ),
    "alert.transfer": (
        "Transferred: %{ticket.number} %{ticket.subject}",
        "Hello %{recipient.name},\n\n%{ticket.number} (%{ticket.subject}) was transferred to "
        "%{ticket.department}.",
    ),
    "alert.overdue": (
        "Overdue: %{ticket.number} %{ticket.subject}",
        "Hello %{recipient.name},\n\n%{ticket.number} (%{ticket.subject}) is overdue (due %{ticket.due}).",
    ),
    "alert.reopened": (
        "Reopened: %{ticket.number} %{ticket.subject}",
        "Hello %{recipient.name},\n\n%{ticket.number} (%{ticket.subject}) was reopened.\n\n%{message}",
    ),
}
GENERIC_ALERT = (
    "%{ticket.number}: %{ticket.subject}",
    "Hello %{recipient.name},\n\nThere is news on %{ticket.number} (%{ticket.subject}): %{kind}.",
)


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def substitute(text: str, variables: Mapping[str, object]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            return match.group(0)
        value = variables[name]
        return "" if value is None else str(value)

    return _VAR.sub(one, text)


def source(session: Session, code: str, department_id: int | None) -> tuple[str, str]:
    """The (subject, body) template for a code: the department's row, the global row, the default."""
    def load() -> list[Any]:
        # a Core read (built once): an ORM one cost more than the SQL on every reply; an edit made in this
        # transaction is written first, so a preview shows it
        if any(isinstance(o, EmailTemplate) for o in (*session.new, *session.dirty)):
            session.flush()
        return list(session.connection().execute(_active_templates(), {"code": code}))

    rows = batch_cache.cached(session, ("templates", code), load)
    by_department = {row.department_id: row for row in rows}
    row = by_department.get(department_id) if department_id is not None else None
    row = row or by_department.get(None)
    if row is not None:
        return row.subject, row.body
    if code in DEFAULTS:
        return DEFAULTS[code]
    return GENERIC_ALERT


@functools.cache
def _active_templates() -> Any:
    t = EmailTemplate.__table__.c
    return select(t.department_id, t.subject, t.body).where(t.code == bindparam("code"), t.active.is_(True))


def render(
    session: Session, code: str, department_id: int | None, variables: Mapping[str, object]
) -> Rendered:
    return fill(*source(session, code, department_id), variables)


def fill(subject: str, body: str, variables: Mapping[str, object]) -> Rendered:
    """A template's text with the variables put in (one template read, many recipients)."""
    # A header must be one line whatever a variable held.
    subject = " ".join(substitute(subject, variables).split())
    return Rendered(subject=subject, body=substitute(body, variables).strip() + "\n")


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The start of a body for an alert: cut at a word near the limit, with an ellipsis and a count."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space > limit * 0.8:
        cut = cut[:space]
    rest = len(text) - len(cut)
    return f"{cut.rstrip()} …\n[{rest:,} more characters in the ticket]"
