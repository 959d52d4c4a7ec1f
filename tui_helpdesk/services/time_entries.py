"""Time worked on tickets (ITFlow's time tracking): log it, list it, correct it.

Who may correct an entry: its author, and an admin (a manager fixing a timesheet). Nobody else, and
nobody once an invoice bills it: an invoiced entry is locked (invoices.py sets `invoice_id`). Every
correction writes an audit row with the values before and after, and carries the entry's version, so
a correction made on a stale copy is refused instead of overwriting the other one.

Entries are read on behalf of a person: a list shows only entries on tickets the actor may see.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import SQLModel

from tui_helpdesk.models import Agent, AuditLog, Invoice, Organization, Ticket, TimeEntry

from . import lookup, visibility
from .context import Tx, audit, owner_or_admin, require_access
from .errors import Conflict, NotFound, PermissionDenied, StaleVersion, ValidationError
from .tickets import _flag, _int, _text, load, merge_target

NOTE_LIMIT = 500
MAX_MINUTES = 24 * 60  # one entry is at most a day's work: a typo of 6000 for 60 is refused


class TimeRow(SQLModel):
    """One time entry as every face shows it."""

    id: int
    ticket_id: int
    number: str
    organization: str
    agent_id: int
    agent: str  # the author's username
    minutes: int
    billable: bool
    note: str
    work_date: date
    created_at: datetime
    updated_at: datetime | None
    invoice: str | None  # the number of the invoice that billed (and locked) it
    version: int


def parse_date(value: Any, field: str) -> date | None:
    """A day: a date, or ISO text (2026-12-01); empty is None."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(field, f"{value!r} is not a date (use YYYY-MM-DD, e.g. 2026-03-02)") from None


def _minutes(value: Any) -> int:
    minutes = _int(value, "minutes", minimum=1)
    if minutes > MAX_MINUTES:
        raise ValidationError("minutes", f"{minutes} is more than a day ({MAX_MINUTES}); log each day apart")
    return minutes


def _statement():  # noqa: ANN202 - a Select of the row's columns
    return (
        select(
            TimeEntry, Ticket.number, Organization.name, Agent.username, Invoice.number.label("invoice_number")
        )
        .join(Ticket, Ticket.id == TimeEntry.ticket_id)
        .join(Agent, Agent.id == TimeEntry.agent_id)
        .outerjoin(Organization, Organization.id == Ticket.organization_id)
        .outerjoin(Invoice, Invoice.id == TimeEntry.invoice_id)
    )


def _row(entry: TimeEntry, number: str, org: str | None, username: str, invoice: str | None) -> TimeRow:
    return TimeRow(
        id=entry.id or 0, ticket_id=entry.ticket_id, number=number, organization=org or "",
        agent_id=entry.agent_id, agent=username, minutes=entry.minutes, billable=entry.billable,
        note=entry.note, work_date=entry.work_date, created_at=entry.created_at, updated_at=entry.updated_at,
        invoice=invoice, version=entry.version,
    )


def _one(tx: Tx, entry_id: int) -> TimeRow:
    found = tx.session.execute(_statement().where(TimeEntry.id == entry_id)).first()
    if found is None:
        raise NotFound(f"no time entry {entry_id}")
    return _row(*found)


def add(
    tx: Tx, ref: str | int, minutes: Any, *, billable: Any = True, note: Any = "", work_date: Any = None,
    expected_version: int | None = None,
) -> TimeRow:
    """Log the actor's time on a ticket (on a merged child: on its parent, where its work lands)."""
    ticket = merge_target(tx, load(tx, ref, expected_version))
    require_access(tx, ticket)
    if tx.actor.agent_id is None:
        raise PermissionDenied("time is logged by an agent")
    entry = TimeEntry(
        ticket_id=ticket.id, agent_id=tx.actor.agent_id, minutes=_minutes(minutes),
        billable=_flag(billable, "billable"), note=_text(note, "note", required=False, limit=NOTE_LIMIT),
        work_date=parse_date(work_date, "date") or tx.now.date(), created_at=tx.now,
    )
    tx.session.add(entry)
    tx.session.flush()
    from .context import event

    event(tx, ticket, "time_logged", minutes=entry.minutes, billable=entry.billable, time_entry_id=entry.id)
    return _one(tx, entry.id or 0)


def for_ticket(tx: Tx, ref: str | int) -> list[TimeRow]:
    """A ticket's entries, oldest day first."""
    ticket = lookup.ticket(tx.session, ref)
    visibility.require_findable(tx, ticket)
    rows = tx.session.execute(
        _statement().where(TimeEntry.ticket_id == ticket.id).order_by(TimeEntry.work_date, TimeEntry.id)
    ).all()
    return [_row(*r) for r in rows]


