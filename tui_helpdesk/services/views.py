"""Saved queue views (personal and shared) and the names the queue's sidebar lists.

A view stores the filter line as typed, so it keeps meaning what the agent wrote even after
statuses or departments are renamed (the names are resolved each time the view is opened).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select

from tui_helpdesk.models import Department
from tui_helpdesk.models.views import SavedView

from . import visibility
from .context import Tx, audit, require_admin
from .errors import NotFound, PermissionDenied, ValidationError
from .queries import SORTS, _connect

MAX_NAME = 100


@dataclass(frozen=True)
class ViewRow:
    id: int
    name: str
    owner_id: int | None
    shared: bool
    query: str
    sort: str
    columns: tuple[str, ...]


def _row(v: SavedView) -> ViewRow:
    return ViewRow(
        id=v.id or 0,
        name=v.name,
        owner_id=v.owner_id,
        shared=v.shared,
        query=v.query,
        sort=v.sort,
        columns=tuple(v.columns or ()),
    )


def list_views(tx: Tx) -> list[ViewRow]:
    """The actor's personal views, then the shared ones, each by order and name.

    A view is only a filter: opening one lists what the actor may see (queries adds the scope)."""
    agent_id = tx.actor.agent_id
    t = SavedView.__table__.c
    stmt = (
        select(SavedView.__table__)
        .where(or_(t.owner_id == agent_id, t.shared.is_(True)))
        .order_by(t.shared, t.sort_order, t.name, t.id)
    )
    with _connect(tx.session) as conn:
        return [
            ViewRow(
                id=r.id,
                name=r.name,
                owner_id=r.owner_id,
                shared=bool(r.shared),
                query=r.query,
                sort=r.sort,
                columns=tuple(r.columns or ()),
            )
            for r in conn.execute(stmt)
        ]


def save_view(
    tx: Tx,
    name: str,
    query: str,
    sort: str = "updated",
    columns: Sequence[str] = (),
    *,
    shared: bool = False,
) -> ViewRow:
    """Create or replace the actor's view called `name` (or the shared one: admins only)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError("name", "is required")
    if len(name) > MAX_NAME:
        raise ValidationError("name", f"is longer than {MAX_NAME} characters")
    if sort not in SORTS:
        raise ValidationError("sort", f"unknown sort {sort!r}")
    if shared:
        require_admin(tx)
    elif tx.actor.agent_id is None:
        raise PermissionDenied("personal views belong to an agent")
    owner = None if shared else tx.actor.agent_id
    t = SavedView
    stmt = select(t).where(t.name == name, t.shared.is_(shared))
    stmt = stmt.where(t.owner_id.is_(None)) if owner is None else stmt.where(t.owner_id == owner)
    view = tx.session.execute(stmt).scalars().first()
    if view is None:
        view = SavedView(name=name, owner_id=owner, shared=shared)
    view.query = query.strip()[:1000]
    view.sort = sort
    view.columns = list(columns)
    tx.session.add(view)
    tx.session.flush()
    audit(tx, "view.save", "saved_view", view.id, name=name, shared=shared, query=view.query)
    return _row(view)


def delete_view(tx: Tx, view_id: int) -> None:
    view = tx.session.get(SavedView, view_id)
    if view is None:
        raise NotFound(f"no saved view {view_id}")
    if view.shared:
        require_admin(tx)
    elif view.owner_id != tx.actor.agent_id:
        raise PermissionDenied("that view belongs to another agent")
    tx.session.delete(view)
    audit(tx, "view.delete", "saved_view", view_id, name=view.name)


def department_names(tx: Tx) -> list[tuple[int, str]]:
    """(id, name) of the active departments whose queues the actor sees: the sidebar's entries."""
    department_ids = visibility.department_ids(tx)
    t = Department.__table__.c
    stmt = select(t.id, t.name).where(t.state == "active").order_by(t.name)
    if department_ids is not None:
        if not department_ids:
            return []
        stmt = stmt.where(t.id.in_(department_ids))
    with _connect(tx.session) as conn:
        return [(r.id, r.name) for r in conn.execute(stmt)]


def find_ticket(tx: Tx, ref: str | int) -> tuple[int, str]:
    """(id, number) of the ticket a user typed (`1042`, `TCK-1042`), if they may find it: a ticket
    they see, or any ticket with `ticket.view_any`."""
    from . import lookup

    ticket = lookup.ticket(tx.session, ref)
    visibility.require_findable(tx, ticket)
    return ticket.id or 0, ticket.number
