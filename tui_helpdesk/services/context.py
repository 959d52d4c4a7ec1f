"""Who is acting and the transaction they act in; permissions, events and the audit trail.

Every write runs as: open a transaction -> check permission -> change -> event -> audit row ->
bump the change counter -> commit. `transaction()` and the helpers below are that one path.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, select, update
from sqlmodel import Session

from tui_helpdesk import clock
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Agent, AuditLog, Counter, DepartmentAccess, Role, Ticket, TicketEvent

from . import report_facts  # noqa: F401  (registers the reports' flush hook: every write keeps them)
from .errors import NotFound, PermissionDenied

# Role permissions. Admins hold all of them everywhere.
PERMISSIONS = (
    "ticket.create",
    "ticket.reply",
    "ticket.edit",
    "ticket.assign",
    "ticket.release",
    "ticket.transfer",
    "ticket.close",
    "ticket.merge",
    "ticket.link",
    "ticket.delete",
    "ticket.archive",
    "ticket.view_any",  # find any ticket by its number or id, outside the agent's scope (visibility.py)
    "entry.edit_any",  # edit or delete others' replies and notes, and one's own after the edit window
    "kb.edit",  # write, publish and unpublish knowledge-base articles (held in any of the agent's roles)
)
ALL_PERMISSIONS = frozenset(PERMISSIONS)
CHANGE_COUNTER = "changes"


@dataclass(frozen=True)
class Actor:
    """The agent (or the system) on whose behalf a service acts."""

    agent_id: int | None
    username: str
    is_admin: bool = False
    origin: str = "cli"  # tui | cli | worker | mail

    @classmethod
    def system(cls, origin: str = "worker") -> Actor:
        return cls(agent_id=None, username="system", is_admin=True, origin=origin)


@dataclass
class Tx:
    session: Session
    actor: Actor
    now: datetime
    changed: bool = False
    touched: set[int] = field(default_factory=set)
    _perm_cache: dict[int, frozenset[str]] = field(default_factory=dict)

    def agent(self) -> Agent | None:
        return self.session.get(Agent, self.actor.agent_id) if self.actor.agent_id else None


@contextmanager
def transaction(engine: Engine, actor: Actor) -> Iterator[Tx]:
    with session_scope(engine, write=True) as session:
        tx = Tx(session=session, actor=actor, now=clock.now())
        yield tx
        if tx.changed:
            bump_counter(session, CHANGE_COUNTER)


@contextmanager
def reading(engine: Engine, actor: Actor | None = None) -> Iterator[Tx]:
    """A read-only transaction (never takes SQLite's write lock)."""
    with session_scope(engine, write=False) as session:
        yield Tx(session=session, actor=actor or Actor.system(), now=clock.now())


def bump_counter(session: Session, name: str, by: int = 1) -> int:
    # one statement on every write (the change counter): the new value comes back with the UPDATE
    # Core on the session's connection: the ORM's UPDATE path (autoflush, session synchronisation) cost
    # ten times the statement, and no pending object of a session is a counter row
    value = session.connection().execute(_bump_statement(), {"counter_name": name, "by": by}).scalar()
    if value is None:
        session.add(Counter(name=name, value=by))
        session.flush()
        return by
    return int(value)


@functools.cache
def _bump_statement() -> Any:
    # built once: every write runs it (and a new ticket twice), and building it cost more than running it
    c = Counter.__table__.c
    return update(Counter.__table__).where(c.name == bindparam("counter_name")).values(
        value=c.value + bindparam("by")
    ).returning(c.value)


def read_counter(session: Session, name: str) -> int:
    return session.execute(select(Counter.value).where(Counter.name == name)).scalar() or 0


def resolve_actor(session: Session, username: str, origin: str) -> Actor:
    agent = session.execute(select(Agent).where(Agent.username == username)).scalar_one_or_none()
    if agent is None:
        raise NotFound(f"no agent with the login {username!r}; an admin can add one (helpdesk agent add)")
    if not agent.active:
        raise PermissionDenied(f"agent {username!r} is deactivated")
    return Actor(agent_id=agent.id, username=agent.username, is_admin=agent.is_admin, origin=origin)


def permissions_in(tx: Tx, department_id: int) -> frozenset[str]:
    """What the actor may do in a department: admin, primary department role, or extended access."""
    if tx.actor.is_admin:
        return ALL_PERMISSIONS
    if department_id in tx._perm_cache:
        return tx._perm_cache[department_id]
    perms: frozenset[str] = frozenset()
    agent = tx.agent()
    if agent is not None and agent.active:
        role_id = None
        if agent.primary_department_id == department_id:
            role_id = agent.role_id
        else:
            access = tx.session.get(DepartmentAccess, (agent.id, department_id))
            role_id = access.role_id if access else None
        if role_id is not None:
            role = tx.session.get(Role, role_id)
            perms = frozenset(role.permissions) if role else frozenset()
    tx._perm_cache[department_id] = perms
    return perms


def require_access(tx: Tx, ticket: Ticket) -> None:
    """Visibility lives in visibility.py (one rule for lists and single tickets); this name stays for the
    services that import it from here."""
    from . import visibility

    visibility.require_access(tx, ticket)


def require(tx: Tx, ticket: Ticket, permission: str) -> None:
    """Permission in the ticket's department; an assignee works their ticket with their primary role."""
    require_access(tx, ticket)
    perms = permissions_in(tx, ticket.department_id)
    if permission not in perms and ticket.assignee_id == tx.actor.agent_id:
        agent = tx.agent()
        if agent is not None and agent.primary_department_id is not None:
            perms = permissions_in(tx, agent.primary_department_id)
    if permission not in perms:
        raise PermissionDenied(f"{tx.actor.username} lacks the permission {permission} for {ticket.number}")


def require_admin(tx: Tx) -> None:
    if not tx.actor.is_admin:
        raise PermissionDenied(f"{tx.actor.username} is not an admin")


def owner_or_admin(tx: Tx, owner_id: int | None) -> bool:
    """What belongs to one agent (their API and SSH keys, their time entries): they and admins may change it."""
    return tx.actor.is_admin or (tx.actor.agent_id is not None and tx.actor.agent_id == owner_id)


def require_owner_or_admin(tx: Tx, owner_id: int | None, what: str) -> None:
    if not owner_or_admin(tx, owner_id):
        raise PermissionDenied(f"{tx.actor.username} may manage only their own {what} (admins: anyone's)")


def audit(tx: Tx, action: str, object_type: str, object_id: int | None, /, **data: Any) -> None:
    tx.session.add(
        AuditLog(
            at=tx.now,
            agent_id=tx.actor.agent_id,
            actor=tx.actor.username,
            origin=tx.actor.origin,
            action=action,
            object_type=object_type,
            object_id=object_id,
            data=_jsonable(data),
        )
    )
    tx.changed = True


# Events the system records on its own: they show in the thread and step the version (a copy seen
# before them is stale), but are no activity on the ticket, so they do not move it to the top of the
# "last updated" sort (issue 12: a failed notice bumped a quiet ticket above real work).
QUIET_EVENTS = frozenset({"mail_failed", "overdue"})


def event(tx: Tx, ticket: Ticket, name: str, /, **data: Any) -> None:
    """A ticket event in the thread, plus its audit row; touches the ticket's version and time."""
    clean = _jsonable(data)
    tx.session.add(
        TicketEvent(ticket_id=ticket.id, kind=name, agent_id=tx.actor.agent_id, data=clean, created_at=tx.now)
    )
    touch(tx, ticket, activity=name not in QUIET_EVENTS)
    audit(tx, f"ticket.{name}", "ticket", ticket.id, **clean)


def touch(tx: Tx, ticket: Ticket, activity: bool = True) -> None:
    if activity:
        ticket.updated_at = tx.now
    if ticket.id not in tx.touched:  # one version step per transaction, however many changes
        ticket.version += 1
        tx.touched.add(ticket.id)
    tx.session.add(ticket)
    tx.changed = True


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
