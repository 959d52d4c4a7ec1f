"""Bookkeeping: settings, the audit log, counters, the worker lock, scheduled tickets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from ._base import created_field, json_field, text_field


class Setting(SQLModel, table=True):
    __tablename__ = "setting"
    key: str = Field(primary_key=True, max_length=100)
    value: object = Field(default=None, sa_column=Column(JSON, nullable=True))


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    # the audit viewer filters by who, object and action and pages newest first by id (services/audit.py)
    __table_args__ = (
        Index("ix_audit_object", "object_type", "object_id"),
        Index("ix_audit_at", "at"),
        Index("ix_audit_actor_id", "actor", "id"),
        Index("ix_audit_action_id", "action", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = created_field()
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    actor: str = Field(default="", max_length=100)  # username, "worker", "system", an email address
    origin: str = Field(default="", max_length=20)  # tui | cli | worker | mail
    action: str = Field(max_length=60)
    object_type: str = Field(max_length=40)
    object_id: int | None = None
    data: dict = json_field(dict)


class Counter(SQLModel, table=True):
    """Named counters: the next ticket number, and the change counter the app polls to refresh."""

    __tablename__ = "counter"
    name: str = Field(primary_key=True, max_length=60)
    value: int = Field(default=0)


class WorkerLock(SQLModel, table=True):
    """A lease: only one worker acts per database; a crashed holder's lease simply expires."""

    __tablename__ = "worker_lock"
    name: str = Field(primary_key=True, max_length=60)
    holder: str = Field(max_length=200)
    expires_at: datetime


class Presence(SQLModel, table=True):
    """Who has a ticket open, and whether they are writing on it (collision warning)."""

    __tablename__ = "presence"
    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", primary_key=True)
    activity: str = Field(default="viewing", max_length=20)  # viewing | replying | noting
    seen_at: datetime = created_field()


class ScheduledTicket(SQLModel, table=True):
    __tablename__ = "scheduled_ticket"
    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=255)
    body: str = text_field()
    frequency: str = Field(max_length=10)  # daily | weekly | monthly | yearly
    next_run_at: datetime
    organization_id: int | None = Field(default=None, foreign_key="organization.id")
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    department_id: int = Field(foreign_key="department.id")
    priority_id: int | None = Field(default=None, foreign_key="priority.id")
    assignee_id: int | None = Field(default=None, foreign_key="agent.id")
    active: bool = Field(default=True)
    last_run_at: datetime | None = None
    created_at: datetime = created_field()
    extra: dict = json_field(dict)
    notes: str = text_field()
