"""How work is organised: departments, statuses, priorities, help topics and the Category/Type/Item tree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from tui_helpdesk.models import (
    DEPARTMENT_STATES,
    STATES,
    Classification,
    Department,
    DepartmentAccess,
    HelpTopic,
    Mailbox,
    Priority,
    ScheduledTicket,
    Status,
    Ticket,
)
from tui_helpdesk.models import Agent as AgentModel
from tui_helpdesk.models.views import CannedResponse

from .. import lookup, settings
from ..context import Tx, require_admin
from ..errors import ValidationError
from . import _common as c

# --- departments ------------------------------------------------------------------------------------------

DEPARTMENT_FIELDS = (
    "name",
    "parent",
    "manager",
    "sla_plan",
    "default_priority",
    "state",
    "email",
    "signature",
)


@dataclass(frozen=True)
class DepartmentRow:
    id: int
    name: str
    path: str  # "Support / Tier 2": where it sits in the tree
    parent_id: int | None
    parent: str
    manager_id: int | None
    manager: str
    sla_plan_id: int | None
    sla_plan: str
    default_priority_id: int | None
    default_priority: str
    state: str
    email: str
    signature: str


def _names(session: Session, model: type, attr: str = "name") -> dict[int, str]:
    return {row.id: getattr(row, attr) for row in session.execute(select(model)).scalars()}


def _path(node_id: int | None, parents: dict[int, int | None], names: dict[int, str]) -> str:
    parts: list[str] = []
    seen: set[int] = set()
    while node_id is not None and node_id not in seen:
        seen.add(node_id)
        parts.append(names.get(node_id, "?"))
        node_id = parents.get(node_id)
    return " / ".join(reversed(parts))


def list_departments(tx: Tx) -> list[DepartmentRow]:
    from tui_helpdesk.models import SLAPlan

    s = tx.session
    depts = list(s.execute(select(Department)).scalars())
    names = {d.id: d.name for d in depts}
    parents = {d.id: d.parent_id for d in depts}
    agents = _names(s, AgentModel, "username")
    plans = _names(s, SLAPlan)
    prios = _names(s, Priority)
    rows = [
        DepartmentRow(
            id=d.id,
            name=d.name,
            path=_path(d.id, parents, names),
            parent_id=d.parent_id,
            parent=names.get(d.parent_id, "") if d.parent_id else "",
            manager_id=d.manager_id,
            manager=agents.get(d.manager_id, "") if d.manager_id else "",
            sla_plan_id=d.sla_plan_id,
            sla_plan=plans.get(d.sla_plan_id, "") if d.sla_plan_id else "",
            default_priority_id=d.default_priority_id,
            default_priority=prios.get(d.default_priority_id, "") if d.default_priority_id else "",
            state=d.state,
            email=d.email,
            signature=d.signature,
        )
        for d in depts
    ]
    return sorted(rows, key=lambda r: r.path.lower())


def _department_row(tx: Tx, dept_id: int) -> DepartmentRow:
    tx.session.flush()
    return next(r for r in list_departments(tx) if r.id == dept_id)


def _check_no_cycle(
    session: Session, model: type, node_id: int | None, parent_id: int | None, label: str
) -> None:
    """A node cannot hang under itself or under one of its own descendants."""
    if parent_id is None or node_id is None:
        return
    seen: set[int] = set()
    current: int | None = parent_id
    while current is not None and current not in seen:
        if current == node_id:
            raise ValidationError("parent", f"a {label} cannot be its own ancestor")
        seen.add(current)
        row = session.get(model, current)
        current = row.parent_id if row else None


def _apply_department(tx: Tx, dept: Department, values: dict[str, Any]) -> None:
    s = tx.session
    c.check_keys(values, DEPARTMENT_FIELDS)
    if "name" in values:
        dept.name = c.text(values["name"], "name", required=True, limit=100)
    c.unique(s, Department.name, dept.name, dept.id, "name", "a department named")
    if "parent" in values:
        dept.parent_id = c.ref(s, values["parent"], "parent", lookup.department)
        if dept.id is not None and dept.parent_id == dept.id:
            raise ValidationError("parent", "a department cannot be its own ancestor")
        _check_no_cycle(s, Department, dept.id, dept.parent_id, "department")
    if "manager" in values:
        dept.manager_id = c.ref(s, values["manager"], "manager", lookup.agent)
    if "sla_plan" in values:
        dept.sla_plan_id = c.ref(s, values["sla_plan"], "sla_plan", lookup.sla_plan)
    if "default_priority" in values:
        dept.default_priority_id = c.ref(s, values["default_priority"], "default_priority", lookup.priority)
    if "state" in values:
        new_state = c.choice(values["state"], "state", DEPARTMENT_STATES)
        if new_state != "active" and dept.state == "active" and dept.id is not None:
            _keep_one_active_department(tx, dept.id, "state")
        dept.state = new_state
    if "email" in values:
        dept.email = c.email(values["email"])
    if "signature" in values:
        dept.signature = "" if values["signature"] is None else str(values["signature"])


def _keep_one_active_department(tx: Tx, dept_id: int, field: str) -> None:
    others = tx.session.execute(
        select(Department.id).where(Department.state == "active", Department.id != dept_id)
    ).first()
    if others is None:
        raise ValidationError(field, "the last active department must stay active: new tickets need one")


def create_department(tx: Tx, **values: Any) -> DepartmentRow:
    require_admin(tx)
    dept = Department(name="")
    values.setdefault("name", "")
    _apply_department(tx, dept, values)
    tx.session.add(dept)
    tx.session.flush()
    c.record(tx, "create", "department", dept.id, **c.snapshot(dept, _DEPT_AUDIT))
    return _department_row(tx, dept.id)


_DEPT_AUDIT = ("name", "parent_id", "manager_id", "sla_plan_id", "default_priority_id", "state", "email")


def update_department(tx: Tx, dept_id: int, **values: Any) -> DepartmentRow:
    require_admin(tx)
    dept = c.get(tx.session, Department, dept_id, "department")
    before = c.snapshot(dept, (*_DEPT_AUDIT, "signature"))
    _apply_department(tx, dept, values)
    tx.session.add(dept)
    changes = c.diff(before, c.snapshot(dept, (*_DEPT_AUDIT, "signature")))
    if changes:
        c.record(tx, "update", "department", dept.id, changes=changes)
    return _department_row(tx, dept.id)


def archive_department(tx: Tx, dept_id: int) -> DepartmentRow:
    return update_department(tx, dept_id, state="archived")


def delete_department(tx: Tx, dept_id: int) -> None:
    require_admin(tx)
    s = tx.session
    dept = c.get(s, Department, dept_id, "department")
    reasons = c.usage(
        s,
        [
            (Ticket.department_id, dept_id, "tickets"),
            (Department.parent_id, dept_id, "child departments"),
            (AgentModel.primary_department_id, dept_id, "agents (primary department)"),
            (DepartmentAccess.department_id, dept_id, "department access grants"),
            (HelpTopic.department_id, dept_id, "help topics"),
            (Mailbox.department_id, dept_id, "mailboxes"),
            (CannedResponse.department_id, dept_id, "canned responses"),
            (ScheduledTicket.department_id, dept_id, "scheduled tickets"),
        ],
    )
    c.refuse_in_use("department", dept.name, reasons, "archive it instead")
    s.delete(dept)
    c.record(tx, "delete", "department", dept_id, name=dept.name)


# --- statuses ---------------------------------------------------------------------------------------------

STATUS_FIELDS = ("name", "state", "sort_order", "color", "is_default")


@dataclass(frozen=True)
class StatusRow:
    id: int
    name: str
    state: str
    sort_order: int
    color: str
    is_default: bool
    archived: bool


def list_statuses(tx: Tx) -> list[StatusRow]:
    q = select(Status).order_by(Status.sort_order, Status.name)
    return [
        StatusRow(s.id, s.name, s.state, s.sort_order, s.color, s.is_default, s.archived)
        for s in tx.session.execute(q).scalars()
    ]


def _status_row(tx: Tx, status_id: int) -> StatusRow:
    tx.session.flush()
    return next(r for r in list_statuses(tx) if r.id == status_id)


def colour(value: Any, field: str = "color") -> str:
    """A colour Rich understands ("green", "#ff8800", "grey50"), or "" for the theme's default."""
    from rich.color import Color, ColorParseError

    result = c.text(value, field, limit=30).lower()
    if result:
        try:
            Color.parse(result)
        except ColorParseError:
            raise ValidationError(
                field, f"{result!r} is not a colour (try green, #ff8800 or grey50)"
            ) from None
    return result


