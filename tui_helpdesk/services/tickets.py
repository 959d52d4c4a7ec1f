"""Ticket use cases: create, thread entries, assignment, transfer, status, fields, tags, time, archive.

Each function takes a `Tx` (see context.py) so a caller can combine several in one transaction
(the mail ingest does); the CLI and the app wrap each call in `transaction(engine, actor)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, overload

from sqlalchemy import delete, select
from sqlmodel import Session

from tui_helpdesk import clock
from tui_helpdesk.models import (
    SOURCES,
    Agent,
    AuditLog,
    Collaborator,
    Contact,
    EntryRevision,
    Status,
    Tag,
    TeamMember,
    Ticket,
    TicketEntry,
    TicketTag,
    TimeEntry,
)

from . import (
    counters,  # noqa: F401 - registers the flush hook that keeps the sidebar counters exact
    lookup,
    settings,
    sla,
    visibility,
)
from . import custom_fields as field_rules
from .context import (
    Tx,
    audit,
    bump_counter,
    event,
    permissions_in,
    require,
    require_access,
    require_admin,
    touch,
)
from .errors import Conflict, NotFound, PermissionDenied, StaleVersion, ValidationError
from .ticket_view import TicketDetail, detail

NUMBER_COUNTER = "ticket_number"
OPEN_STATES = ("new", "open", "pending")
DONE_STATES = ("resolved", "closed")


# --- loading -------------------------------------------------------------------------------------

def load(tx: Tx, ref: str | int, expected_version: int | None = None) -> Ticket:
    """The ticket for a write, locked where the engine can, refused if the caller's copy is stale."""
    ticket = lookup.ticket(tx.session, ref, lock=True)
    check_version(tx, ticket, expected_version)
    return ticket


def check_version(tx: Tx, ticket: Ticket, expected_version: int | None) -> None:
    """Refuse a write based on a stale copy, naming who changed the ticket last and when."""
    if expected_version is None:
        return
    expected = _int(expected_version, "expected_version")
    if ticket.version == expected:
        return
    last = tx.session.execute(
        select(AuditLog.actor, AuditLog.at)
        .where(AuditLog.object_type == "ticket", AuditLog.object_id == ticket.id)
        .order_by(AuditLog.id.desc()).limit(1)
    ).first()
    raise StaleVersion(ticket.number, ticket.version, expected, last.actor if last else None,
                       last.at if last else None, tx.now)


def merge_target(tx: Tx, ticket: Ticket) -> Ticket:
    """Where work on a ticket lands: a merged child's replies and notes go to its parent, as its mail does."""
    seen = {ticket.id}
    while ticket.merged_into_id is not None and ticket.merged_into_id not in seen:
        ticket = lookup.ticket(tx.session, ticket.merged_into_id, lock=True)
        seen.add(ticket.id)
    return ticket


def view(tx: Tx, ref: str | int, *, order: str = "ASC", events: bool = True) -> TicketDetail:
    ticket = lookup.ticket(tx.session, ref)
    visibility.require_findable(tx, ticket)  # reading by number or id: ticket.view_any reaches any ticket
    return detail(tx.session, ticket, order=order, events=events)


def _detail(tx: Tx, ticket: Ticket) -> TicketDetail:
    tx.session.flush()
    return detail(tx.session, ticket)


def _set_status(tx: Tx, ticket: Ticket, status: Status) -> None:
    apply_status(ticket, status, tx.now)


def apply_status(ticket: Ticket, status: Status, when: datetime) -> None:
    """The columns a status implies, for every path: a status change, the timers, a merge."""
    ticket.status_id = status.id
    ticket.state = status.state
    ticket.status_changed_at = when
    if status.state == "resolved":
        ticket.resolved_at = when
    if status.state == "closed":
        ticket.closed_at = when
        # "reopened" flags work that came back; a closed ticket has none
        ticket.reopened = False
    if status.state in OPEN_STATES:
        ticket.closed_at = None


# --- validating what a person typed: every value from the CLI, the app or the API comes through these ---

BODY_FORMATS = ("markdown", "text")


def _text(value: Any, field: str, *, required: bool = True, limit: int | None = None) -> str:
    if value is not None and not isinstance(value, str):
        raise ValidationError(field, f"expected text, got {value!r}")
    value = (value or "").strip()
    if required and not value:
        raise ValidationError(field, "is required")
    if limit and len(value) > limit:
        raise ValidationError(field, f"is longer than {limit} characters")
    return value


def _body(tx: Tx, value: Any, field: str = "body", *, required: bool = True) -> str:
    """A thread body: required, and no larger than the max_body_bytes setting."""
    body = _text(value, field, required=required)
    limit = int(settings.get(tx.session, "max_body_bytes"))
    size = len(body.encode("utf-8"))
    if limit and size > limit:
        raise ValidationError(field, f"is {size} bytes; the limit is {limit} bytes (setting max_body_bytes)")
    return body


def _int(value: Any, field: str, *, minimum: int | None = None) -> int:
    if isinstance(value, bool):
        raise ValidationError(field, f"expected a whole number, got {value!r}")
    try:
        number = int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise ValidationError(field, f"expected a whole number, got {value!r}") from None
    if isinstance(value, float) and value != number:
        raise ValidationError(field, f"expected a whole number, got {value!r}")
    if minimum is not None and number < minimum:
        raise ValidationError(field, f"must be at least {minimum}")
    return number


