"""Plain read models of one ticket: its header fields and its thread. Never live ORM objects."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, false, func, select, true, union_all
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
    TicketAsset,
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


# The reads below are Core statements built once (bound parameters, SQLAlchemy's compiled cache):
# a ticket's page is about twelve small reads, and building and ORM-loading thirty of them anew cost
# most of the time it took to open a ticket at 1M tickets (35 ms CPU; the SQL itself ~3 ms).
_T = Ticket.__table__


@functools.cache
def _names_statement() -> Any:
    """The names a ticket's header shows beside its ids, its time logged, newest entry and asset: one row."""
    t = _T.c
    contact, status, priority = Contact.__table__, Status.__table__, Priority.__table__
    agent, dept, topic = Agent.__table__, Department.__table__, HelpTopic.__table__
    cat, typ, item = (Classification.__table__.alias(n) for n in ("cat", "typ", "itm"))
    org, team, sla, parent = Organization.__table__, Team.__table__, SLAPlan.__table__, _T.alias("parent")
    e, ta = TicketEntry.__table__.c, TicketAsset.__table__.c
    me = bindparam("id")  # the ticket; the subqueries name it too, none of them correlated
    child = _T.alias("child")
    minutes = (select(func.coalesce(func.sum(TimeEntry.__table__.c.minutes), 0))
               .where(TimeEntry.__table__.c.ticket_id == me).scalar_subquery())
    # the ticket's own entries and its merged children's, each read by index: one OR over both made
    # PostgreSQL walk every entry id backward (4.2 s for an old ticket at 1M)
    entry = TicketEntry.__table__
    both = union_all(
        select(func.max(e.id).label("m")).where(e.ticket_id == me),
        select(func.max(e.id).label("m")).select_from(child.join(entry, e.ticket_id == child.c.id))
        .where(child.c.merged_into_id == me),
    ).subquery()
    last = select(func.coalesce(func.max(both.c.m), 0)).scalar_subquery()
    asset = select(ta.asset_id).where(ta.ticket_id == me).limit(1).scalar_subquery()
    joined = (
        _T.outerjoin(contact, contact.c.id == t.contact_id).outerjoin(status, status.c.id == t.status_id)
        .outerjoin(priority, priority.c.id == t.priority_id).outerjoin(agent, agent.c.id == t.assignee_id)
        .outerjoin(dept, dept.c.id == t.department_id).outerjoin(topic, topic.c.id == t.topic_id)
        .outerjoin(cat, cat.c.id == t.category_id).outerjoin(typ, typ.c.id == t.type_id)
        .outerjoin(item, item.c.id == t.item_id).outerjoin(org, org.c.id == t.organization_id)
        .outerjoin(team, team.c.id == t.team_id).outerjoin(sla, sla.c.id == t.sla_plan_id)
        .outerjoin(parent, parent.c.id == t.merged_into_id)
    )
    return select(
        contact.c.id.label("contact"), contact.c.name.label("contact_name"), contact.c.email.label("contact_email"),
        contact.c.bounced_at, contact.c.bounce_status,
        status.c.name.label("status"), status.c.color.label("status_color"),
        priority.c.name.label("priority"), priority.c.color.label("priority_color"),
        agent.c.id.label("assignee"), agent.c.name.label("assignee_name"), agent.c.username.label("assignee_username"),
        dept.c.name.label("department"), topic.c.name.label("topic"), cat.c.name.label("category"),
        typ.c.name.label("type"), item.c.name.label("item"), org.c.name.label("organization"),
        team.c.name.label("team"), sla.c.name.label("sla_plan"), parent.c.number.label("merged_into"),
        minutes.label("minutes"), last.label("last_entry_id"), asset.label("asset_id"),
    ).select_from(joined).where(t.id == me)


