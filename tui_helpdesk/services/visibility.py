"""Who sees which ticket: the one rule, in the two forms the services need.

- `where_visible(tx)` is the rule as an SQL condition on the ticket table, for any service reading tickets
  on a person's behalf. Every list, count, export and sidebar number goes through `queries`, which adds the
  same condition (`condition(scope_of(tx))`); a screen or a command never adds scope itself.
- `can_see(tx, ticket)` / `require_access(tx, ticket)` is the same rule for one ticket already loaded.

Both read the same facts (`scope_of`): an admin (or the system) sees every ticket; an agent sees the
tickets of their departments (the primary one and those they have extended access to) and the tickets
assigned to them, wherever those are.

Finding one ticket by its number or id reaches further for an actor whose role holds `ticket.view_any`
(seed 001: "you can always find any ticket by its ID, regardless of scope"): `can_find` and
`require_findable`, used by `ticket show`, the app's `:1042` and the ticket screen. Lists and counts
never do. Finding is reading only: every write still needs its permission in the ticket's department
(`context.require`), and `require_access` stays the check for notes, tasks and attachments.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, bindparam, false, or_, select, union_all

from tui_helpdesk.models import Agent, DepartmentAccess, Role, Ticket

from .context import Tx
from .errors import NoAccess

VIEW_ANY = "ticket.view_any"

_T = Ticket.__table__.c


@dataclass(frozen=True)
class Scope:
    """The tickets an actor may list: those in `department_ids` or assigned to `agent_id`.

    `department_ids` None means every ticket (admins and the system)."""

    department_ids: tuple[int, ...] | None
    agent_id: int | None

    def admits(self, department_id: int | None, assignee_id: int | None) -> bool:
        if self.department_ids is None:
            return True
        if assignee_id is not None and assignee_id == self.agent_id:
            return True
        return department_id in self.department_ids

    def implied_by(self, department_ids: Sequence[int], assignee_id: int | None) -> bool:
        """True when a query narrowed to these departments, or to this assignee, can only list visible
        tickets, so the condition can be left out and the query keeps its index (the sidebar's
        department entries and "mine")."""
        if self.department_ids is None:
            return True
        if assignee_id is not None and assignee_id == self.agent_id:
            return True
        return bool(department_ids) and set(department_ids) <= set(self.department_ids)


def scope_of(tx: Tx) -> Scope:
    """The actor's scope, read once per transaction."""
    cached = tx.__dict__.get("_visibility_scope")
    if cached is not None:
        return cached
    scope = _read_scope(tx)
    tx.__dict__["_visibility_scope"] = scope
    return scope


def _read_scope(tx: Tx) -> Scope:
    if tx.actor.is_admin:
        return Scope(None, tx.actor.agent_id)
    if tx.actor.agent_id is None:
        return Scope((), None)
    rows = (
        tx.session.connection().execute(_scope_statement(), {"agent_id": tx.actor.agent_id}).scalars().all()
    )
    if not rows:  # no such agent, or deactivated: nothing
        return Scope((), None)
    return Scope(tuple(sorted({d for d in rows if d is not None})), tx.actor.agent_id)


@functools.cache
def _scope_statement() -> Any:
    """The agent's primary department (one row, NULL when none: it says the agent is active) and their
    extended-access departments, in one statement: every queue page reads it, so it stays in Core."""
    a, da = Agent.__table__.c, DepartmentAccess.__table__.c
    agent_id = bindparam("agent_id")
    return union_all(
        select(a.primary_department_id).where(a.id == agent_id, a.active.is_(True)),
        select(da.department_id)
        .join(Agent.__table__, a.id == da.agent_id)
        .where(da.agent_id == agent_id, a.active.is_(True)),
    )


def condition(scope: Scope) -> ColumnElement[bool] | None:
    """The scope as an SQL condition on the ticket table; None when it admits everything."""
    if scope.department_ids is None:
        return None
    parts: list[ColumnElement[bool]] = []
    if scope.department_ids:
        parts.append(_T.department_id.in_(scope.department_ids))
    if scope.agent_id is not None:
        parts.append(_T.assignee_id == scope.agent_id)
    return or_(*parts) if parts else false()


def disjoint_conditions(scope: Scope) -> list[ColumnElement[bool]]:
    """The same condition as disjoint parts whose counts add up to its count.

    An OR defeats index ranges, so counts run each part on its own index: the tickets in the
    departments, plus the agent's tickets outside them. Empty when the scope admits everything."""
    if scope.department_ids is None:
        return []
    parts: list[ColumnElement[bool]] = []
    depts = scope.department_ids
    if depts:
        parts.append(_T.department_id.in_(depts))
    if scope.agent_id is not None:
        mine = _T.assignee_id == scope.agent_id
        parts.append(mine & _T.department_id.not_in(depts) if depts else mine)
    return parts or [false()]


def where_visible(tx: Tx) -> ColumnElement[bool] | None:
    """The SQL condition that keeps a ticket query to what the actor may see (None: no restriction)."""
    return condition(scope_of(tx))


def department_ids(tx: Tx) -> list[int] | None:
    """The departments whose queues the actor sees (the sidebar lists them); None means all."""
    scope = scope_of(tx)
    return None if scope.department_ids is None else list(scope.department_ids)


def can_see(tx: Tx, ticket: Ticket) -> bool:
    return scope_of(tx).admits(ticket.department_id, ticket.assignee_id)


def require_access(tx: Tx, ticket: Ticket) -> None:
    if not can_see(tx, ticket):
        raise NoAccess(f"{tx.actor.username} has no access to the department of {ticket.number}")


def can_view_any(tx: Tx) -> bool:
    """Whether one of the actor's roles (primary or extended access) holds `ticket.view_any`."""
    if tx.actor.is_admin:
        return True
    cached = tx.__dict__.get("_visibility_view_any")
    if cached is not None:
        return bool(cached)
    found = False
    agent = tx.agent()
    if agent is not None and agent.active:
        role_ids = {agent.role_id} if agent.role_id is not None else set()
        role_ids |= set(
            tx.session.execute(
                select(DepartmentAccess.role_id).where(DepartmentAccess.agent_id == agent.id)
            ).scalars()
        )
        if role_ids:
            perms = tx.session.execute(select(Role.permissions).where(Role.id.in_(role_ids))).scalars()
            found = any(VIEW_ANY in (p or ()) for p in perms)
    tx.__dict__["_visibility_view_any"] = found
    return found


def can_find(tx: Tx, ticket: Ticket) -> bool:
    """Whether a lookup by number or id may return this ticket."""
    return can_see(tx, ticket) or can_view_any(tx)


def require_findable(tx: Tx, ticket: Ticket) -> None:
    """For a lookup by number or id: the ticket is visible, or the actor may find any ticket."""
    if not can_find(tx, ticket):
        require_access(tx, ticket)  # the same refusal, word for word, as every other face gives