def _default_in(session: Session, model: type, exclude_id: int | None, *where: Any) -> bool:
    q = select(model.id).where(model.is_default.is_(True), model.id != (exclude_id or -1), *where)
    return session.execute(q).first() is not None


def _apply_status(tx: Tx, status: Status, values: dict[str, Any]) -> str | None:
    """Set the fields; returns the old state when the state changed (tickets must follow)."""
    s = tx.session
    c.check_keys(values, STATUS_FIELDS)
    old_state = status.state
    was_default = bool(status.is_default) and status.id is not None
    if "name" in values:
        status.name = c.text(values["name"], "name", required=True, limit=60)
    c.unique(s, Status.name, status.name, status.id, "name", "a status named")
    if "state" in values:
        status.state = c.choice(values["state"], "state", STATES)
    elif not status.state:
        raise ValidationError("state", f"is required: one of {', '.join(STATES)}")
    if "sort_order" in values:
        status.sort_order = c.integer(values["sort_order"], "sort_order")
    if "color" in values:
        status.color = colour(values["color"])
    if "is_default" in values:
        status.is_default = c.boolean(values["is_default"], "is_default")
    if was_default and old_state != status.state:
        raise ValidationError(
            "state",
            f"{status.name!r} is the default status for {old_state}; make another {old_state} status "
            "the default first",
        )
    if (
        was_default
        and not status.is_default
        and not _default_in(s, Status, status.id, Status.state == old_state)
    ):
        raise ValidationError(
            "is_default",
            f"a default status for {old_state} must remain; make another {old_state} status the default",
        )
    if status.is_default:
        if status.archived:
            raise ValidationError("is_default", "an archived status cannot be the default")
        s.execute(
            update(Status)
            .where(Status.state == status.state, Status.id != (status.id or -1))
            .values(is_default=False)
        )
    return old_state if status.id is not None and old_state != status.state else None