def search(
    tx: Tx, *, ticket: str | int | None = None, agent: str | int | None = None,
    organization: str | int | None = None, date_from: Any = None, date_to: Any = None,
    billable: bool | None = None, invoiced: bool | None = None, limit: int = 1000,
) -> list[TimeRow]:
    """Entries on the tickets the actor may see, filtered; oldest day first."""
    stmt = _statement()
    if ticket is not None:
        found = lookup.ticket(tx.session, ticket)
        visibility.require_findable(tx, found)
        stmt = stmt.where(TimeEntry.ticket_id == found.id)
    else:
        scope = visibility.where_visible(tx)
        if scope is not None:
            stmt = stmt.where(scope)
    if agent is not None:
        stmt = stmt.where(TimeEntry.agent_id == lookup.agent(tx.session, agent).id)
    if organization is not None:
        stmt = stmt.where(Ticket.organization_id == lookup.organization(tx.session, organization).id)
    start, end = parse_date(date_from, "from"), parse_date(date_to, "to")
    if start and end and start > end:
        raise ValidationError("from", f"{start} is after the end of the period ({end})")
    if start:
        stmt = stmt.where(TimeEntry.work_date >= start)
    if end:
        stmt = stmt.where(TimeEntry.work_date <= end)
    if billable is not None:
        stmt = stmt.where(TimeEntry.billable.is_(bool(billable)))
    if invoiced is not None:
        stmt = stmt.where(TimeEntry.invoice_id.is_not(None) if invoiced else TimeEntry.invoice_id.is_(None))
    rows = tx.session.execute(stmt.order_by(TimeEntry.work_date, TimeEntry.id).limit(limit)).all()
    return [_row(*r) for r in rows]


def correction_refusal(tx: Tx, entry_id: int) -> str | None:
    """Why the actor may not correct this entry (the words the faces show), or None when they may."""
    entry = tx.session.get(TimeEntry, entry_id)
    if entry is None:
        return f"no time entry {entry_id}"
    return _refusal(tx, entry)


def _refusal(tx: Tx, entry: TimeEntry) -> str | None:
    if entry.invoice_id is not None:
        invoice = tx.session.get(Invoice, entry.invoice_id)
        return f"time entry {entry.id} is on invoice {invoice.number if invoice else entry.invoice_id} and locked"
    if not owner_or_admin(tx, entry.agent_id):
        author = tx.session.get(Agent, entry.agent_id)
        return f"time entry {entry.id} is {author.username if author else 'another agent'}'s: only its author corrects it"
    return None


def correct(
    tx: Tx, entry_id: Any, *, minutes: Any = None, billable: Any = None, note: Any = None,
    work_date: Any = None, expected_version: int | None = None,
) -> TimeRow:
    """Change an entry's minutes, billable flag, note or day; None leaves a value as it is."""
    entry_id = _int(entry_id, "id", minimum=1)
    entry = tx.session.execute(
        select(TimeEntry).where(TimeEntry.id == entry_id).with_for_update()
    ).scalar_one_or_none()
    if entry is None:
        raise NotFound(f"no time entry {entry_id}")
    ticket = tx.session.get(Ticket, entry.ticket_id)
    if ticket is None:  # pragma: no cover - the foreign key keeps it
        raise NotFound(f"no ticket for time entry {entry_id}")
    require_access(tx, ticket)
    refusal = _refusal(tx, entry)
    if refusal:
        raise (Conflict if entry.invoice_id is not None else PermissionDenied)(refusal)
    if expected_version is not None and _int(expected_version, "expected_version") != entry.version:
        last = tx.session.execute(
            select(AuditLog.actor, AuditLog.at)
            .where(AuditLog.object_type == "time_entry", AuditLog.object_id == entry.id)
            .order_by(AuditLog.id.desc()).limit(1)
        ).first()
        raise StaleVersion(f"time entry {entry.id}", entry.version, int(expected_version),
                           last.actor if last else None, last.at if last else None, tx.now)
    before = {"minutes": entry.minutes, "billable": entry.billable, "note": entry.note,
              "work_date": entry.work_date.isoformat()}
    if minutes is not None:
        entry.minutes = _minutes(minutes)
    if billable is not None:
        entry.billable = _flag(billable, "billable")
    if note is not None:
        entry.note = _text(note, "note", required=False, limit=NOTE_LIMIT)
    if work_date not in (None, ""):
        entry.work_date = parse_date(work_date, "date") or entry.work_date
    after = {"minutes": entry.minutes, "billable": entry.billable, "note": entry.note,
             "work_date": entry.work_date.isoformat()}
    if after == before:
        return _one(tx, entry.id or 0)
    entry.version += 1
    entry.updated_at = tx.now
    entry.updated_by_id = tx.actor.agent_id
    tx.session.add(entry)
    tx.session.flush()
    changed = {k: v for k, v in before.items() if after[k] != v}
    audit(tx, "time.correct", "time_entry", entry.id, ticket_id=ticket.id, number=ticket.number,
          before=changed, after={k: after[k] for k in changed})
    return _one(tx, entry.id or 0)


def history(tx: Tx, entry_id: int) -> list[dict[str, Any]]:
    """The corrections of one entry (who, when, before, after), oldest first."""
    entry = tx.session.get(TimeEntry, entry_id)
    if entry is None:
        raise NotFound(f"no time entry {entry_id}")
    ticket = tx.session.get(Ticket, entry.ticket_id)
    if ticket is not None:
        require_access(tx, ticket)
    rows = tx.session.execute(
        select(AuditLog).where(AuditLog.object_type == "time_entry", AuditLog.object_id == entry_id,
                               AuditLog.action == "time.correct").order_by(AuditLog.id)
    ).scalars().all()
    return [{"at": r.at, "actor": r.actor, "before": r.data.get("before", {}), "after": r.data.get("after", {})}
            for r in rows]