def _flag(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValidationError(field, f"expected yes or no, got {value!r}")


def _choice(value: Any, field: str, choices: Iterable[str]) -> str:
    options = tuple(choices)
    text = str(value).strip().lower() if value is not None else ""
    if text not in options:
        raise ValidationError(field, f"{value!r} is not one of {', '.join(options)}")
    return text


def _when(value: Any, field: str) -> datetime | None:
    """A time: a datetime, or ISO 8601 text (UTC when no zone is given); empty clears it."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return clock.as_utc(value)
    try:
        return clock.parse_iso(str(value))
    except (TypeError, ValueError):
        raise ValidationError(field, f"{value!r} is not a time (use ISO 8601, e.g. 2026-03-02T17:00)") from None


def _custom(value: Any, field: str = "custom") -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError(field, f"expected KEY=VALUE pairs, got {value!r}")
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = str(key).strip()
        if not name or len(name) > 60:
            raise ValidationError(field, f"{key!r}: a field name is 1 to 60 characters")
        if item is not None and not isinstance(item, str | int | float | bool):
            raise ValidationError(field, f"{name}: expected text or a number, got {item!r}")
        if isinstance(item, str) and len(item) > 1000:
            raise ValidationError(field, f"{name}: is longer than 1000 characters")
        out[name] = item
    return out


@contextmanager
def _as_field(field: str) -> Iterator[None]:
    """Errors raised while checking one field name that field (a contact's bad email says "contact")."""
    try:
        yield
    except ValidationError as exc:
        if exc.field == field:
            raise
        raise ValidationError(field, exc.message) from exc


# --- create ----------------------------------------------------------------------------------------

def next_number(session: Session) -> str:
    start = int(settings.get(session, "number_start"))
    value = bump_counter(session, NUMBER_COUNTER)
    return lookup.format_number(session, start + value - 1)


def _new_number(session: Session) -> tuple[str, int | None]:
    number = next_number(session)
    return number, lookup.number_seq(number)


@overload
def create(tx: Tx, *, detail: Literal[True] = ..., **fields: Any) -> TicketDetail: ...
@overload
def create(tx: Tx, *, detail: Literal[False], **fields: Any) -> Ticket: ...


def create(tx: Tx, *, detail: bool = True, **fields: Any) -> TicketDetail | Ticket:
    """Open a ticket (see `open_ticket` for the fields) and return its full detail.

    With `detail=False` it returns the flushed row instead: building the detail reads the whole
    thread back, which bulk callers (imports, the mail ingest) do not need."""
    ticket = open_ticket(tx, **fields)
    return _detail(tx, ticket) if detail else ticket


def open_ticket(
    tx: Tx,
    *,
    subject: str,
    body: str,
    contact_email: str | None = None,
    contact_name: str = "",
    contact_id: int | None = None,
    department: str | int | None = None,
    topic: str | int | None = None,
    priority: str | int | None = None,
    status: str | int | None = None,
    category: str | int | None = None,
    type: str | int | None = None,
    item: str | int | None = None,
    tags: Iterable[str] = (),
    custom_fields: dict[str, Any] | None = None,
    assignee: str | int | None = None,
    team: str | int | None = None,
    cc: Iterable[str] = (),
    source: str | None = None,
    body_is_message: bool = True,
    message_id: str | None = None,
    full_body: str | None = None,
    body_format: str = "markdown",
    organization: str | int | None = None,
    notify_client: bool = True,
    recipients: dict[str, list[str]] | None = None,
) -> Ticket:
    """Open a ticket. An agent creates it on behalf of a contact; the mail ingest as the system.

    `notify_client=False` opens it without the "we received your request" notice to the requester
    (an agent logging a phone call the customer needs no mail about). `recipients` are the To and Cc
    of the mail that opened it, kept on its first message.

    Returns the row; callers that show the result use `create`, which adds the detail."""
    s = tx.session
    subject = _text(subject, "subject", limit=255)
    if tx.actor.origin == "mail":
        # the inbound service owns the message size (it may open a ticket with an empty body)
        body = _text(body, "body", required=False)
    else:
        body = _body(tx, body)
    source = _choice(source, "source", SOURCES) if source not in (None, "") else None
    body_format = _choice(body_format, "body_format", BODY_FORMATS)
    topic_row = lookup.topic(s, topic) if topic not in (None, "") else None
    if department not in (None, ""):
        dept = lookup.department(s, department, for_new_ticket=True)
    elif topic_row is not None and topic_row.department_id:
        dept = lookup.department(s, topic_row.department_id, for_new_ticket=True)
    else:
        raise ValidationError("department", "is required (or a help topic that names one)")
    if tx.actor.agent_id is not None and not tx.actor.is_admin:
        if "ticket.create" not in permissions_in(tx, dept.id):
            raise PermissionDenied(f"{tx.actor.username} may not create tickets in {dept.name}")
    custom_fields = field_rules.clean_ticket_values(
        tx, custom_fields, topic_id=topic_row.id if topic_row else None, department_id=dept.id, creating=True)
    if contact_id is not None:
        contact = s.get(Contact, _int(contact_id, "contact"))
        if contact is None:
            raise ValidationError("contact", f"unknown contact id {contact_id}")
    elif contact_email:
        contact = lookup.contact(s, contact_email, contact_name)
    else:
        raise ValidationError("contact", "is required (the requester's email)")
    if priority not in (None, ""):
        prio = lookup.priority(s, priority)
    elif topic_row is not None and topic_row.priority_id:
        prio = lookup.priority(s, topic_row.priority_id)
    elif dept.default_priority_id:
        prio = lookup.priority(s, dept.default_priority_id)
    else:
        prio = lookup.default_priority(s)
    st = lookup.status(s, status) if status not in (None, "") else lookup.default_status_for(s, "new")
    cat = lookup.classification(s, category, "category", None) if category not in (None, "") else None
    typ = lookup.classification(s, type, "type", cat.id if cat else None) if type not in (None, "") else None
    if typ is not None and cat is None:
        raise ValidationError("type", "needs a category")
    itm = lookup.classification(s, item, "item", typ.id if typ else None) if item not in (None, "") else None
    if itm is not None and typ is None:
        raise ValidationError("item", "needs a type")
    org_id = contact.organization_id
    if organization not in (None, ""):
        org_id = lookup.organization(s, organization).id

    number, seq = _new_number(s)
    ticket = Ticket(
        number=number, number_seq=seq, subject=subject, contact_id=contact.id, organization_id=org_id,
        department_id=dept.id, topic_id=topic_row.id if topic_row else None,
        category_id=cat.id if cat else None, type_id=typ.id if typ else None, item_id=itm.id if itm else None,
        priority_id=prio.id, priority_rank=prio.rank, status_id=st.id, state=st.state,
        source=source or tx.actor.origin, custom_fields=dict(custom_fields or {}),
        created_at=tx.now, updated_at=tx.now, status_changed_at=tx.now,
        last_message_at=tx.now if body_is_message else None,
    )
    plan_id = (topic_row.sla_plan_id if topic_row else None) or dept.sla_plan_id or sla.default_plan_id(s)
    ticket.sla_plan_id = plan_id
    ticket.due_at = sla.due_at(s, plan_id, tx.now)
    s.add(ticket)
    s.flush()
    tx.touched.add(ticket.id)
    if body:
        s.add(TicketEntry(
            ticket_id=ticket.id, kind="message" if body_is_message else "note",
            contact_id=contact.id if body_is_message else None,
            agent_id=None if body_is_message else tx.actor.agent_id,
            body=body, full_body=full_body, body_format=body_format, message_id=message_id, created_at=tx.now,
            recipients=dict(recipients or {}),
        ))
    with _as_field("cc"):
        for email in cc:
            add_participant(tx, ticket, email)
    if tags:
        _replace_tags(tx, ticket, tags)
    event(tx, ticket, "created", source=ticket.source, by=tx.actor.username)
    if assignee not in (None, "") or team not in (None, ""):
        _assign(tx, ticket, assignee, team, reason="")
    elif topic_row is not None and (topic_row.auto_assign_agent_id or topic_row.auto_assign_team_id):
        _assign(tx, ticket, topic_row.auto_assign_agent_id, topic_row.auto_assign_team_id, reason="help topic")
    if tx.actor.origin != "mail":  # the ingest sends its own autoresponse and alerts
        from tui_helpdesk.services import notify

        notify.created(tx, ticket, body, client=_flag(notify_client, "notify_client"))
    tx.session.flush()
    return ticket


# --- thread entries ---------------------------------------------------------------------------------

def reply(
    tx: Tx,
    ref: str | int,
    body: str,
    *,
    expected_version: int | None = None,
    time_spent: int = 0,
    billable: bool = True,
    cc: Iterable[str] = (),
    status: str | int | None = None,
    resolution_notes: str | None = None,
    body_format: str = "markdown",
) -> PostedEntry:
    """A public reply; optionally "send and set status" in the same transaction.

    On a merged child it lands on the parent, where the child's mail goes too; the returned row
    names the parent and `merged_from` the child."""
    typed = load(tx, ref, expected_version)
    ticket = merge_target(tx, typed)
    require(tx, ticket, "ticket.reply")
    if ticket.state == "closed" and settings.get(tx.session, "closed_reopen_policy") == "never":
        raise Conflict(f"{ticket.number} is closed and closed tickets cannot be reopened")
    # set before the entry is written, so one flush writes the entry and the ticket's row (and the
    # reports' reply and first-response facts in one INSERT)
    if ticket.first_response_at is None:
        ticket.first_response_at = tx.now
    ticket.last_response_at = tx.now
    entry = _add_entry(tx, ticket, "reply", body, time_spent, billable, body_format)
    with _as_field("cc"):
        for email in cc:
            add_participant(tx, ticket, email)
    if status not in (None, ""):
        _change_status(tx, ticket, lookup.status(tx.session, status), resolution_notes)
    elif ticket.state == "new":
        # answering a new ticket means someone is working it
        _change_status(tx, ticket, lookup.default_status_for(tx.session, "open"), None)
    touch(tx, ticket)
    audit(tx, "ticket.reply", "ticket", ticket.id, entry_id=entry.id)
    from tui_helpdesk.services import notify

    notify.reply_added(tx, ticket, entry)
    return _posted(tx, entry, ticket, typed)


def note(tx: Tx, ref: str | int, body: str, *, expected_version: int | None = None, time_spent: int = 0,
         billable: bool = True, body_format: str = "markdown") -> PostedEntry:
    """An internal note; on a merged child it lands on the parent, as a reply does."""
    typed = load(tx, ref, expected_version)
    ticket = merge_target(tx, typed)
    require_access(tx, ticket)
    entry = _add_entry(tx, ticket, "note", body, time_spent, billable, body_format)
    audit(tx, "ticket.note", "ticket", ticket.id, entry_id=entry.id)
    return _posted(tx, entry, ticket, typed)


@dataclass(frozen=True)
class PostedEntry:
    """A reply or note just written, and the ticket it landed on (the parent, for a merged child)."""

    id: int
    kind: str
    ticket_id: int
    number: str
    version: int
    state: str
    status: str
    body: str
    time_spent: int
    created_at: datetime
    agent_id: int | None
    merged_from: str | None = None  # the number the caller named, when that ticket is merged away

    @property
    def redirect_note(self) -> str:
        """"TCK-12 is merged into TCK-10: replied there" (empty when it landed where asked)."""
        if not self.merged_from:
            return ""
        verb = "replied" if self.kind == "reply" else "noted"
        return f"{self.merged_from} is merged into {self.number}: {verb} there"


def _posted(tx: Tx, entry: TicketEntry, ticket: Ticket, typed: Ticket) -> PostedEntry:
    tx.session.flush()
    status = tx.session.get(Status, ticket.status_id)
    return PostedEntry(
        id=entry.id, kind=entry.kind, ticket_id=ticket.id, number=ticket.number, version=ticket.version,
        state=ticket.state, status=status.name if status else "", body=entry.body, time_spent=entry.time_spent,
        created_at=entry.created_at, agent_id=entry.agent_id,
        merged_from=typed.number if typed.id != ticket.id else None,
    )


def _add_entry(tx: Tx, ticket: Ticket, kind: str, body: str, time_spent: int, billable: bool,
               body_format: str) -> TicketEntry:
    body = _body(tx, body)
    time_spent = _int(time_spent or 0, "time_spent", minimum=0)
    billable = _flag(billable, "billable")
    body_format = _choice(body_format, "body_format", BODY_FORMATS)
    entry = TicketEntry(ticket_id=ticket.id, kind=kind, agent_id=tx.actor.agent_id, body=body,
                        body_format=body_format, time_spent=time_spent, created_at=tx.now)
    tx.session.add(entry)
    touch(tx, ticket)  # before the flush: the entry and the ticket's new version in one flush
    tx.session.flush()
    if time_spent:
        tx.session.add(TimeEntry(ticket_id=ticket.id, agent_id=tx.actor.agent_id, entry_id=entry.id,
                                 minutes=time_spent, billable=billable, created_at=tx.now, work_date=tx.now.date()))
    return entry


def add_customer_message(
    tx: Tx,
    ticket: Ticket,
    contact: Contact,
    body: str,
    *,
    full_body: str | None = None,
    message_id: str | None = None,
    recipients: dict | None = None,
    body_format: str = "text",
    may_reopen: bool = True,
) -> tuple[TicketEntry | None, str]:
    """A message from a customer on an existing ticket.

    Returns (entry, outcome) with outcome one of: "appended", "reopened", or, when the reply
    came too late (after the reopen window, or on a closed ticket), "late" with no entry: the
    caller opens a new ticket or refuses, per the late_reply_policy setting.
    """
    s = tx.session
    if ticket.state == "closed" or (
        ticket.state == "resolved" and may_reopen and not within_reopen_window(s, ticket, tx.now)
    ):
        return None, "late"
    entry = TicketEntry(ticket_id=ticket.id, kind="message", contact_id=contact.id, body=body,
                        full_body=full_body, body_format=body_format, message_id=message_id,
                        recipients=recipients or {}, created_at=tx.now)
    s.add(entry)
    s.flush()
    ticket.last_message_at = tx.now
    ticket.chaser_sent_at = None
    outcome = "appended"
    if ticket.state == "resolved" and may_reopen:
        # seed 001: a reply inside the window puts the ticket back to New and flags it
        _reopen(tx, ticket, lookup.default_status_for(s, "new"), reason="customer replied")
        outcome = "reopened"
    elif ticket.state == "pending":
        # the customer answered what we were waiting for
        _change_status(tx, ticket, lookup.default_status_for(s, "open"), None)
    touch(tx, ticket)
    audit(tx, "ticket.message", "ticket", ticket.id, entry_id=entry.id, contact=contact.email)
    return entry, outcome


@dataclass(frozen=True)
class NewerEntry:
    """A thread entry posted after a composer opened: who wrote it and when."""

    entry_id: int
    kind: str
    author: str
    agent_id: int | None
    created_at: datetime


def newer_entries(tx: Tx, ref: str | int, after_entry_id: int, *,
                  kinds: Iterable[str] = ("reply", "message")) -> list[NewerEntry]:
    """Entries on the ticket (and on tickets merged into it) newer than `after_entry_id`, oldest first.

    The reply composer remembers `TicketDetail.last_entry_id` when it opens and asks this before
    sending, so two agents answering at once hear of each other ("Sam replied 30 s ago")."""
    ticket = lookup.ticket(tx.session, ref)
    require_access(tx, ticket)
    ids = [ticket.id, *tx.session.execute(select(Ticket.id).where(Ticket.merged_into_id == ticket.id)).scalars()]
    rows = tx.session.execute(
        select(TicketEntry, Agent, Contact)
        .outerjoin(Agent, Agent.id == TicketEntry.agent_id)
        .outerjoin(Contact, Contact.id == TicketEntry.contact_id)
        .where(TicketEntry.ticket_id.in_(ids), TicketEntry.id > after_entry_id,
               TicketEntry.kind.in_(tuple(kinds)), TicketEntry.deleted_at.is_(None))
        .order_by(TicketEntry.id)
    ).all()
    return [
        NewerEntry(entry_id=e.id, kind=e.kind, agent_id=e.agent_id, created_at=e.created_at,
                   author=a.name if a else ((c.name or c.email) if c else "unknown"))
        for e, a, c in rows
    ]


def within_reopen_window(session: Session, ticket: Ticket, now: datetime) -> bool:
    if ticket.resolved_at is None:
        return True
    days = int(settings.get(session, "reopen_window_days"))
    return now < ticket.resolved_at + timedelta(days=days)


EDIT_ANY = "entry.edit_any"


def _entry_for_change(tx: Tx, entry_id: int, expected_version: int | None = None) -> tuple[TicketEntry, Ticket]:
    entry = tx.session.get(TicketEntry, _int(entry_id, "entry"))
    if entry is None:
        raise NotFound(f"no thread entry {entry_id}")
    ticket = load(tx, entry.ticket_id, expected_version)
    require_access(tx, ticket)
    if entry.deleted_at is not None:
        raise Conflict(f"entry {entry_id} was deleted")
    return entry, ticket


def _entry_refusal(tx: Tx, entry: TicketEntry, ticket: Ticket) -> str | None:
    """Why the actor may not edit or delete this entry, or None when they may (README: own entries
    for the edit window; others' replies and notes with entry.edit_any; a customer's words never)."""
    if entry.kind == "message":
        return "a customer's message is never rewritten or deleted; an admin may redact it"
    if entry.redacted_at is not None:
        return f"entry {entry.id} was redacted"
    window = timedelta(minutes=int(settings.get(tx.session, "edit_window_minutes")))
    own = entry.agent_id is not None and entry.agent_id == tx.actor.agent_id
    if own and tx.now <= entry.created_at + window:
        return None
    try:
        require(tx, ticket, EDIT_ANY)
    except PermissionDenied:
        if own:
            return f"your entry can only be changed within {int(window.total_seconds() // 60)} minutes of posting"
        return f"{tx.actor.username} may change only their own entries (others' need the permission {EDIT_ANY})"
    return None


def _may_change_entry(tx: Tx, entry: TicketEntry, ticket: Ticket) -> None:
    why = _entry_refusal(tx, entry, ticket)
    if why is not None:
        raise PermissionDenied(why)


def can_edit_entry(tx: Tx, entry_id: int) -> bool:
    """Whether edit_entry/delete_entry would let the actor change this entry (to grey out a key)."""
    return edit_refusal(tx, entry_id) is None


def edit_refusal(tx: Tx, entry_id: int) -> str | None:
    """The words edit_entry/delete_entry would refuse with, or None when the actor may change the entry."""
    entry = tx.session.get(TicketEntry, entry_id)
    if entry is None:
        return f"no thread entry {entry_id}"
    if entry.deleted_at is not None:
        return f"entry {entry_id} was deleted"
    ticket = tx.session.get(Ticket, entry.ticket_id)
    try:
        require_access(tx, ticket)
    except PermissionDenied as exc:
        return str(exc)
    return _entry_refusal(tx, entry, ticket)


def edit_entry(tx: Tx, entry_id: int, body: str, *, expected_version: int | None = None) -> TicketEntry:
    entry, ticket = _entry_for_change(tx, entry_id, expected_version)
    _may_change_entry(tx, entry, ticket)
    body = _body(tx, body)
    tx.session.add(EntryRevision(entry_id=entry.id, body=entry.body, replaced_at=tx.now,
                                 replaced_by_id=tx.actor.agent_id, reason="edit"))
    entry.body = body
    entry.edited_at = tx.now
    entry.edited_by_id = tx.actor.agent_id
    tx.session.add(entry)
    event(tx, ticket, "entry_edited", entry_id=entry.id)
    return entry


def delete_entry(tx: Tx, entry_id: int, *, expected_version: int | None = None) -> TicketEntry:
    """Soft delete, under the same rule as editing: staff see a placeholder; the original stays in
    the revisions and the audit log."""
    entry, ticket = _entry_for_change(tx, entry_id, expected_version)
    _may_change_entry(tx, entry, ticket)
    tx.session.add(EntryRevision(entry_id=entry.id, body=entry.body, replaced_at=tx.now,
                                 replaced_by_id=tx.actor.agent_id, reason="delete"))
    entry.deleted_at = tx.now
    entry.deleted_by_id = tx.actor.agent_id
    tx.session.add(entry)
    # the original goes to the audit log and the revisions, not into the thread's event (which every face prints)
    audit(tx, "entry.deleted", "ticket_entry", entry.id, ticket=ticket.number, original=entry.body)
    event(tx, ticket, "entry_deleted", entry_id=entry.id)
    return entry


def redact_entry(tx: Tx, entry_id: int, *, reason: str = "", expected_version: int | None = None) -> TicketEntry:
    """An admin blanks an entry (a customer's message with a password in it, say). The thread shows
    "[redacted by NAME]"; the original is kept only in the audit log, never in the thread's events."""
    require_admin(tx)
    entry, ticket = _entry_for_change(tx, entry_id, expected_version)
    if entry.redacted_at is not None:
        raise Conflict(f"entry {entry.id} is already redacted")
    reason = _text(reason, "reason", required=False, limit=500)
    audit(tx, "entry.redacted", "ticket_entry", entry.id, ticket=ticket.number, kind=entry.kind,
          original=entry.body, original_full_body=entry.full_body, reason=reason)
    entry.body = ""
    entry.full_body = None
    entry.redacted_at = tx.now
    entry.redacted_by_id = tx.actor.agent_id
    tx.session.add(entry)
    event(tx, ticket, "entry_redacted", entry_id=entry.id, reason=reason)
    return entry


# --- assignment and transfer -----------------------------------------------------------------------

def _assign(tx: Tx, ticket: Ticket, agent: str | int | None, team: str | int | None, reason: str) -> None:
    s = tx.session
    new_agent = lookup.agent(s, agent) if agent not in (None, "") else None
    new_team = lookup.team(s, team) if team not in (None, "") else None
    if new_agent is not None and not new_agent.active:
        raise ValidationError("agent", f"{new_agent.username} is deactivated")
    if new_agent is not None and new_team is not None:
        member = s.get(TeamMember, (new_team.id, new_agent.id))
        if member is None:
            raise ValidationError("agent", f"{new_agent.username} is not a member of the team {new_team.name}")
    old_agent, old_team = ticket.assignee_id, ticket.team_id
    if new_agent is not None:
        ticket.assignee_id = new_agent.id
    if new_team is not None:
        ticket.team_id = new_team.id
    if (old_agent, old_team) == (ticket.assignee_id, ticket.team_id):
        return
    event(tx, ticket, "assigned", agent=new_agent.username if new_agent else None,
          team=new_team.name if new_team else None, previous_agent_id=old_agent, reason=reason)
    from tui_helpdesk.services import notify

    notify.assigned(tx, ticket, new_agent, new_team)


def assign(tx: Tx, ref: str | int, agent: str | int | None = None, team: str | int | None = None, *,
           expected_version: int | None = None, reason: str = "") -> TicketDetail:
    """Assign to an agent and/or a team, across departments if need be (escalation is never blocked)."""
    if agent in (None, "") and team in (None, ""):
        raise ValidationError("agent", "name an agent or a team")
    ticket = load(tx, ref, expected_version)
    self_take = (agent not in (None, "") and ticket.assignee_id is None and team in (None, "")
                 and lookup.agent(tx.session, agent).id == tx.actor.agent_id)
    if self_take:
        require_access(tx, ticket)  # "assign to me" on an unassigned ticket needs no assign permission
    else:
        require(tx, ticket, "ticket.assign")
    _assign(tx, ticket, agent, team, reason)
    return _detail(tx, ticket)


def assign_to_me(tx: Tx, ref: str | int, *, expected_version: int | None = None) -> TicketDetail:
    if tx.actor.agent_id is None:
        raise PermissionDenied("only an agent can take a ticket")
    return assign(tx, ref, tx.actor.agent_id, expected_version=expected_version)


def release(tx: Tx, ref: str | int, reason: str, *, expected_version: int | None = None,
            agent: bool = True, team: bool = True) -> TicketDetail:
    """Unassign with a reason (osTicket's release)."""
    ticket = load(tx, ref, expected_version)
    if ticket.assignee_id != tx.actor.agent_id or ticket.assignee_id is None:
        require(tx, ticket, "ticket.release")
    else:
        require_access(tx, ticket)
    reason = _text(reason, "reason")
    if ticket.assignee_id is None and ticket.team_id is None:
        raise Conflict(f"{ticket.number} is not assigned")
    old = {"agent_id": ticket.assignee_id, "team_id": ticket.team_id}
    if agent:
        ticket.assignee_id = None
    if team:
        ticket.team_id = None
    event(tx, ticket, "released", reason=reason, **old)
    return _detail(tx, ticket)


def transfer(tx: Tx, ref: str | int, department: str | int, *, reason: str = "",
             expected_version: int | None = None) -> TicketDetail:
    ticket = load(tx, ref, expected_version)
    require(tx, ticket, "ticket.transfer")
    dept = lookup.department(tx.session, department, for_new_ticket=True)
    if dept.id == ticket.department_id:
        raise ValidationError("department", f"{ticket.number} is already in {dept.name}")
    old = ticket.department_id
    ticket.department_id = dept.id
    event(tx, ticket, "transferred", from_department_id=old, to=dept.name, reason=reason)
    from tui_helpdesk.services import notify

    notify.transferred(tx, ticket, dept)
    return _detail(tx, ticket)


# --- status ------------------------------------------------------------------------------------------

def _change_status(tx: Tx, ticket: Ticket, status: Status, notes: str | None) -> None:
    if status.archived:
        raise ValidationError("status", f"{status.name!r} is archived")
    if status.id == ticket.status_id:
        return
    old_state = ticket.state
    if old_state == "closed" and status.state != "closed":
        if settings.get(tx.session, "closed_reopen_policy") == "never":
            raise Conflict(f"{ticket.number} is closed and closed tickets cannot be reopened")
    if old_state in DONE_STATES and status.state in OPEN_STATES:
        _reopen(tx, ticket, status, reason="status changed")
        return
    if status.state in DONE_STATES and old_state not in DONE_STATES:
        field_rules.check_required_to_close(tx, ticket)
    old_status = tx.session.get(Status, ticket.status_id)
    _set_status(tx, ticket, status)
    if status.state == "resolved" and notes is not None:
        ticket.resolution_notes = notes.strip()
    event(tx, ticket, "status", old=old_status.name if old_status else None, new=status.name,
          state=status.state, notes=notes or "")
    if status.state == "closed":
        from tui_helpdesk.services import notify

        notify.closed(tx, ticket)


def set_status(tx: Tx, ref: str | int, status: str | int, *, notes: str | None = None,
               expected_version: int | None = None) -> TicketDetail:
    """Change the status under seed 001's rules: resolve with notes, closed reopenable per setting."""
    ticket = load(tx, ref, expected_version)
    new = lookup.status(tx.session, status)
    if new.state in DONE_STATES or ticket.state in DONE_STATES:
        require(tx, ticket, "ticket.close")
    else:
        require(tx, ticket, "ticket.edit")
    if notes is not None and new.state != "resolved":
        raise ValidationError("notes", "resolution notes go with a resolved status")
    _change_status(tx, ticket, new, notes)
    return _detail(tx, ticket)


def resolve(tx: Tx, ref: str | int, notes: str | None = None, *, expected_version: int | None = None) -> TicketDetail:
    return set_status(tx, ref, lookup.default_status_for(tx.session, "resolved").id, notes=notes,
                      expected_version=expected_version)


def _reopen(tx: Tx, ticket: Ticket, status: Status, reason: str) -> None:
    old_status = tx.session.get(Status, ticket.status_id)
    _set_status(tx, ticket, status)
    ticket.reopened = True
    ticket.reopen_count += 1
    ticket.resolved_at = None
    ticket.closed_at = None
    ticket.chaser_sent_at = None
    # a reopened ticket gets a fresh SLA clock
    ticket.due_at = sla.due_at(tx.session, ticket.sla_plan_id, tx.now)
    ticket.is_overdue = False
    event(tx, ticket, "reopened", old=old_status.name if old_status else None, new=status.name, reason=reason)
    from tui_helpdesk.services import notify

    notify.reopened(tx, ticket)


def reopen(tx: Tx, ref: str | int, *, reason: str = "", expected_version: int | None = None) -> TicketDetail:
    """Manual reopen by staff: bypasses the window; closed tickets only per the closed-ticket policy."""
    ticket = load(tx, ref, expected_version)
    require(tx, ticket, "ticket.close")
    if ticket.state not in DONE_STATES:
        raise Conflict(f"{ticket.number} is not resolved or closed")
    if ticket.state == "closed" and settings.get(tx.session, "closed_reopen_policy") == "never":
        raise Conflict(f"{ticket.number} is closed and closed tickets cannot be reopened")
    _reopen(tx, ticket, lookup.default_status_for(tx.session, "open"), reason or "reopened by staff")
    return _detail(tx, ticket)


# --- fields --------------------------------------------------------------------------------------------

EDITABLE_FIELDS = ("subject", "priority", "topic", "category", "type", "item", "contact", "organization",
                   "sla_plan", "due_at", "custom")


def update_fields(tx: Tx, ref: str | int, changes: dict[str, Any], *, reason: str,
                  expected_version: int | None = None) -> TicketDetail:
    """Edit header fields; every change is an event carrying the old value, the new one and the reason."""
    ticket = load(tx, ref, expected_version)
    require(tx, ticket, "ticket.edit")
    reason = _text(reason, "reason")
    s = tx.session
    for name, value in changes.items():
        if name not in EDITABLE_FIELDS:
            raise ValidationError(name, f"not an editable field (editable: {', '.join(EDITABLE_FIELDS)})")
        old: Any
        if name == "custom":  # merged into the existing values; None removes one; errors name custom.NAME
            old = dict(ticket.custom_fields or {})
            value = field_rules.clean_ticket_values(tx, value, topic_id=ticket.topic_id,
                                                      department_id=ticket.department_id, creating=False,
                                                      field="custom")
            ticket.custom_fields = field_rules.merge(old, value)
            event(tx, ticket, "field_edited", field=name, old=old, new=value, reason=reason)
            continue
        with _as_field(name):
            if name == "subject":
                old, ticket.subject = ticket.subject, _text(value, "subject", limit=255)
            elif name == "priority":
                prio = lookup.priority(s, value)
                old = ticket.priority_id
                ticket.priority_id, ticket.priority_rank = prio.id, prio.rank
                value = prio.name
            elif name == "topic":
                old = ticket.topic_id
                ticket.topic_id = lookup.topic(s, value).id if value not in (None, "") else None
            elif name in ("category", "type", "item"):
                parent = {"category": None, "type": ticket.category_id, "item": ticket.type_id}[name]
                node = lookup.classification(s, value, name, parent) if value not in (None, "") else None
                attr = f"{name}_id"
                old = getattr(ticket, attr)
                setattr(ticket, attr, node.id if node else None)
                # a new parent invalidates the children below it in the cascade
                if name == "category" and old != ticket.category_id:
                    ticket.type_id = ticket.item_id = None
                if name == "type" and old != ticket.type_id:
                    ticket.item_id = None
            elif name == "contact":
                contact = lookup.contact(s, value)
                old = ticket.contact_id
                ticket.contact_id = contact.id
                if contact.organization_id:
                    ticket.organization_id = contact.organization_id
            elif name == "organization":
                old = ticket.organization_id
                ticket.organization_id = lookup.organization(s, value).id if value not in (None, "") else None
            elif name == "sla_plan":
                old = ticket.sla_plan_id
                plan = lookup.sla_plan(s, value) if value not in (None, "") else None
                ticket.sla_plan_id = plan.id if plan else None
                ticket.due_at = sla.due_at(s, ticket.sla_plan_id, ticket.created_at)
            elif name == "due_at":
                old = ticket.due_at
                ticket.due_at = value = _when(value, "due_at")
                ticket.is_overdue = bool(ticket.due_at and ticket.due_at < tx.now and ticket.state in OPEN_STATES)
            else:  # custom fields: a dict merged into the existing ones; None removes a key
                old = dict(ticket.custom_fields or {})
                merged = dict(old)
                value = _custom(value)
                for k, v in value.items():
                    if v is None:
                        merged.pop(k, None)
                    else:
                        merged[str(k)] = v
                ticket.custom_fields = merged
        event(tx, ticket, "field_edited", field=name, old=old, new=value, reason=reason)
    return _detail(tx, ticket)


# --- tags, collaborators, archive, time --------------------------------------------------------------------

def _replace_tags(tx: Tx, ticket: Ticket, names: Iterable[str]) -> list[str]:
    s = tx.session
    wanted = sorted({n.strip().lower() for n in names if n and n.strip()})
    for n in wanted:
        if len(n) > 60 or any(c.isspace() for c in n):
            raise ValidationError("tags", f"{n!r}: a tag is one word of at most 60 characters")
    s.execute(delete(TicketTag).where(TicketTag.ticket_id == ticket.id))
    for n in wanted:
        tag = s.execute(select(Tag).where(Tag.name == n)).scalars().first()
        if tag is None:
            tag = Tag(name=n)
            s.add(tag)
            s.flush()
        s.add(TicketTag(ticket_id=ticket.id, tag_id=tag.id))
    return wanted


def set_tags(tx: Tx, ref: str | int, names: Iterable[str], *, expected_version: int | None = None) -> TicketDetail:
    """Replace the whole tag set (as seed 002's API does)."""
    ticket = load(tx, ref, expected_version)
    require(tx, ticket, "ticket.edit")
    old = sorted(tx.session.execute(
        select(Tag.name).join(TicketTag, TicketTag.tag_id == Tag.id).where(TicketTag.ticket_id == ticket.id)
    ).scalars())
    new = _replace_tags(tx, ticket, names)
    if old != new:
        event(tx, ticket, "tags", old=old, new=new)
    return _detail(tx, ticket)


def add_participant(tx: Tx, ticket: Ticket, email: str) -> bool:
    """Make an address a collaborator (CC) on the ticket; False when it already takes part."""
    contact = lookup.contact(tx.session, email)
    if contact.id == ticket.contact_id or tx.session.get(Collaborator, (ticket.id, contact.id)):
        return False
    tx.session.add(Collaborator(ticket_id=ticket.id, contact_id=contact.id, created_at=tx.now))
    return True


def add_collaborator(tx: Tx, ref: str | int, email: str, *, expected_version: int | None = None) -> TicketDetail:
    ticket = load(tx, ref, expected_version)
    require(tx, ticket, "ticket.edit")
    with _as_field("email"):
        added = add_participant(tx, ticket, email)
    if added:
        event(tx, ticket, "collaborator_added", email=email.strip().lower())
    return _detail(tx, ticket)


def remove_collaborator(tx: Tx, ref: str | int, email: str, *,
                        expected_version: int | None = None) -> TicketDetail:
    ticket = load(tx, ref, expected_version)
    require(tx, ticket, "ticket.edit")
    contact = lookup.contact(tx.session, email, create=False)
    row = tx.session.get(Collaborator, (ticket.id, contact.id))
    if row is None:
        raise NotFound(f"{contact.email} is not a collaborator on {ticket.number}")
    tx.session.delete(row)
    event(tx, ticket, "collaborator_removed", email=contact.email)
    return _detail(tx, ticket)


def archive(tx: Tx, ref: str | int, *, expected_version: int | None = None) -> TicketDetail:
    ticket = load(tx, ref, expected_version)
    require(tx, ticket, "ticket.archive")
    if ticket.archived:
        raise Conflict(f"{ticket.number} is already archived")
    ticket.archived = True
    ticket.visible = False
    event(tx, ticket, "archived")
    return _detail(tx, ticket)


def restore(tx: Tx, ref: str | int, *, expected_version: int | None = None) -> TicketDetail:
    ticket = load(tx, ref, expected_version)
    require(tx, ticket, "ticket.archive")
    if not ticket.archived:
        raise Conflict(f"{ticket.number} is not archived")
    ticket.archived = False
    ticket.visible = ticket.merged_into_id is None
    event(tx, ticket, "restored")
    return _detail(tx, ticket)


def log_time(tx: Tx, ref: str | int, minutes: int, *, billable: bool = True, note: str = "",
             expected_version: int | None = None, work_date: Any = None) -> Any:
    """Log the actor's time; the rules are time_entries.add's (returns its TimeRow)."""
    from . import time_entries

    return time_entries.add(tx, ref, minutes, billable=billable, note=note, work_date=work_date,
                            expected_version=expected_version)