def create_status(tx: Tx, **values: Any) -> StatusRow:
    require_admin(tx)
    status = Status(name="", state="")
    values.setdefault("name", "")
    _apply_status(tx, status, values)
    if not status.is_default and not _default_in(tx.session, Status, None, Status.state == status.state):
        status.is_default = True  # the first status of a state is its default: new tickets need one
    tx.session.add(status)
    tx.session.flush()
    c.record(tx, "create", "status", status.id, **c.snapshot(status, STATUS_FIELDS))
    return _status_row(tx, status.id)


def update_status(tx: Tx, status_id: int, **values: Any) -> StatusRow:
    require_admin(tx)
    status = c.get(tx.session, Status, status_id, "status")
    before = c.snapshot(status, STATUS_FIELDS)
    old_state = _apply_status(tx, status, values)
    tx.session.add(status)
    tx.session.flush()
    moved = 0
    if old_state is not None:
        # ticket.state is a copy of status.state kept for the queue's indexes; it follows in this transaction
        moved = tx.session.execute(
            update(Ticket).where(Ticket.status_id == status.id).values(state=status.state)
        ).rowcount
        if moved:
            from tui_helpdesk.services import counters, report_facts  # the UPDATE bypassed the flush

            counters.rebuild(tx.session.connection())
            report_facts.rebuild_backlog(tx.session.connection())
    changes = c.diff(before, c.snapshot(status, STATUS_FIELDS))
    if changes:
        c.record(tx, "update", "status", status.id, changes=changes, tickets_moved=moved)
    return _status_row(tx, status.id)


