"""/api/tickets: the queue query, one ticket, and the writes on it."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query

from tui_helpdesk import clock
from tui_helpdesk.services import filter_query, queries, seed_status, ticket_delete, tickets
from tui_helpdesk.services.context import Tx
from tui_helpdesk.services.errors import ValidationError

from .. import schemas, shape
from .common import RESPONSES, Face, NotifyParam, face, if_match

router = APIRouter(tags=["tickets"], responses=RESPONSES)

# (sort, order) -> the queue's sort; the queue orders each sort one way only
SORTS = {
    ("created", "desc"): "newest",
    ("created", "asc"): "oldest",
    ("last_updated", "desc"): "updated",
    ("priority", "desc"): "priority",
    ("due", "asc"): "due",
}
DEFAULT_ORDER = {"created": "desc", "last_updated": "desc", "priority": "desc", "due": "asc", "status": "asc"}
MAX_LIMIT = 200
MAX_PAGE = 100  # deeper than this, follow next_cursor (keyset: every page costs the same)


def encode_cursor(sort: str, cursor: queries.Cursor) -> str:
    values = [{"t": v.isoformat()} if isinstance(v, datetime) else v for v in cursor.values]
    raw = json.dumps({"s": sort, "v": values, "id": cursor.id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str, sort: str) -> queries.Cursor:
    try:
        raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        values = tuple(clock.parse_iso(v["t"]) if isinstance(v, dict) else v for v in raw["v"])
        cursor_sort, ident = raw["s"], int(raw["id"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValidationError("cursor", "not a cursor this API returned (next_cursor)") from exc
    if cursor_sort != sort:
        raise ValidationError("cursor", f"the cursor belongs to another sort ({cursor_sort})")
    return queries.Cursor(values, ident)


def _queue_sort(sort: str, order: str | None) -> str:
    order = order or DEFAULT_ORDER[sort]
    found = SORTS.get((sort, order))
    if found is None:
        ways = ", ".join(f"{s} {o}" for s, o in SORTS)
        raise ValidationError("sort", f"{sort} {order} is not a queue order (orders: {ways})")
    return found


def _query(tx: Tx, params: dict[str, Any]) -> queries.TicketQuery:
    """The parameters become filter-language terms, so names resolve (and fail) exactly as in the queue's
    `/` line and `helpdesk ticket list`."""
    terms: list[filter_query.Term] = []

    def term(field: str, value: str, param: str) -> None:
        terms.append(filter_query.Term(field, value, f"{param}:{value}", 0, 0))

    for field, param in (("status", "status"), ("state", "state"), ("priority", "priority"),
                         ("department", "department"), ("tag", "tags[]")):
        for value in params[param] or ():
            term(field, value, param)
    for field, param in (("organization", "organization"), ("contact", "contact"), ("assignee", "assignee")):
        if params[param]:
            term(field, params[param], param)
    if params["active_state"] == "archived":
        term("is", "archived", "active_state")
    term("sort", params["sort"], "sort")
    words = (params["search"],) if params["search"] else ()
    return filter_query.resolve(tx.session, filter_query.ParsedFilter(tuple(terms), words), tx.actor.agent_id)


def _list(tx: Tx, params: dict[str, Any]) -> schemas.TicketList:
    query = _query(tx, params)
    limit, page, cursor = params["limit"], params["page"], params["cursor"]
    after = decode_cursor(cursor, query.sort) if cursor else None
    result = queries.fetch_page(tx, query, after=after, limit=limit)
    for _ in range((page or 1) - 1):  # page N: walk the keyset N-1 pages on (bounded by MAX_PAGE)
        if result.next is None:
            result = queries.Page(rows=(), next=None, prev=None, at_end=True, at_start=False)
            break
        result = queries.fetch_page(tx, query, after=result.next, limit=limit)
    total = queries.count(tx, query)
    return schemas.TicketList(
        tickets=[shape.row(r) for r in result.rows], total=total, limit=limit,
        page=page if cursor is None else None,
        next_cursor=encode_cursor(query.sort, result.next) if result.next is not None else None,
    )


@router.get("/tickets", response_model=schemas.TicketList, summary="List and search tickets (the queue)")
def list_tickets(
    f: Face = Depends(face),
    status: list[str] | None = Query(None, description="status name or state (any of them)"),
    state: list[Literal["new", "open", "pending", "resolved", "closed"]] | None = Query(None),
    priority: list[str] | None = Query(None),
    department: list[str] | None = Query(None),
    client: str | None = Query(None, description="organization name or id (alias: organization)"),
    organization: str | None = Query(None),
    contact: str | None = Query(None, description="requester email or name"),
    assignee: str | None = Query(None, description="username, me or none"),
    tags: list[str] | None = Query(None, alias="tags[]", description="every tag must be on the ticket"),
    active_state: Literal["active", "archived"] = "active",
    search: str | None = Query(None, description="words the ticket must contain (the queue's free words)"),
    sort: Literal["created", "last_updated", "priority", "due", "status"] = "last_updated",
    order: Literal["asc", "desc"] | None = None,
    limit: int = Query(50, ge=1, le=MAX_LIMIT),
    page: int | None = Query(None, ge=1, le=MAX_PAGE),
    cursor: str | None = Query(None, description="next_cursor of the previous page (keyset paging)"),
) -> schemas.TicketList:
    if page is not None and cursor:
        raise ValidationError("page", "give page or cursor, not both")
    params = {
        "status": status, "state": state, "priority": priority, "department": department,
        "organization": organization or client, "contact": contact, "assignee": assignee, "tags[]": tags,
        "active_state": active_state, "search": (search or "").strip(), "sort": _queue_sort(sort, order),
        "limit": limit, "page": page, "cursor": cursor,
    }
    return f.read(_list, params)


def _one(tx: Tx, ref: str, order: str = "ASC") -> schemas.Ticket:
    return shape.ticket(tickets.view(tx, ref, order=order))


@router.get("/tickets/{ref}", response_model=schemas.Ticket, summary="A ticket with its replies and notes")
def get_ticket(
    ref: str, f: Face = Depends(face), replies_sort: Literal["ASC", "DESC", "asc", "desc"] = "ASC"
) -> schemas.Ticket:
    return f.read(_one, ref, replies_sort.upper())


def _create(tx: Tx, body: schemas.TicketCreate) -> schemas.Ticket:
    d = tickets.create(
        tx, subject=body.subject, body=body.message, contact_email=body.contact_email,
        contact_name=body.contact_name, department=body.department, topic=body.topic, priority=body.priority,
        status=body.status, organization=body.organization, assignee=body.assignee, team=body.team,
        tags=body.tags, cc=body.cc, custom_fields=body.custom_fields, source="api",
    )
    return _one(tx, d.number)


@router.post("/tickets", response_model=schemas.Ticket, status_code=201, summary="Open a ticket")
def create_ticket(body: schemas.TicketCreate, f: Face = Depends(face), notify: bool = NotifyParam
                  ) -> schemas.Ticket:
    return f.write(_create, body, notify_people=notify)


def _patch(tx: Tx, ref: str, body: schemas.TicketPatch, version: int | None) -> schemas.Ticket:
    changes: dict[str, Any] = {}
    if body.subject is not None:
        changes["subject"] = body.subject
    if body.priority is not None:
        changes["priority"] = body.priority
    if body.custom_fields:
        changes["custom"] = dict(body.custom_fields)
    if body.department is None and not changes:
        raise ValidationError("body", "nothing to change (department, subject, priority, custom_fields)")
    tickets.load(tx, ref, version)  # the version the caller saw, checked once for the whole change
    if body.department is not None:
        tickets.transfer(tx, ref, body.department, reason=body.reason)
    if changes:
        tickets.update_fields(tx, ref, changes, reason=body.reason)
    return _one(tx, ref)


@router.patch("/tickets/{ref}", response_model=schemas.Ticket, summary="Edit header fields (If-Match)")
def patch_ticket(ref: str, body: schemas.TicketPatch, f: Face = Depends(face),
                 version: int | None = Depends(if_match), notify: bool = NotifyParam) -> schemas.Ticket:
    return f.write(_patch, ref, body, version, notify_people=notify)


@router.delete("/tickets/{ref}", response_model=schemas.Deleted,
               summary="Delete a ticket: archived now, purged later (ticket.delete; the audit keeps a copy)")
def delete_ticket(ref: str, f: Face = Depends(face), version: int | None = Depends(if_match)
                  ) -> schemas.Deleted:
    number = f.write(ticket_delete.delete, ref, expected_version=version)
    return schemas.Deleted(deleted=number)


def _status(tx: Tx, ref: str, body: schemas.StatusChange, version: int | None) -> schemas.Ticket:
    status = seed_status.resolve(tx, body.status)
    tickets.set_status(tx, ref, status.id, notes=body.notes, expected_version=version)
    return _one(tx, ref)


@router.put("/tickets/{ref}/status", response_model=schemas.Ticket, summary="Change the status")
def put_status(ref: str, body: schemas.StatusChange, f: Face = Depends(face),
               version: int | None = Depends(if_match), notify: bool = NotifyParam) -> schemas.Ticket:
    return f.write(_status, ref, body, version, notify_people=notify)


def _then_view(change: Any) -> Any:
    def use_case(tx: Tx, ref: str, *args: Any, **kwargs: Any) -> schemas.Ticket:
        change(tx, ref, *args, **kwargs)
        return _one(tx, ref)

    return use_case


@router.put("/tickets/{ref}/archive", response_model=schemas.Ticket, summary="Archive")
def put_archive(ref: str, f: Face = Depends(face), version: int | None = Depends(if_match)) -> schemas.Ticket:
    return f.write(_then_view(tickets.archive), ref, expected_version=version)


@router.put("/tickets/{ref}/restore", response_model=schemas.Ticket, summary="Restore from the archive")
def put_restore(ref: str, f: Face = Depends(face), version: int | None = Depends(if_match)) -> schemas.Ticket:
    return f.write(_then_view(tickets.restore), ref, expected_version=version)


@router.put("/tickets/{ref}/tags", response_model=schemas.Ticket, summary="Replace the tag set")
def put_tags(ref: str, body: schemas.TagSet, f: Face = Depends(face),
             version: int | None = Depends(if_match)) -> schemas.Ticket:
    return f.write(_then_view(tickets.set_tags), ref, body.tags, expected_version=version)


@router.put("/tickets/{ref}/assign", response_model=schemas.Ticket, summary="Assign to an agent and/or team")
def put_assign(ref: str, body: schemas.Assignment, f: Face = Depends(face),
               version: int | None = Depends(if_match), notify: bool = NotifyParam) -> schemas.Ticket:
    agent = f.actor.agent_id if isinstance(body.agent, str) and body.agent.lower() == "me" else body.agent
    return f.write(_then_view(tickets.assign), ref, agent, body.team, reason=body.reason,
                   expected_version=version, notify_people=notify)

