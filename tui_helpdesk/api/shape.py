"""Service rows -> response bodies. Pure: no database, no rules."""

from __future__ import annotations

import re
from typing import Any

from tui_helpdesk.services.queries import QueueRow
from tui_helpdesk.services.ticket_view import ThreadItem, TicketDetail

from . import schemas

_NUMBER = re.compile(r"^(.*?)[-_ ]?(\d+)$")


def split_number(number: str) -> tuple[str, int | None]:
    """TCK-1042 -> ("TCK", 1042), as ITFlow's read API gives prefix and number apart."""
    match = _NUMBER.match(number)
    if not match:
        return number, None
    return match.group(1), int(match.group(2))


def reply(item: ThreadItem) -> schemas.Reply:
    return schemas.Reply(
        id=item.id, type=item.kind,  # type: ignore[arg-type]
        author=schemas.Author(name=item.author, email=item.author_email),
        admin=item.agent_id is not None, date=item.created_at, message=item.body, deleted=item.deleted,
        time_spent=item.time_spent,
        attachments=[
            schemas.AttachmentOut(id=a.id, filename=a.filename, content_type=a.content_type, size=a.size)
            for a in item.attachments
        ],
    )


def ticket(d: TicketDetail) -> schemas.Ticket:
    entries = [i for i in d.thread if i.kind != "event"]
    events = [i for i in d.thread if i.kind == "event"]
    messages = [i for i in entries if i.kind == "message"]
    first = min(messages, key=lambda i: (i.created_at, i.id)) if messages else None
    replies = [i for i in entries if i.kind in ("message", "reply")]
    agent_replies = [i.created_at for i in entries if i.kind == "reply" and not i.deleted]
    status_changes = [i.created_at for i in events if i.event_kind == "status"]
    created = next((i for i in events if i.event_kind == "created"), None)
    prefix, value = split_number(d.number)
    return schemas.Ticket(
        id=d.id, number=d.number, number_prefix=prefix, number_value=value, subject=d.subject,
        message=first.body if first else "",
        status=schemas.StatusRef(id=d.status_id, title=d.status, state=d.state),
        priority=schemas.PriorityRef(id=d.priority_id, title=d.priority),
        source=d.source, active_state="archived" if d.archived else "active",
        department=schemas.Named(id=d.department_id, name=d.department),
        client=schemas.Named(id=d.organization_id, name=d.organization) if d.organization_id else None,
        contact=(
            schemas.ContactRef(id=d.contact_id, name=d.requester, email=d.requester_email)
            if d.contact_id else None
        ),
        creator=str(created.data.get("by", created.author)) if created else "",
        assignee=(
            schemas.AgentRef(id=d.assignee_id, name=d.assignee, username=d.assignee_username)
            if d.assignee_id else None
        ),
        team=schemas.Named(id=d.team_id, name=d.team) if d.team_id else None,
        dates=schemas.Dates(
            created=d.created_at, last_updated=d.updated_at,
            status_changed=max(status_changes) if status_changes else None,
            last_reply=max(agent_replies) if agent_replies else None,
        ),
        due=d.due_at, overdue=d.is_overdue,
        replies_count=sum(1 for i in entries if i.kind == "reply" and not i.deleted),
        tags=list(d.tags), cc=list(d.collaborators), custom_fields=dict(d.custom_fields), version=d.version,
        replies=[reply(i) for i in replies],
        notes=[reply(i) for i in entries if i.kind == "note"],
    )


def row(r: QueueRow) -> schemas.TicketRow:
    return schemas.TicketRow(
        id=r.id, number=r.number, subject=r.subject, status=r.status_name, state=r.state,
        priority=r.priority_name, department=r.department_name, client=r.organization_name,
        contact=schemas.Author(name=r.requester_name, email=r.requester_email),
        assignee=r.assignee_name, team=r.team_name,
        dates=schemas.Dates(created=r.created_at, last_updated=r.updated_at),
        due=r.due_at, overdue=r.is_overdue, archived=r.archived, version=r.version,
    )


def public(p: Any) -> schemas.PublicTicket:
    return schemas.PublicTicket(
        number=p.number, subject=p.subject, status=p.status, state=p.state, department=p.department,
        requester=p.requester, dates=schemas.Dates(created=p.created_at, last_updated=p.updated_at),
        replies=[
            schemas.PublicEntry(id=e.id, type=e.kind, author=e.author, date=e.created_at, message=e.body,
                                attachments=list(e.attachments))
            for e in p.entries
        ],
    )