def archive_status(tx: Tx, status_id: int, archived: bool = True) -> StatusRow:
    """An archived status is not offered for new changes; tickets already in it keep it."""
    require_admin(tx)
    status = c.get(tx.session, Status, status_id, "status")
    if archived and status.is_default:
        raise ValidationError(
            "archived",
            f"{status.name!r} is the default status for {status.state}; make another the default first",
        )
    status.archived = archived
    tx.session.add(status)
    c.record(tx, "archive" if archived else "restore", "status", status.id, name=status.name)
    return _status_row(tx, status.id)


def delete_status(tx: Tx, status_id: int) -> None:
    require_admin(tx)
    s = tx.session
    status = c.get(s, Status, status_id, "status")
    if status.is_default:
        raise ValidationError(
            "is_default",
            f"{status.name!r} is the default status for {status.state}; a default per state must "
            "remain: make another the default first",
        )
    reasons = c.usage(s, [(Ticket.status_id, status_id, "tickets")])
    autoclose = [str(n).lower() for n in settings.get(s, "autoclose_statuses")]
    if status.name.lower() in autoclose or str(status.id) in autoclose:
        reasons.append("the autoclose_statuses setting")
    c.refuse_in_use("status", status.name, reasons, "archive it instead")
    s.delete(status)
    c.record(tx, "delete", "status", status_id, name=status.name)


# --- priorities -------------------------------------------------------------------------------------------

PRIORITY_FIELDS = ("name", "rank", "color", "is_default")


@dataclass(frozen=True)
class PriorityRow:
    id: int
    name: str
    rank: int
    color: str
    is_default: bool


def list_priorities(tx: Tx) -> list[PriorityRow]:
    q = select(Priority).order_by(Priority.rank.desc(), Priority.name)
    return [PriorityRow(p.id, p.name, p.rank, p.color, p.is_default) for p in tx.session.execute(q).scalars()]


def _priority_row(tx: Tx, priority_id: int) -> PriorityRow:
    tx.session.flush()
    return next(r for r in list_priorities(tx) if r.id == priority_id)


def _apply_priority(tx: Tx, prio: Priority, values: dict[str, Any]) -> None:
    s = tx.session
    c.check_keys(values, PRIORITY_FIELDS)
    was_default = bool(prio.is_default) and prio.id is not None
    if "name" in values:
        prio.name = c.text(values["name"], "name", required=True, limit=60)
    c.unique(s, Priority.name, prio.name, prio.id, "name", "a priority named")
    if "rank" in values:
        prio.rank = c.integer(values["rank"], "rank", minimum=0)
    if "color" in values:
        prio.color = colour(values["color"])
    if "is_default" in values:
        prio.is_default = c.boolean(values["is_default"], "is_default")
    if was_default and not prio.is_default and not _default_in(s, Priority, prio.id):
        raise ValidationError(
            "is_default", "a default priority must remain; make another priority the default"
        )
    if prio.is_default:
        s.execute(update(Priority).where(Priority.id != (prio.id or -1)).values(is_default=False))


def create_priority(tx: Tx, **values: Any) -> PriorityRow:
    require_admin(tx)
    prio = Priority(name="")
    values.setdefault("name", "")
    _apply_priority(tx, prio, values)
    if not prio.is_default and not _default_in(tx.session, Priority, None):
        prio.is_default = True
    tx.session.add(prio)
    tx.session.flush()
    c.record(tx, "create", "priority", prio.id, **c.snapshot(prio, PRIORITY_FIELDS))
    return _priority_row(tx, prio.id)