@functools.cache
def _lists_statements() -> dict[str, Any]:
    """A ticket's tags, collaborators, links, merged children and tasks: each a short list on an index."""
    tag, tt, contact, co = Tag.__table__.c, TicketTag.__table__.c, Contact.__table__.c, Collaborator.__table__.c
    link, other, task, agent = TicketLink.__table__.c, _T.alias("other"), Task.__table__.c, Agent.__table__
    me = bindparam("id")
    return {
        "tags": select(tag.name).join(TicketTag.__table__, tt.tag_id == tag.id).where(tt.ticket_id == me)
        .order_by(tag.name),
        "cc": select(contact.email).join(Collaborator.__table__, co.contact_id == contact.id)
        .where(co.ticket_id == me).order_by(contact.email),
        "links": select(link.kind, other.c.id, other.c.number, other.c.subject, other.c.state)
        .join(other, other.c.id == link.other_id).where(link.ticket_id == me).order_by(link.kind, other.c.id),
        "children": select(_T.c.id, _T.c.number).where(_T.c.merged_into_id == me).order_by(_T.c.id),
        "tasks": select(task.id, task.title, agent.c.name, task.due_at, task.closed_at)
        .outerjoin(agent, agent.c.id == task.assignee_id).where(task.ticket_id == me).order_by(task.id),
    }


def detail(session: Session, ticket: Ticket, *, thread: bool = True, order: str = "ASC",
           events: bool = True, staff: bool = True) -> TicketDetail:
    session.flush()  # the names are read from the rows: a change made but not written yet must be in them
    conn = session.connection()
    n = conn.execute(_names_statement(), {"id": ticket.id}).one()
    lists = _lists_statements()
    tags = conn.execute(lists["tags"], {"id": ticket.id}).scalars().all()
    collabs = conn.execute(lists["cc"], {"id": ticket.id}).scalars().all()
    links = [LinkView(kind=r[0], ticket_id=r[1], number=r[2], subject=r[3], state=r[4])
             for r in conn.execute(lists["links"], {"id": ticket.id})]
    children = conn.execute(lists["children"], {"id": ticket.id}).all()
    tasks = [TaskView(id=r[0], title=r[1], assignee=r[2] or "", due_at=r[3], closed_at=r[4])
             for r in conn.execute(lists["tasks"], {"id": ticket.id})]
    numbers = {ticket.id: ticket.number, **dict(children)}
    items = tuple(thread_items(session, ticket, order=order, events=events, staff=staff, numbers=numbers)) \
        if thread else ()
    from . import assets, custom_fields  # here: both import modules that import this one

    asset = assets.of_ticket(session, ticket.id) if n.asset_id is not None else None
    return TicketDetail(
        id=ticket.id, number=ticket.number, subject=ticket.subject, version=ticket.version,
        state=ticket.state, status=n.status or "", status_id=ticket.status_id,
        status_color=n.status_color or "",
        priority=n.priority or "", priority_id=ticket.priority_id,
        priority_color=n.priority_color or "",
        department=n.department or "", department_id=ticket.department_id,
        topic=n.topic or "", category=n.category or "", type=n.type or "", item=n.item or "",
        requester=(n.contact_name or n.contact_email) if n.contact is not None else "",
        requester_email=n.contact_email or "", contact_id=ticket.contact_id,
        organization=n.organization or "", organization_id=ticket.organization_id,
        assignee=n.assignee_name or "", assignee_id=ticket.assignee_id,
        assignee_username=n.assignee_username or "",
        team=n.team or "", team_id=ticket.team_id,
        sla_plan=n.sla_plan or "", due_at=ticket.due_at, is_overdue=ticket.is_overdue,
        source=ticket.source, archived=ticket.archived,
        merged_into=n.merged_into or "", merged_children=tuple(number for _, number in children),
        reopened=ticket.reopened, reopen_count=ticket.reopen_count, resolution_notes=ticket.resolution_notes,
        custom_fields=dict(ticket.custom_fields or {}), tags=tuple(tags), collaborators=tuple(collabs),
        links=tuple(links), tasks=tuple(tasks), time_logged=int(n.minutes),
        created_at=ticket.created_at, updated_at=ticket.updated_at, first_response_at=ticket.first_response_at,
        resolved_at=ticket.resolved_at, closed_at=ticket.closed_at, thread=items,
        last_entry_id=int(n.last_entry_id),
        requester_bounce=_bounce_text(n.bounced_at, n.bounce_status) if n.contact is not None else "",
        custom=custom_fields.shown_for_ticket(session, ticket) if staff else (),
        asset=asset.label if asset else "", asset_id=asset.id if asset else None,
    )


