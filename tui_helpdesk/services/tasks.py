"""Tasks on a ticket (osTicket): an assignee and a due time that must fall before the ticket's."""

from __future__ import annotations

from datetime import datetime, timedelta

from tui_helpdesk.models import Task, TicketEntry

from . import lookup
from .context import Tx, event, require, require_access
from .errors import Conflict, NotFound, ValidationError
from .tickets import load


def parse_due(text: str, now: datetime) -> datetime | None:
    """'' -> None; '+4h' / '+2d' / '+30m' from `now`; otherwise an ISO-8601 time (UTC if no zone).
    A ValidationError on the field `due_at` says how to write it."""
    from tui_helpdesk import clock

    text = (text or "").strip()
    if not text:
        return None
    if text.startswith("+") and text[1:-1].isdigit() and text[-1] in "mhd":
        amount = int(text[1:-1])
        return now + timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[text[-1]]: amount})
    try:
        return clock.parse_iso(text.replace(" ", "T"))
    except ValueError:
        raise ValidationError("due_at", "write +4h, +2d or a time like 2026-12-01 09:00 (UTC)") from None


def form_errors(tx: Tx, ref: str | int, title: str, due: str, assignee: str) -> dict[str, str]:
    """What is wrong with a task form as typed, field by field (title, due_at, assignee); {} when it
    would be saved. The same rules create_task applies, asked as the agent types."""
    errors: dict[str, str] = {}
    ticket = lookup.ticket(tx.session, ref)
    require_access(tx, ticket)
    if not (title or "").strip():
        errors["title"] = "is required"
    try:
        due_at = parse_due(due, tx.now)
        if due_at is not None and ticket.due_at is not None and due_at > ticket.due_at:
            errors["due_at"] = f"must be before the ticket's due time ({ticket.due_at:%Y-%m-%d %H:%M} UTC)"
    except ValidationError as exc:
        errors["due_at"] = exc.message
    if (assignee or "").strip():
        try:
            lookup.agent(tx.session, assignee.strip())
        except (NotFound, ValidationError):
            errors["assignee"] = f"no agent {assignee.strip()!r} (a login, an email or a name)"
    return errors


def create_task(tx: Tx, ref: str | int, title: str, *, description: str = "", assignee: str | int | None = None,
                due_at: datetime | None = None, expected_version: int | None = None) -> Task:
    """`expected_version` is the ticket's version the person saw (a stale one is refused)."""
    ticket = load(tx, ref, expected_version)
    require(tx, ticket, "ticket.edit")
    title = (title or "").strip()
    if not title:
        raise ValidationError("title", "is required")
    if due_at is not None and ticket.due_at is not None and due_at > ticket.due_at:
        raise ValidationError("due_at", f"must be before the ticket's due time ({ticket.due_at:%Y-%m-%d %H:%M} UTC)")
    agent = lookup.agent(tx.session, assignee) if assignee not in (None, "") else None
    task = Task(ticket_id=ticket.id, title=title[:255], description=description.strip(),
                assignee_id=agent.id if agent else None, due_at=due_at, created_by_id=tx.actor.agent_id,
                created_at=tx.now)
    tx.session.add(task)
    tx.session.flush()
    event(tx, ticket, "task_created", task_id=task.id, title=task.title, assignee=agent.username if agent else None)
    return task


def close_task(tx: Tx, task_id: int, *, summary: str = "", expected_version: int | None = None) -> Task:
    """Closing a task leaves an internal note on its ticket and tells the ticket's assignee.

    `expected_version` is the version of the task's ticket the person saw."""
    task = tx.session.get(Task, task_id)
    if task is None:
        raise NotFound(f"no task {task_id}")
    ticket = load(tx, task.ticket_id, expected_version)
    require_access(tx, ticket)
    if task.closed_at is not None:
        raise Conflict(f"task {task_id} is already closed")
    task.closed_at = tx.now
    task.closed_by_id = tx.actor.agent_id
    tx.session.add(task)
    text = f"Task closed: {task.title}" + (f"\n\n{summary.strip()}" if summary.strip() else "")
    tx.session.add(TicketEntry(ticket_id=ticket.id, kind="note", agent_id=tx.actor.agent_id, body=text,
                               created_at=tx.now))
    event(tx, ticket, "task_closed", task_id=task.id, title=task.title)
    from . import outbound

    outbound.queue_alert(tx, ticket, "task_closed", task=task)
    return task