def update_priority(tx: Tx, priority_id: int, **values: Any) -> PriorityRow:
    require_admin(tx)
    prio = c.get(tx.session, Priority, priority_id, "priority")
    before = c.snapshot(prio, PRIORITY_FIELDS)
    _apply_priority(tx, prio, values)
    tx.session.add(prio)
    tx.session.flush()
    moved = 0
    if before["rank"] != prio.rank:
        # ticket.priority_rank is the copy the priority sort scans; it follows in this transaction
        moved = tx.session.execute(
            update(Ticket).where(Ticket.priority_id == prio.id).values(priority_rank=prio.rank)
        ).rowcount
    changes = c.diff(before, c.snapshot(prio, PRIORITY_FIELDS))
    if changes:
        c.record(tx, "update", "priority", prio.id, changes=changes, tickets_moved=moved)
    return _priority_row(tx, prio.id)


def delete_priority(tx: Tx, priority_id: int) -> None:
    require_admin(tx)
    s = tx.session
    prio = c.get(s, Priority, priority_id, "priority")
    if prio.is_default:
        raise ValidationError(
            "is_default", f"{prio.name!r} is the default priority; make another the default first"
        )
    reasons = c.usage(
        s,
        [
            (Ticket.priority_id, priority_id, "tickets"),
            (Department.default_priority_id, priority_id, "departments"),
            (HelpTopic.priority_id, priority_id, "help topics"),
            (Mailbox.priority_id, priority_id, "mailboxes"),
            (ScheduledTicket.priority_id, priority_id, "scheduled tickets"),
        ],
    )
    c.refuse_in_use(
        "priority",
        prio.name,
        reasons,
        "priorities cannot be archived: move those to another priority first, or rename it",
    )
    s.delete(prio)
    c.record(tx, "delete", "priority", priority_id, name=prio.name)


# --- help topics ------------------------------------------------------------------------------------------

TOPIC_FIELDS = (
    "name",
    "parent",
    "department",
    "priority",
    "sla_plan",
    "auto_assign_agent",
    "auto_assign_team",
    "active",
)
_TOPIC_AUDIT = (
    "name",
    "parent_id",
    "department_id",
    "priority_id",
    "sla_plan_id",
    "auto_assign_agent_id",
    "auto_assign_team_id",
    "active",
)


@dataclass(frozen=True)
class TopicRow:
    id: int
    name: str
    path: str
    parent_id: int | None
    department_id: int | None
    department: str
    priority_id: int | None
    priority: str
    sla_plan_id: int | None
    sla_plan: str
    auto_assign_agent_id: int | None
    auto_assign_agent: str
    auto_assign_team_id: int | None
    auto_assign_team: str
    active: bool


def list_topics(tx: Tx) -> list[TopicRow]:
    from tui_helpdesk.models import SLAPlan, Team

    s = tx.session
    topics = list(s.execute(select(HelpTopic)).scalars())
    names = {t.id: t.name for t in topics}
    parents = {t.id: t.parent_id for t in topics}
    depts, prios, plans = _names(s, Department), _names(s, Priority), _names(s, SLAPlan)
    agents, teams = _names(s, AgentModel, "username"), _names(s, Team)
    rows = [
        TopicRow(
            id=t.id,
            name=t.name,
            path=_path(t.id, parents, names),
            parent_id=t.parent_id,
            department_id=t.department_id,
            department=depts.get(t.department_id, ""),
            priority_id=t.priority_id,
            priority=prios.get(t.priority_id, ""),
            sla_plan_id=t.sla_plan_id,
            sla_plan=plans.get(t.sla_plan_id, ""),
            auto_assign_agent_id=t.auto_assign_agent_id,
            auto_assign_agent=agents.get(t.auto_assign_agent_id, ""),
            auto_assign_team_id=t.auto_assign_team_id,
            auto_assign_team=teams.get(t.auto_assign_team_id, ""),
            active=t.active,
        )
        for t in topics
    ]
    return sorted(rows, key=lambda r: r.path.lower())


def _topic_row(tx: Tx, topic_id: int) -> TopicRow:
    tx.session.flush()
    return next(r for r in list_topics(tx) if r.id == topic_id)


def _topic_by_id(session: Session, value: Any) -> HelpTopic:
    # Topic names repeat under different parents, so forms pass ids; a unique name also works from the CLI.
    return lookup.topic(session, value)


