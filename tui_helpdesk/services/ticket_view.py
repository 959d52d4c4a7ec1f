"""Plain read models of one ticket: its header fields and its thread. Never live ORM objects."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import false, func, select, true
from sqlmodel import Session

from tui_helpdesk.models import (
    Agent,
    Attachment,
    Classification,
    Collaborator,
    Contact,
    Department,
    HelpTopic,
    Organization,
    Priority,
    SLAPlan,
    Status,
    Tag,
    Task,
    Team,
    Ticket,
    TicketEntry,
    TicketEvent,
    TicketLink,
    TicketTag,
    TimeEntry,
)


@dataclass(frozen=True)
class LinkView:
    kind: str
    ticket_id: int
    number: str
    subject: str
    state: str


@dataclass(frozen=True)
class AttachmentView:
    id: int
    entry_id: int | None
    filename: str
    content_type: str
    size: int
    inline: bool


@dataclass(frozen=True)
class ThreadItem:
    """An entry (message, reply, note) or an event, in thread order."""

    kind: str  # message | reply | note | event
    id: int
    ticket_id: int
    created_at: datetime
    author: str
    author_email: str = ""
    body: str = ""
    full_body: str | None = None
    body_format: str = "markdown"
    event_kind: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    time_spent: int = 0
    edited_at: datetime | None = None
    deleted: bool = False
    agent_id: int | None = None
    message_id: str | None = None
    recipients: dict[str, Any] = field(default_factory=dict)
    attachments: tuple[AttachmentView, ...] = ()
    # the number of the ticket the item was written on (a merged child's, in the parent's thread)
    ticket_number: str = ""
    redacted_by: str = ""  # an admin blanked the entry; the body reads "[redacted by NAME]"


@dataclass(frozen=True)
class TaskView:
    id: int
    title: str
    assignee: str
    due_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True)
class TicketDetail:
    id: int
    number: str
    subject: str
    version: int
    state: str
    status: str
    status_id: int
    status_color: str
    priority: str
    priority_id: int
    priority_color: str
    department: str
    department_id: int
    topic: str
    category: str
    type: str
    item: str
    requester: str
    requester_email: str
    contact_id: int | None
    organization: str
    organization_id: int | None
    assignee: str
    assignee_id: int | None
    assignee_username: str
    team: str
    team_id: int | None
    sla_plan: str
    due_at: datetime | None
    is_overdue: bool
    source: str
    archived: bool
    merged_into: str
    merged_children: tuple[str, ...]
    reopened: bool
    reopen_count: int
    resolution_notes: str
    custom_fields: dict[str, Any]
    tags: tuple[str, ...]
    collaborators: tuple[str, ...]
    links: tuple[LinkView, ...]
    tasks: tuple[TaskView, ...]
    time_logged: int
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    thread: tuple[ThreadItem, ...] = ()
    # the newest entry id, for tickets.newer_entries (did someone reply while I was writing?)
    last_entry_id: int = 0
    # mail to the requester bounced: when and the report's status ("" when it does not)
    requester_bounce: str = ""
    # the custom fields that apply (labels, values as text; services/custom_fields.py) and the asset
    custom: tuple[Any, ...] = ()
    asset: str = ""
    asset_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _name(session: Session, model, ident: int | None, attr: str = "name") -> str:
    if ident is None:
        return ""
    row = session.get(model, ident)
    return getattr(row, attr) if row is not None else ""


def detail(session: Session, ticket: Ticket, *, thread: bool = True, order: str = "ASC",
           events: bool = True, staff: bool = True) -> TicketDetail:
    contact = session.get(Contact, ticket.contact_id) if ticket.contact_id else None
    status = session.get(Status, ticket.status_id)
    priority = session.get(Priority, ticket.priority_id)
    assignee = session.get(Agent, ticket.assignee_id) if ticket.assignee_id else None
    tags = session.execute(
        select(Tag.name).join(TicketTag, TicketTag.tag_id == Tag.id).where(TicketTag.ticket_id == ticket.id).order_by(Tag.name)
    ).scalars().all()
    collabs = session.execute(
        select(Contact.email).join(Collaborator, Collaborator.contact_id == Contact.id)
        .where(Collaborator.ticket_id == ticket.id).order_by(Contact.email)
    ).scalars().all()
    links = [
        LinkView(kind=link.kind, ticket_id=other.id, number=other.number, subject=other.subject, state=other.state)
        for link, other in session.execute(
            select(TicketLink, Ticket).join(Ticket, Ticket.id == TicketLink.other_id)
            .where(TicketLink.ticket_id == ticket.id).order_by(TicketLink.kind, Ticket.id)
        ).all()
    ]
    children = session.execute(
        select(Ticket.number).where(Ticket.merged_into_id == ticket.id).order_by(Ticket.id)
    ).scalars().all()
    tasks = [
        TaskView(id=t.id, title=t.title, assignee=_name(session, Agent, t.assignee_id), due_at=t.due_at, closed_at=t.closed_at)
        for t in session.execute(select(Task).where(Task.ticket_id == ticket.id).order_by(Task.id)).scalars()
    ]
    minutes = session.execute(
        select(func.coalesce(func.sum(TimeEntry.minutes), 0)).where(TimeEntry.ticket_id == ticket.id)
    ).scalar_one()
    items = tuple(thread_items(session, ticket, order=order, events=events, staff=staff)) if thread else ()
    from . import assets, custom_fields  # here: both import modules that import this one

    asset = assets.of_ticket(session, ticket.id)
    return TicketDetail(
        id=ticket.id, number=ticket.number, subject=ticket.subject, version=ticket.version,
        state=ticket.state, status=status.name if status else "", status_id=ticket.status_id,
        status_color=status.color if status else "",
        priority=priority.name if priority else "", priority_id=ticket.priority_id,
        priority_color=priority.color if priority else "",
        department=_name(session, Department, ticket.department_id), department_id=ticket.department_id,
        topic=_name(session, HelpTopic, ticket.topic_id),
        category=_name(session, Classification, ticket.category_id),
        type=_name(session, Classification, ticket.type_id),
        item=_name(session, Classification, ticket.item_id),
        requester=(contact.name or contact.email) if contact else "",
        requester_email=contact.email if contact else "", contact_id=ticket.contact_id,
        organization=_name(session, Organization, ticket.organization_id), organization_id=ticket.organization_id,
        assignee=assignee.name if assignee else "", assignee_id=ticket.assignee_id,
        assignee_username=assignee.username if assignee else "",
        team=_name(session, Team, ticket.team_id), team_id=ticket.team_id,
        sla_plan=_name(session, SLAPlan, ticket.sla_plan_id), due_at=ticket.due_at, is_overdue=ticket.is_overdue,
        source=ticket.source, archived=ticket.archived,
        merged_into=_name(session, Ticket, ticket.merged_into_id, "number"), merged_children=tuple(children),
        reopened=ticket.reopened, reopen_count=ticket.reopen_count, resolution_notes=ticket.resolution_notes,
        custom_fields=dict(ticket.custom_fields or {}), tags=tuple(tags), collaborators=tuple(collabs),
        links=tuple(links), tasks=tuple(tasks), time_logged=int(minutes),
        created_at=ticket.created_at, updated_at=ticket.updated_at, first_response_at=ticket.first_response_at,
        resolved_at=ticket.resolved_at, closed_at=ticket.closed_at, thread=items,
        last_entry_id=_last_entry_id(session, ticket),
        requester_bounce=_bounce_text(contact),
        custom=custom_fields.shown_for_ticket(session, ticket) if staff else (),
        asset=asset.label if asset else "", asset_id=asset.id if asset else None,
    )


def _bounce_text(contact: Contact | None) -> str:
    if contact is None or contact.bounced_at is None:
        return ""
    status = f": {contact.bounce_status}" if contact.bounce_status else ""
    return f"mail bounced {contact.bounced_at:%Y-%m-%d}{status}"


def _last_entry_id(session: Session, ticket: Ticket) -> int:
    merged = select(Ticket.id).where(Ticket.merged_into_id == ticket.id)
    return session.execute(
        select(func.coalesce(func.max(TicketEntry.id), 0))
        .where((TicketEntry.ticket_id == ticket.id) | TicketEntry.ticket_id.in_(merged))
    ).scalar_one()


# the position of an item in thread order: entries before events at the same instant
Cursor = tuple[datetime, bool, int]


def cursor_of(item: ThreadItem) -> Cursor:
    return (item.created_at, item.kind == "event", item.id)


@dataclass(frozen=True)
class ThreadPage:
    """The newest `len(items)` items before a cursor, oldest first, and how many come before them."""

    items: tuple[ThreadItem, ...]
    earlier: int


def _merged_numbers(session: Session, ticket: Ticket) -> dict[int, str]:
    numbers = {ticket.id: ticket.number}
    numbers.update(
        session.execute(select(Ticket.id, Ticket.number).where(Ticket.merged_into_id == ticket.id)).all()
    )
    return numbers


def _before(created, ident, is_event: bool, before: Cursor | None):
    """SQL for "strictly earlier in thread order than `before`" on an entry or event table."""
    if before is None:
        return true()
    at, cursor_is_event, cursor_id = before
    if is_event:
        same = (ident < cursor_id) if cursor_is_event else false()
    else:
        same = true() if cursor_is_event else (ident < cursor_id)
    return (created < at) | ((created == at) & same)


def thread_page(session: Session, ticket: Ticket, *, limit: int, before: Cursor | None = None,
                events: bool = True, staff: bool = True) -> ThreadPage:
    """A screen shows the newest page first and asks for earlier pages as the agent scrolls up, so a
    5,000-entry ticket costs what a 50-entry one does to open."""
    items = thread_items(session, ticket, events=events, staff=staff, limit=limit, before=before)
    ids = list(_merged_numbers(session, ticket))
    first = cursor_of(items[0]) if items else before
    counted = select(func.count()).select_from(TicketEntry).where(
        TicketEntry.ticket_id.in_(ids), _before(TicketEntry.created_at, TicketEntry.id, False, first)
    )
    if not staff:
        counted = counted.where(TicketEntry.kind != "note", TicketEntry.deleted_at.is_(None))
    earlier = session.execute(counted).scalar_one()
    if events and staff:
        earlier += session.execute(
            select(func.count()).select_from(TicketEvent).where(
                TicketEvent.ticket_id.in_(ids), _before(TicketEvent.created_at, TicketEvent.id, True, first)
            )
        ).scalar_one()
    return ThreadPage(tuple(items), int(earlier))


def thread_items(session: Session, ticket: Ticket, *, order: str = "ASC", events: bool = True,
                 staff: bool = True, limit: int | None = None, before: Cursor | None = None) -> list[ThreadItem]:
    """The thread of a ticket and of every ticket merged into it, oldest first (or newest with DESC).

    With `limit`, only the newest `limit` items earlier than `before` (the whole thread without it)."""
    numbers = _merged_numbers(session, ticket)
    ids = list(numbers)
    agents: dict[int, Agent] = {}
    contacts: dict[int, Contact] = {}

    def agent(ident: int | None) -> Agent | None:
        if ident is None:
            return None
        if ident not in agents:
            agents[ident] = session.get(Agent, ident)
        return agents[ident]

    def contact(ident: int | None) -> Contact | None:
        if ident is None:
            return None
        if ident not in contacts:
            contacts[ident] = session.get(Contact, ident)
        return contacts[ident]

    query = select(TicketEntry).where(
        TicketEntry.ticket_id.in_(ids), _before(TicketEntry.created_at, TicketEntry.id, False, before)
    )
    if not staff:
        query = query.where(TicketEntry.kind != "note", TicketEntry.deleted_at.is_(None))
    if limit is not None:
        query = query.order_by(TicketEntry.created_at.desc(), TicketEntry.id.desc()).limit(limit)
    entries = list(session.execute(query).scalars())
    files: dict[int, list[AttachmentView]] = {}
    attached = select(Attachment).where(Attachment.ticket_id.in_(ids))
    if limit is not None:
        attached = select(Attachment).where(Attachment.entry_id.in_([e.id for e in entries]))
    for a in session.execute(attached.order_by(Attachment.id)).scalars():
        files.setdefault(a.entry_id or 0, []).append(
            AttachmentView(id=a.id, entry_id=a.entry_id, filename=a.filename, content_type=a.content_type,
                           size=a.size, inline=a.inline)
        )
    items: list[ThreadItem] = []
    for e in entries:
        if e.kind == "note" and not staff:
            continue
        if e.deleted_at is not None and not staff:
            continue
        a = agent(e.agent_id)
        c = contact(e.contact_id)
        author = a.name if a else (c.name or c.email if c else "unknown")
        redactor = agent(e.redacted_by_id) if e.redacted_at is not None else None
        redacted_by = (redactor.name if redactor else "an admin") if e.redacted_at is not None else ""
        if e.deleted_at:
            body, full = "", None
        elif redacted_by:
            body, full = f"[redacted by {redacted_by}]", None
        else:
            body, full = e.body, e.full_body
        items.append(
            ThreadItem(
                kind=e.kind, id=e.id, ticket_id=e.ticket_id, created_at=e.created_at, author=author,
                author_email=(a.email if a else (c.email if c else "")),
                body=body, full_body=full, ticket_number=numbers.get(e.ticket_id, ""), redacted_by=redacted_by,
                body_format=e.body_format, time_spent=e.time_spent, edited_at=e.edited_at,
                deleted=e.deleted_at is not None, agent_id=e.agent_id, message_id=e.message_id,
                recipients=dict(e.recipients or {}), attachments=tuple(files.get(e.id, ())),
            )
        )
    if events and staff:
        happened = select(TicketEvent).where(
            TicketEvent.ticket_id.in_(ids), _before(TicketEvent.created_at, TicketEvent.id, True, before)
        )
        if limit is not None:
            happened = happened.order_by(TicketEvent.created_at.desc(), TicketEvent.id.desc()).limit(limit)
        for ev in session.execute(happened).scalars():
            a = agent(ev.agent_id)
            items.append(
                ThreadItem(kind="event", id=ev.id, ticket_id=ev.ticket_id, created_at=ev.created_at,
                           author=a.name if a else "system", event_kind=ev.kind, data=dict(ev.data or {}),
                           agent_id=ev.agent_id, ticket_number=numbers.get(ev.ticket_id, ""))
            )
    # entries before events at the same instant: the reply, then the status change it caused
    items.sort(key=cursor_of)
    if limit is not None:
        items = items[-limit:] if limit else []
    if order.upper() == "DESC":
        items.reverse()
    return items
