"""Who works the desk: agents, teams, roles and extended department access."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from tui_helpdesk.models import (
    Agent,
    AuditLog,
    Department,
    DepartmentAccess,
    HelpTopic,
    Presence,
    Role,
    Task,
    Team,
    TeamMember,
    Ticket,
    TicketEntry,
    TicketEvent,
    TimeEntry,
)
from tui_helpdesk.models.views import CannedResponse, SavedView

from .. import lookup
from ..context import PERMISSIONS, Tx, require_admin
from ..errors import ValidationError
from . import _common as c

USERNAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")

# --- agents -----------------------------------------------------------------------------------------------

AGENT_FIELDS = ("username", "name", "email", "is_admin", "active", "department", "role", "signature")
_AGENT_AUDIT = ("username", "name", "email", "is_admin", "active", "primary_department_id", "role_id")


@dataclass(frozen=True)
class AgentRow:
    id: int
    username: str
    name: str
    email: str
    is_admin: bool
    active: bool
    department_id: int | None
    department: str
    role_id: int | None
    role: str
    signature: str


def list_agents(tx: Tx) -> list[AgentRow]:
    s = tx.session
    depts = {d.id: d.name for d in s.execute(select(Department)).scalars()}
    roles = {r.id: r.name for r in s.execute(select(Role)).scalars()}
    return [
        AgentRow(
            a.id,
            a.username,
            a.name,
            a.email,
            a.is_admin,
            a.active,
            a.primary_department_id,
            depts.get(a.primary_department_id, ""),
            a.role_id,
            roles.get(a.role_id, ""),
            a.signature,
        )
        for a in s.execute(select(Agent).order_by(Agent.username)).scalars()
    ]


def _agent_row(tx: Tx, agent_id: int) -> AgentRow:
    tx.session.flush()
    return next(r for r in list_agents(tx) if r.id == agent_id)


def _role(session: Any, value: Any) -> Role:
    if isinstance(value, int) or str(value).strip().isdigit():
        row = session.get(Role, int(value))
        if row is not None:
            return row
    from sqlalchemy import func

    row = (
        session.execute(select(Role).where(func.lower(Role.name) == str(value).strip().lower()))
        .scalars()
        .first()
    )
    if row is None:
        raise ValidationError("role", f"unknown role {value!r}")
    return row


def _keep_an_admin(tx: Tx, agent: Agent, field: str) -> None:
    """The desk must keep one active admin, or nobody could ever change these settings again."""
    other = tx.session.execute(
        select(Agent.id).where(Agent.is_admin.is_(True), Agent.active.is_(True), Agent.id != agent.id)
    ).first()
    if other is None:
        raise ValidationError(field, "the last active admin must stay an active admin")


def _apply_agent(tx: Tx, agent: Agent, values: dict[str, Any]) -> None:
    s = tx.session
    c.check_keys(values, AGENT_FIELDS)
    was_admin = agent.id is not None and agent.is_admin and agent.active
    if "username" in values:
        agent.username = c.text(values["username"], "username", required=True, limit=100)
        if not USERNAME_RE.match(agent.username):
            raise ValidationError("username", "letters, digits, '.', '_' and '-' only (the Unix login)")
    c.unique(s, Agent.username, agent.username, agent.id, "username", "an agent with the login")
    if "name" in values:
        agent.name = c.text(values["name"], "name", required=True, limit=200)
    if "email" in values:
        agent.email = c.email(values["email"])
    if "is_admin" in values:
        agent.is_admin = c.boolean(values["is_admin"], "is_admin")
    if "active" in values:
        agent.active = c.boolean(values["active"], "active")
    if "department" in values:
        agent.primary_department_id = c.ref(s, values["department"], "department", lookup.department)
    if "role" in values:
        agent.role_id = c.ref(s, values["role"], "role", _role)
    if "signature" in values:
        agent.signature = "" if values["signature"] is None else str(values["signature"])
    if agent.primary_department_id is not None and agent.role_id is None:
        raise ValidationError("role", "an agent with a primary department needs a role there")
    if was_admin and not (agent.is_admin and agent.active):
        _keep_an_admin(tx, agent, "is_admin" if not agent.is_admin else "active")


def create_agent(tx: Tx, **values: Any) -> AgentRow:
    require_admin(tx)
    values.setdefault("username", "")
    values.setdefault("name", "")
    agent = Agent(username="", name="")
    _apply_agent(tx, agent, values)
    tx.session.add(agent)
    tx.session.flush()
    c.record(tx, "create", "agent", agent.id, **c.snapshot(agent, _AGENT_AUDIT))
    return _agent_row(tx, agent.id)


def update_agent(tx: Tx, agent_id: int, **values: Any) -> AgentRow:
    require_admin(tx)
    agent = c.get(tx.session, Agent, agent_id, "agent")
    before = c.snapshot(agent, (*_AGENT_AUDIT, "signature"))
    _apply_agent(tx, agent, values)
    tx.session.add(agent)
    changes = c.diff(before, c.snapshot(agent, (*_AGENT_AUDIT, "signature")))
    if changes:
        c.record(tx, "update", "agent", agent.id, changes=changes)
    return _agent_row(tx, agent.id)


def archive_agent(tx: Tx, agent_id: int) -> AgentRow:
    """Agents are deactivated rather than archived: they can no longer log in, their history stays."""
    return update_agent(tx, agent_id, active=False)


def delete_agent(tx: Tx, agent_id: int) -> None:
    require_admin(tx)
    s = tx.session
    agent = c.get(s, Agent, agent_id, "agent")
    if agent.id == tx.actor.agent_id:
        raise ValidationError("username", "you cannot delete yourself")
    if agent.is_admin and agent.active:
        _keep_an_admin(tx, agent, "is_admin")
    reasons = c.usage(
        s,
        [
            (Ticket.assignee_id, agent_id, "assigned tickets"),
            (TicketEntry.agent_id, agent_id, "thread entries"),
            (TicketEvent.agent_id, agent_id, "ticket events"),
            (TimeEntry.agent_id, agent_id, "time entries"),
            (Task.assignee_id, agent_id, "tasks"),
            (Department.manager_id, agent_id, "departments (as manager)"),
            (Team.lead_id, agent_id, "teams (as lead)"),
            (HelpTopic.auto_assign_agent_id, agent_id, "help topics (auto-assign)"),
            (AuditLog.agent_id, agent_id, "the audit log"),
        ],
    )
    c.refuse_in_use("agent", agent.username, reasons, "deactivate them instead (archive)")
    # What belongs to the agent alone goes with them.
    for model, column in (
        (TeamMember, TeamMember.agent_id),
        (DepartmentAccess, DepartmentAccess.agent_id),
        (Presence, Presence.agent_id),
        (SavedView, SavedView.owner_id),
        (CannedResponse, CannedResponse.owner_id),
    ):
        s.execute(delete(model).where(column == agent_id))
    s.delete(agent)
    c.record(tx, "delete", "agent", agent_id, username=agent.username)


# --- teams ------------------------------------------------------------------------------------------------

TEAM_FIELDS = ("name", "lead", "members", "active")


@dataclass(frozen=True)
class TeamRow:
    id: int
    name: str
    lead_id: int | None
    lead: str
    members: tuple[str, ...]  # usernames
    member_ids: tuple[int, ...]
    active: bool


def list_teams(tx: Tx) -> list[TeamRow]:
    s = tx.session
    usernames = {a.id: a.username for a in s.execute(select(Agent)).scalars()}
    members: dict[int, list[int]] = {}
    for m in s.execute(select(TeamMember)).scalars():
        members.setdefault(m.team_id, []).append(m.agent_id)
    rows = []
    for t in s.execute(select(Team).order_by(Team.name)).scalars():
        ids = sorted(members.get(t.id, []), key=lambda i: usernames.get(i, ""))
        rows.append(
            TeamRow(
                t.id,
                t.name,
                t.lead_id,
                usernames.get(t.lead_id, ""),
                tuple(usernames.get(i, "?") for i in ids),
                tuple(ids),
                t.active,
            )
        )
    return rows


def _team_row(tx: Tx, team_id: int) -> TeamRow:
    tx.session.flush()
    return next(r for r in list_teams(tx) if r.id == team_id)


def _apply_team(tx: Tx, team: Team, values: dict[str, Any]) -> list[int] | None:
    """Set the fields; returns the wanted member ids when the members were given."""
    s = tx.session
    c.check_keys(values, TEAM_FIELDS)
    if "name" in values:
        team.name = c.text(values["name"], "name", required=True, limit=100)
    c.unique(s, Team.name, team.name, team.id, "name", "a team named")
    if "lead" in values:
        team.lead_id = c.ref(s, values["lead"], "lead", lookup.agent)
    if "active" in values:
        team.active = c.boolean(values["active"], "active")
    wanted: list[int] | None = None
    if "members" in values:
        wanted = []
        for item in c.split_list(values["members"]):
            agent_id = c.ref(s, item, "members", lookup.agent)
            if agent_id is not None and agent_id not in wanted:
                wanted.append(agent_id)
    if team.lead_id is not None:
        # The lead is a member: a team's queue and notifications reach its lead.
        if wanted is None:
            wanted = [
                m
                for m in s.execute(select(TeamMember.agent_id).where(TeamMember.team_id == team.id)).scalars()
            ]
        if team.lead_id not in wanted:
            wanted.append(team.lead_id)
    return wanted


def _set_members(tx: Tx, team_id: int, wanted: list[int]) -> None:
    s = tx.session
    current = set(s.execute(select(TeamMember.agent_id).where(TeamMember.team_id == team_id)).scalars())
    gone = current - set(wanted)
    if gone:
        s.execute(delete(TeamMember).where(TeamMember.team_id == team_id, TeamMember.agent_id.in_(gone)))
    for agent_id in wanted:
        if agent_id not in current:
            s.add(TeamMember(team_id=team_id, agent_id=agent_id))


def create_team(tx: Tx, **values: Any) -> TeamRow:
    require_admin(tx)
    values.setdefault("name", "")
    team = Team(name="")
    wanted = _apply_team(tx, team, values)
    tx.session.add(team)
    tx.session.flush()
    _set_members(tx, team.id, wanted or [])
    tx.session.flush()
    row = _team_row(tx, team.id)
    c.record(tx, "create", "team", team.id, name=team.name, lead_id=team.lead_id, members=list(row.members))
    return row


def update_team(tx: Tx, team_id: int, **values: Any) -> TeamRow:
    require_admin(tx)
    team = c.get(tx.session, Team, team_id, "team")
    before_row = _team_row(tx, team_id)
    before = {**c.snapshot(team, ("name", "lead_id", "active")), "members": list(before_row.members)}
    wanted = _apply_team(tx, team, values)
    tx.session.add(team)
    if wanted is not None:
        _set_members(tx, team.id, wanted)
    tx.session.flush()
    row = _team_row(tx, team.id)
    after = {**c.snapshot(team, ("name", "lead_id", "active")), "members": list(row.members)}
    changes = c.diff(before, after)
    if changes:
        c.record(tx, "update", "team", team.id, changes=changes)
    return row


def archive_team(tx: Tx, team_id: int) -> TeamRow:
    return update_team(tx, team_id, active=False)


def delete_team(tx: Tx, team_id: int) -> None:
    require_admin(tx)
    s = tx.session
    team = c.get(s, Team, team_id, "team")
    reasons = c.usage(
        s,
        [
            (Ticket.team_id, team_id, "tickets"),
            (HelpTopic.auto_assign_team_id, team_id, "help topics (auto-assign)"),
        ],
    )
    c.refuse_in_use("team", team.name, reasons, "archive (deactivate) it instead")
    s.execute(delete(TeamMember).where(TeamMember.team_id == team_id))
    s.delete(team)
    c.record(tx, "delete", "team", team_id, name=team.name)


# --- roles ------------------------------------------------------------------------------------------------

ROLE_FIELDS = ("name", "permissions")


@dataclass(frozen=True)
class RoleRow:
    id: int
    name: str
    permissions: tuple[str, ...]


def list_roles(tx: Tx) -> list[RoleRow]:
    order = {p: i for i, p in enumerate(PERMISSIONS)}
    return [
        RoleRow(r.id, r.name, tuple(sorted(r.permissions or [], key=lambda p: order.get(p, 99))))
        for r in tx.session.execute(select(Role).order_by(Role.name)).scalars()
    ]


def _role_row(tx: Tx, role_id: int) -> RoleRow:
    tx.session.flush()
    return next(r for r in list_roles(tx) if r.id == role_id)


def _apply_role(tx: Tx, role: Role, values: dict[str, Any]) -> None:
    c.check_keys(values, ROLE_FIELDS)
    if "name" in values:
        role.name = c.text(values["name"], "name", required=True, limit=100)
    c.unique(tx.session, Role.name, role.name, role.id, "name", "a role named")
    if "permissions" in values:
        perms = c.split_list(values["permissions"])
        unknown = [p for p in perms if p not in PERMISSIONS]
        if unknown:
            raise ValidationError(
                "permissions", f"unknown {', '.join(unknown)}; known: {', '.join(PERMISSIONS)}"
            )
        role.permissions = [p for p in PERMISSIONS if p in perms]


def create_role(tx: Tx, **values: Any) -> RoleRow:
    require_admin(tx)
    values.setdefault("name", "")
    role = Role(name="", permissions=[])
    _apply_role(tx, role, values)
    tx.session.add(role)
    tx.session.flush()
    c.record(tx, "create", "role", role.id, name=role.name, permissions=list(role.permissions))
    return _role_row(tx, role.id)


def update_role(tx: Tx, role_id: int, **values: Any) -> RoleRow:
    require_admin(tx)
    role = c.get(tx.session, Role, role_id, "role")
    before = {"name": role.name, "permissions": list(role.permissions)}
    _apply_role(tx, role, values)
    tx.session.add(role)
    changes = c.diff(before, {"name": role.name, "permissions": list(role.permissions)})
    if changes:
        c.record(tx, "update", "role", role.id, changes=changes)
    return _role_row(tx, role.id)


def delete_role(tx: Tx, role_id: int) -> None:
    require_admin(tx)
    s = tx.session
    role = c.get(s, Role, role_id, "role")
    reasons = c.usage(
        s,
        [
            (Agent.role_id, role_id, "agents (primary role)"),
            (DepartmentAccess.role_id, role_id, "department access grants"),
        ],
    )
    c.refuse_in_use("role", role.name, reasons, "give those agents another role first")
    s.delete(role)
    c.record(tx, "delete", "role", role_id, name=role.name)


# --- extended department access ---------------------------------------------------------------------------

ACCESS_FIELDS = ("agent", "department", "role")


@dataclass(frozen=True)
class AccessRow:
    agent_id: int
    agent: str  # username
    department_id: int
    department: str
    role_id: int
    role: str

    @property
    def id(self) -> str:
        return f"{self.agent_id}:{self.department_id}"


def list_access(tx: Tx) -> list[AccessRow]:
    s = tx.session
    agents = {a.id: a.username for a in s.execute(select(Agent)).scalars()}
    depts = {d.id: d.name for d in s.execute(select(Department)).scalars()}
    roles = {r.id: r.name for r in s.execute(select(Role)).scalars()}
    rows = [
        AccessRow(
            a.agent_id,
            agents.get(a.agent_id, "?"),
            a.department_id,
            depts.get(a.department_id, "?"),
            a.role_id,
            roles.get(a.role_id, "?"),
        )
        for a in s.execute(select(DepartmentAccess)).scalars()
    ]
    return sorted(rows, key=lambda r: (r.agent, r.department))


def _access_key(value: Any) -> tuple[int, int]:
    if isinstance(value, tuple):
        return int(value[0]), int(value[1])
    try:
        agent_id, dept_id = str(value).split(":")
        return int(agent_id), int(dept_id)
    except ValueError:
        raise ValidationError("id", f"expected AGENT_ID:DEPARTMENT_ID, not {value!r}") from None


def _access_row(tx: Tx, agent_id: int, dept_id: int) -> AccessRow:
    tx.session.flush()
    return next(r for r in list_access(tx) if (r.agent_id, r.department_id) == (agent_id, dept_id))


def create_access(tx: Tx, **values: Any) -> AccessRow:
    """Extended access: the agent works in another department with the given role there."""
    require_admin(tx)
    s = tx.session
    c.check_keys(values, ACCESS_FIELDS)
    agent_id = c.ref(s, values.get("agent"), "agent", lookup.agent)
    if agent_id is None:
        raise ValidationError("agent", "is required")
    dept_id = c.ref(s, values.get("department"), "department", lookup.department)
    if dept_id is None:
        raise ValidationError("department", "is required")
    role_id = c.ref(s, values.get("role"), "role", _role)
    if role_id is None:
        raise ValidationError("role", "is required")
    agent = s.get(Agent, agent_id)
    if agent.primary_department_id == dept_id:
        raise ValidationError("department", "that is the agent's primary department; change their role there")
    if s.get(DepartmentAccess, (agent_id, dept_id)) is not None:
        raise ValidationError("department", "the agent already has access there; edit it instead")
    s.add(DepartmentAccess(agent_id=agent_id, department_id=dept_id, role_id=role_id))
    c.record(tx, "create", "department_access", agent_id, department_id=dept_id, role_id=role_id)
    return _access_row(tx, agent_id, dept_id)


def update_access(tx: Tx, key: Any, **values: Any) -> AccessRow:
    """Only the role of a grant changes; a grant for another agent or department is a new grant."""
    require_admin(tx)
    s = tx.session
    agent_id, dept_id = _access_key(key)
    row = c.get(s, DepartmentAccess, (agent_id, dept_id), "department access")
    c.check_keys(values, ACCESS_FIELDS)
    for field, current in (("agent", agent_id), ("department", dept_id)):
        if field in values and values[field] not in (None, ""):
            finder = lookup.agent if field == "agent" else lookup.department
            if c.ref(s, values[field], field, finder) != current:
                raise ValidationError(field, "cannot change; revoke this grant and add a new one")
    if "role" in values:
        role_id = c.ref(s, values["role"], "role", _role)
        if role_id is None:
            raise ValidationError("role", "is required")
        if role_id != row.role_id:
            c.record(
                tx,
                "update",
                "department_access",
                agent_id,
                department_id=dept_id,
                changes={"role_id": [row.role_id, role_id]},
            )
            row.role_id = role_id
            s.add(row)
    return _access_row(tx, agent_id, dept_id)


def delete_access(tx: Tx, key: Any) -> None:
    require_admin(tx)
    agent_id, dept_id = _access_key(key)
    row = c.get(tx.session, DepartmentAccess, (agent_id, dept_id), "department access")
    tx.session.delete(row)
    c.record(tx, "delete", "department_access", agent_id, department_id=dept_id)