def _apply_topic(tx: Tx, topic: HelpTopic, values: dict[str, Any]) -> None:
    s = tx.session
    c.check_keys(values, TOPIC_FIELDS)
    if "name" in values:
        topic.name = c.text(values["name"], "name", required=True, limit=100)
    if "parent" in values:
        topic.parent_id = c.ref(s, values["parent"], "parent", _topic_by_id)
        if topic.id is not None and topic.parent_id == topic.id:
            raise ValidationError("parent", "a help topic cannot be its own ancestor")
        _check_no_cycle(s, HelpTopic, topic.id, topic.parent_id, "help topic")
    parent_cond = (
        HelpTopic.parent_id.is_(None) if topic.parent_id is None else HelpTopic.parent_id == topic.parent_id
    )
    c.unique(s, HelpTopic.name, topic.name, topic.id, "name", "a help topic here named", parent_cond)
    if "department" in values:
        topic.department_id = c.ref(s, values["department"], "department", lookup.department)
    if "priority" in values:
        topic.priority_id = c.ref(s, values["priority"], "priority", lookup.priority)
    if "sla_plan" in values:
        topic.sla_plan_id = c.ref(s, values["sla_plan"], "sla_plan", lookup.sla_plan)
    if "auto_assign_agent" in values:
        topic.auto_assign_agent_id = c.ref(s, values["auto_assign_agent"], "auto_assign_agent", lookup.agent)
    if "auto_assign_team" in values:
        topic.auto_assign_team_id = c.ref(s, values["auto_assign_team"], "auto_assign_team", lookup.team)
    if "active" in values:
        topic.active = c.boolean(values["active"], "active")


def create_topic(tx: Tx, **values: Any) -> TopicRow:
    require_admin(tx)
    topic = HelpTopic(name="")
    values.setdefault("name", "")
    _apply_topic(tx, topic, values)
    tx.session.add(topic)
    tx.session.flush()
    c.record(tx, "create", "help_topic", topic.id, **c.snapshot(topic, _TOPIC_AUDIT))
    return _topic_row(tx, topic.id)


def update_topic(tx: Tx, topic_id: int, **values: Any) -> TopicRow:
    require_admin(tx)
    topic = c.get(tx.session, HelpTopic, topic_id, "help topic")
    before = c.snapshot(topic, _TOPIC_AUDIT)
    _apply_topic(tx, topic, values)
    tx.session.add(topic)
    changes = c.diff(before, c.snapshot(topic, _TOPIC_AUDIT))
    if changes:
        c.record(tx, "update", "help_topic", topic.id, changes=changes)
    return _topic_row(tx, topic.id)


def archive_topic(tx: Tx, topic_id: int) -> TopicRow:
    return update_topic(tx, topic_id, active=False)


def delete_topic(tx: Tx, topic_id: int) -> None:
    require_admin(tx)
    s = tx.session
    topic = c.get(s, HelpTopic, topic_id, "help topic")
    reasons = c.usage(
        s,
        [
            (Ticket.topic_id, topic_id, "tickets"),
            (HelpTopic.parent_id, topic_id, "child topics"),
            (Mailbox.topic_id, topic_id, "mailboxes"),
        ],
    )
    c.refuse_in_use("help topic", topic.name, reasons, "archive (deactivate) it instead")
    s.delete(topic)
    c.record(tx, "delete", "help_topic", topic_id, name=topic.name)


# --- the Category / Type / Item tree ----------------------------------------------------------------------

KINDS = ("category", "type", "item")
_PARENT_KIND = {"category": None, "type": "category", "item": "type"}
CLASSIFICATION_FIELDS = ("kind", "name", "parent", "active")


@dataclass(frozen=True)
class ClassificationRow:
    id: int
    kind: str
    name: str
    path: str  # "Hardware / Laptop / Battery"
    depth: int
    parent_id: int | None
    active: bool


