"""A new database's reference data, and the first admin."""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlmodel import Session

from tui_helpdesk.models import Agent, Department, Priority, Role, Status

from .context import ALL_PERMISSIONS, Actor, audit
from .errors import Conflict, ValidationError

DEFAULT_STATUSES = (
    # name, state, order, colour, default for its state
    ("New", "new", 10, "cyan", True),
    ("Open", "open", 20, "green", True),
    ("In Progress", "open", 30, "green", False),
    ("Pending", "pending", 40, "yellow", True),
    ("On Hold", "pending", 50, "yellow", False),
    ("Resolved", "resolved", 60, "blue", True),
    ("Closed", "closed", 70, "grey50", True),
)
DEFAULT_PRIORITIES = (("Low", 1, "grey62", False), ("Normal", 2, "white", True), ("High", 3, "orange1", False),
                      ("Urgent", 4, "red", False))
AGENT_PERMISSIONS = ["ticket.create", "ticket.reply", "ticket.edit", "ticket.assign", "ticket.transfer",
                     "ticket.close", "ticket.link"]
DEFAULT_ROLES = (("Agent", AGENT_PERMISSIONS), ("Supervisor", sorted(ALL_PERMISSIONS)))


def ensure_defaults(session: Session) -> bool:
    """Fill an empty database with statuses, priorities, roles and one department. Idempotent."""
    created = False
    if not session.execute(select(func.count()).select_from(Status)).scalar():
        for name, state, order, color, default in DEFAULT_STATUSES:
            session.add(Status(name=name, state=state, sort_order=order, color=color, is_default=default))
        created = True
    if not session.execute(select(func.count()).select_from(Priority)).scalar():
        for name, rank, color, default in DEFAULT_PRIORITIES:
            session.add(Priority(name=name, rank=rank, color=color, is_default=default))
        created = True
    if not session.execute(select(func.count()).select_from(Role)).scalar():
        for name, perms in DEFAULT_ROLES:
            session.add(Role(name=name, permissions=list(perms)))
        created = True
    if not session.execute(select(func.count()).select_from(Department)).scalar():
        session.add(Department(name="Support"))
        created = True
    session.flush()
    return created


def has_agents(session: Session) -> bool:
    return bool(session.execute(select(func.count()).select_from(Agent)).scalar())


def create_first_admin(session: Session, username: str, name: str, email: str = "") -> Agent:
    """The first run on an empty database makes its user an admin."""
    if has_agents(session):
        raise Conflict("the help desk already has agents; an admin adds more")
    username = username.strip()
    if not username:
        raise ValidationError("username", "is required")
    if not name.strip():
        raise ValidationError("name", "is required")
    ensure_defaults(session)
    dept = session.execute(select(Department).order_by(Department.id)).scalars().first()
    role = session.execute(select(Role).where(Role.name == "Supervisor")).scalars().first()
    agent = Agent(username=username, name=name.strip(), email=email.strip(), is_admin=True,
                  primary_department_id=dept.id if dept else None, role_id=role.id if role else None)
    session.add(agent)
    session.flush()
    from tui_helpdesk import clock

    from .context import Tx

    audit(Tx(session=session, actor=Actor(agent.id, username, True, "setup"), now=clock.now()),
          "agent.create", "agent", agent.id, username=username, admin=True)
    return agent


def start_desk(engine: Engine, username: str, name: str, email: str = "", origin: str = "tui") -> Actor:
    """The first-run use case as a face runs it: make the first admin, then act as them."""
    from tui_helpdesk.db import session_scope

    from .context import resolve_actor

    with session_scope(engine) as s:
        create_first_admin(s, username, name, email)
    with session_scope(engine, write=False) as s:
        return resolve_actor(s, username, origin)


def desk_is_new(engine: Engine) -> bool:
    """No agent yet: a face offers the first-run setup instead of a login."""
    from tui_helpdesk.db import session_scope

    with session_scope(engine, write=False) as s:
        return not has_agents(s)