def _bounce_text(bounced_at: datetime | None, bounce_status: str | None) -> str:
    if bounced_at is None:
        return ""
    status = f": {bounce_status}" if bounce_status else ""
    return f"mail bounced {bounced_at:%Y-%m-%d}{status}"


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
    numbers.update(session.connection().execute(_lists_statements()["children"], {"id": ticket.id}).all())
    return numbers


def _before(created, ident, is_event: bool, before: str | None):
    """SQL for "strictly earlier in thread order than the cursor (:at, :cid)" on an entry or event table;
    `before` says what the cursor is ("entry", "event", or None: no cursor)."""
    if before is None:
        return true()
    at = bindparam("at", type_=created.type)
    cursor_id = bindparam("cid")
    if is_event:
        same = (ident < cursor_id) if before == "event" else false()
    else:
        same = true() if before == "event" else (ident < cursor_id)
    return (created < at) | ((created == at) & same)


def _cursor_params(before: Cursor | None) -> tuple[str | None, dict[str, Any]]:
    if before is None:
        return None, {}
    at, is_event, cursor_id = before
    return ("event" if is_event else "entry"), {"at": at, "cid": cursor_id}


@functools.cache
def _entries_statement(before: str | None, staff: bool, limited: bool) -> Any:
    """A thread's entries with their authors' names (and a redactor's), newest first when `limited`."""
    e, agent, contact = TicketEntry.__table__.c, Agent.__table__, Contact.__table__
    redactor = Agent.__table__.alias("redactor")
    stmt = (
        select(e.id, e.ticket_id, e.kind, e.agent_id, e.body, e.full_body, e.body_format, e.message_id,
               e.recipients, e.time_spent, e.created_at, e.edited_at, e.deleted_at, e.redacted_at,
               agent.c.id.label("agent"), agent.c.name.label("agent_name"), agent.c.email.label("agent_email"),
               contact.c.id.label("contact"), contact.c.name.label("contact_name"),
               contact.c.email.label("contact_email"), redactor.c.id.label("redactor"),
               redactor.c.name.label("redactor_name"))
        .select_from(TicketEntry.__table__.outerjoin(agent, agent.c.id == e.agent_id)
                     .outerjoin(contact, contact.c.id == e.contact_id)
                     .outerjoin(redactor, redactor.c.id == e.redacted_by_id))
        .where(e.ticket_id.in_(bindparam("ids", expanding=True)),
               _before(e.created_at, e.id, False, before))
    )
    if not staff:
        stmt = stmt.where(e.kind != "note", e.deleted_at.is_(None))
    if limited:
        stmt = stmt.order_by(e.created_at.desc(), e.id.desc()).limit(bindparam("limit"))
    return stmt


@functools.cache
def _events_statement(before: str | None, limited: bool) -> Any:
    ev, agent = TicketEvent.__table__.c, Agent.__table__
    stmt = (
        select(ev.id, ev.ticket_id, ev.kind, ev.agent_id, ev.data, ev.created_at, agent.c.id.label("agent"),
               agent.c.name.label("agent_name"))
        .select_from(TicketEvent.__table__.outerjoin(agent, agent.c.id == ev.agent_id))
        .where(ev.ticket_id.in_(bindparam("ids", expanding=True)),
               _before(ev.created_at, ev.id, True, before))
    )
    if limited:
        stmt = stmt.order_by(ev.created_at.desc(), ev.id.desc()).limit(bindparam("limit"))
    return stmt


@functools.cache
def _attachments_statement(by_entry: bool) -> Any:
    a = Attachment.__table__.c
    key = a.entry_id if by_entry else a.ticket_id
    return (select(a.id, a.entry_id, a.filename, a.content_type, a.size, a.inline)
            .where(key.in_(bindparam("ids", expanding=True))).order_by(a.id))


