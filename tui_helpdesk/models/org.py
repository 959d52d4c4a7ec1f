"""How work is organised: departments, help topics, classification, statuses, priorities, SLA."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from ._base import created_field, json_field, text_field

STATES = ("new", "open", "pending", "resolved", "closed")
DEPARTMENT_STATES = ("active", "archived", "disabled")


class Department(SQLModel, table=True):
    __tablename__ = "department"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    parent_id: int | None = Field(default=None, foreign_key="department.id")
    manager_id: int | None = Field(default=None, foreign_key="agent.id")
    sla_plan_id: int | None = Field(default=None, foreign_key="sla_plan.id")
    default_priority_id: int | None = Field(default=None, foreign_key="priority.id")
    state: str = Field(default="active", max_length=20)
    email: str = Field(default="", max_length=320)  # From address for replies
    signature: str = text_field()
    created_at: datetime = created_field()


class HelpTopic(SQLModel, table=True):
    __tablename__ = "help_topic"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    parent_id: int | None = Field(default=None, foreign_key="help_topic.id")
    department_id: int | None = Field(default=None, foreign_key="department.id")
    priority_id: int | None = Field(default=None, foreign_key="priority.id")
    sla_plan_id: int | None = Field(default=None, foreign_key="sla_plan.id")
    auto_assign_agent_id: int | None = Field(default=None, foreign_key="agent.id")
    auto_assign_team_id: int | None = Field(default=None, foreign_key="team.id")
    active: bool = Field(default=True)


class Classification(SQLModel, table=True):
    """One node of the Category -> Type -> Item tree."""

    __tablename__ = "classification"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # category | type | item
    name: str = Field(max_length=100)
    parent_id: int | None = Field(default=None, foreign_key="classification.id", index=True)
    active: bool = Field(default=True)


class Status(SQLModel, table=True):
    """An admin-named status; `state` carries the behaviour."""

    __tablename__ = "status"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, unique=True)
    state: str = Field(max_length=20)
    sort_order: int = Field(default=0)
    color: str = Field(default="", max_length=30)
    is_default: bool = Field(default=False)  # the status a new ticket gets for its state
    archived: bool = Field(default=False)


class Priority(SQLModel, table=True):
    __tablename__ = "priority"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, unique=True)
    rank: int = Field(default=0)  # higher is more urgent
    color: str = Field(default="", max_length=30)
    is_default: bool = Field(default=False)


class Schedule(SQLModel, table=True):
    """Business hours per weekday in a time zone: {"0": [["09:00","17:00"]], ...} (0 = Monday)."""

    __tablename__ = "schedule"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    timezone: str = Field(default="UTC", max_length=64)
    hours: dict = json_field(dict)


class Holiday(SQLModel, table=True):
    __tablename__ = "holiday"
    id: int | None = Field(default=None, primary_key=True)
    schedule_id: int = Field(foreign_key="schedule.id", index=True)
    day: date
    name: str = Field(default="", max_length=100)


class SLAPlan(SQLModel, table=True):
    __tablename__ = "sla_plan"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    grace_hours: int = Field(default=24)
    schedule_id: int | None = Field(default=None, foreign_key="schedule.id")
    active: bool = Field(default=True)
    is_default: bool = Field(default=False)