def list_classifications(tx: Tx) -> list[ClassificationRow]:
    nodes = list(tx.session.execute(select(Classification)).scalars())
    names = {n.id: n.name for n in nodes}
    parents = {n.id: n.parent_id for n in nodes}
    rows = [
        ClassificationRow(
            n.id,
            n.kind,
            n.name,
            _path(n.id, parents, names),
            KINDS.index(n.kind) if n.kind in KINDS else 0,
            n.parent_id,
            n.active,
        )
        for n in nodes
    ]
    return sorted(rows, key=lambda r: r.path.lower())


def _classification_row(tx: Tx, node_id: int) -> ClassificationRow:
    tx.session.flush()
    return next(r for r in list_classifications(tx) if r.id == node_id)


def _apply_classification(tx: Tx, node: Classification, values: dict[str, Any]) -> None:
    s = tx.session
    c.check_keys(values, CLASSIFICATION_FIELDS)
    if "kind" in values:
        kind = c.choice(values["kind"], "kind", KINDS)
        if node.id is not None and kind != node.kind:
            raise ValidationError("kind", "cannot change once created; add a new node and delete this one")
        node.kind = kind
    if "name" in values:
        node.name = c.text(values["name"], "name", required=True, limit=100)
    if "parent" in values:
        value = values["parent"]
        node.parent_id = None
        if value not in (None, ""):
            parent = s.get(Classification, c.integer(value, "parent"))
            if parent is None:
                raise ValidationError("parent", f"no category/type with id {value}")
            node.parent_id = parent.id
    if "active" in values:
        node.active = c.boolean(values["active"], "active")
    wanted = _PARENT_KIND[node.kind]
    parent = s.get(Classification, node.parent_id) if node.parent_id else None
    if wanted is None and parent is not None:
        raise ValidationError("parent", "a category sits at the top: it has no parent")
    if wanted is not None and (parent is None or parent.kind != wanted):
        raise ValidationError("parent", f"a {node.kind} belongs under a {wanted}")
    where = (
        Classification.parent_id.is_(None)
        if node.parent_id is None
        else Classification.parent_id == node.parent_id
    )
    c.unique(
        s,
        Classification.name,
        node.name,
        node.id,
        "name",
        f"a {node.kind} here named",
        where,
        Classification.kind == node.kind,
    )


def create_classification(tx: Tx, **values: Any) -> ClassificationRow:
    require_admin(tx)
    values.setdefault("name", "")
    if not values.get("kind"):
        raise ValidationError("kind", f"is required: one of {', '.join(KINDS)}")
    node = Classification(kind=c.choice(values["kind"], "kind", KINDS), name="")
    _apply_classification(tx, node, values)
    tx.session.add(node)
    tx.session.flush()
    c.record(
        tx, "create", "classification", node.id, kind=node.kind, name=node.name, parent_id=node.parent_id
    )
    return _classification_row(tx, node.id)


def update_classification(tx: Tx, node_id: int, **values: Any) -> ClassificationRow:
    require_admin(tx)
    node = c.get(tx.session, Classification, node_id, "classification")
    fields = ("name", "parent_id", "active")
    before = c.snapshot(node, fields)
    _apply_classification(tx, node, values)
    tx.session.add(node)
    changes = c.diff(before, c.snapshot(node, fields))
    if changes:
        c.record(tx, "update", "classification", node.id, changes=changes)
    return _classification_row(tx, node.id)


def archive_classification(tx: Tx, node_id: int) -> ClassificationRow:
    return update_classification(tx, node_id, active=False)


def delete_classification(tx: Tx, node_id: int) -> None:
    require_admin(tx)
    s = tx.session
    node = c.get(s, Classification, node_id, "classification")
    reasons = c.usage(
        s,
        [
            (Classification.parent_id, node_id, "child entries"),
            (Ticket.category_id, node_id, "tickets"),
            (Ticket.type_id, node_id, "tickets (as type)"),
            (Ticket.item_id, node_id, "tickets (as item)"),
        ],
    )
    c.refuse_in_use(node.kind, node.name, reasons, "archive (deactivate) it instead")
    s.delete(node)
    c.record(tx, "delete", "classification", node_id, kind=node.kind, name=node.name)