@functools.cache
def _earlier_statement(before: str | None, events: bool, staff: bool) -> Any:
    """How many entries (and events) come before the cursor, in one row."""
    e, ev = TicketEntry.__table__.c, TicketEvent.__table__.c
    ids = bindparam("ids", expanding=True)
    entries = select(func.count()).select_from(TicketEntry.__table__).where(
        e.ticket_id.in_(ids), _before(e.created_at, e.id, False, before))
    if not staff:
        entries = entries.where(e.kind != "note", e.deleted_at.is_(None))
    counts = [entries.scalar_subquery()]
    if events:
        counts.append(select(func.count()).select_from(TicketEvent.__table__).where(
            ev.ticket_id.in_(ids), _before(ev.created_at, ev.id, True, before)).scalar_subquery())
    return select(*counts)


def thread_page(session: Session, ticket: Ticket, *, limit: int, before: Cursor | None = None,
                events: bool = True, staff: bool = True, numbers: dict[int, str] | None = None) -> ThreadPage:
    """A screen shows the newest page first and asks for earlier pages as the agent scrolls up, so a
    5,000-entry ticket costs what a 50-entry one does to open. `numbers`: the ticket's and its merged
    children's numbers by id, when the caller has read them."""
    numbers = numbers if numbers is not None else _merged_numbers(session, ticket)
    items = thread_items(session, ticket, events=events, staff=staff, limit=limit, before=before, numbers=numbers)
    first = cursor_of(items[0]) if items else before
    kind, params = _cursor_params(first)
    counted = session.connection().execute(
        _earlier_statement(kind, events and staff, staff), {"ids": list(numbers), **params}
    ).one()
    return ThreadPage(tuple(items), int(sum(counted)))


def thread_items(session: Session, ticket: Ticket, *, order: str = "ASC", events: bool = True,
                 staff: bool = True, limit: int | None = None, before: Cursor | None = None,
                 numbers: dict[int, str] | None = None) -> list[ThreadItem]:
    """The thread of a ticket and of every ticket merged into it, oldest first (or newest with DESC).

    With `limit`, only the newest `limit` items earlier than `before` (the whole thread without it)."""
    numbers = numbers if numbers is not None else _merged_numbers(session, ticket)
    ids = list(numbers)
    conn = session.connection()
    kind, params = _cursor_params(before)
    params["ids"] = ids
    limited = limit is not None
    if limited:
        params["limit"] = limit
    entries = conn.execute(_entries_statement(kind, staff, limited), params).all()
    files: dict[int, list[AttachmentView]] = {}
    if entries or not limited:
        by_entry = limited  # a page: only its entries' files; the whole thread: every file of the tickets
        attached = conn.execute(_attachments_statement(by_entry), {"ids": [e.id for e in entries] if by_entry else ids})
        for a in attached:
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
        if e.agent is not None:
            author, email = e.agent_name, e.agent_email
        elif e.contact is not None:
            author, email = e.contact_name or e.contact_email, e.contact_email
        else:
            author, email = "unknown", ""
        redacted_by = "" if e.redacted_at is None else e.redactor_name if e.redactor is not None else "an admin"
        if e.deleted_at:
            body, full = "", None
        elif redacted_by:
            body, full = f"[redacted by {redacted_by}]", None
        else:
            body, full = e.body, e.full_body
        items.append(
            ThreadItem(
                kind=e.kind, id=e.id, ticket_id=e.ticket_id, created_at=e.created_at, author=author,
                author_email=email, body=body, full_body=full, ticket_number=numbers.get(e.ticket_id, ""),
                redacted_by=redacted_by, body_format=e.body_format, time_spent=e.time_spent,
                edited_at=e.edited_at, deleted=e.deleted_at is not None, agent_id=e.agent_id,
                message_id=e.message_id, recipients=dict(e.recipients or {}),
                attachments=tuple(files.get(e.id, ())),
            )
        )
    if events and staff:
        for ev in conn.execute(_events_statement(kind, limited), params):
            items.append(
                ThreadItem(kind="event", id=ev.id, ticket_id=ev.ticket_id, created_at=ev.created_at,
                           author=ev.agent_name if ev.agent is not None else "system", event_kind=ev.kind, data=dict(ev.data or {}),
                           agent_id=ev.agent_id, ticket_number=numbers.get(ev.ticket_id, ""))
            )
    # entries before events at the same instant: the reply, then the status change it caused
    items.sort(key=cursor_of)
    if limit is not None:
        items = items[-limit:] if limit else []
    if order.upper() == "DESC":
        items.reverse()
    return items
