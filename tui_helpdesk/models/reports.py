"""What the reports read instead of the ticket table: one fact row per thing that happened, and the
backlog as it stands, both kept by the services in the transaction of every write
(services/report_facts.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

# created, closed (left the backlog for resolved/closed), reopened, first_response, reply, and backlog
# (n = +1/-1 when a ticket enters or leaves the backlog of a department/agent/... key)
FACT_KINDS = ("created", "closed", "reopened", "first_response", "reply", "backlog")


class ReportFact(SQLModel, table=True):
    """One event a report counts, with the ticket's breakdown keys as they were when it happened.

    A period's figure is one range of one index on (kind, at) that carries every column a figure reads
    (so the rows themselves are never read): about 30k entries a kind for 30 days at 1M tickets,
    whatever the size of the ticket table."""

    __tablename__ = "report_fact"
    __table_args__ = (
        Index("ix_report_fact_period", "kind", "at", "department_id", "assignee_id", "team_id", "topic_id",
              "organization_id", "priority_id", "agent_id", "n", "minutes", "sla_met"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    at: datetime
    ticket_id: int
    department_id: int
    assignee_id: int | None = None
    team_id: int | None = None
    topic_id: int | None = None
    organization_id: int | None = None
    priority_id: int | None = None
    agent_id: int | None = None  # who replied (kind reply) or answered first (first_response)
    n: int = Field(default=1)
    # first_response and closed: minutes since the ticket was created, business minutes under an SLA
    # plan with a schedule
    minutes: int | None = None
    sla_met: bool | None = None  # closed: resolved by the due time (None: no due time)


class ReportBacklog(SQLModel, table=True):
    """Visible tickets in the backlog (new, open, pending) per breakdown key and overdue flag; 0 stands
    for none so the key has no NULL."""

    __tablename__ = "report_backlog"
    department_id: int = Field(primary_key=True)
    assignee_id: int = Field(primary_key=True)
    team_id: int = Field(primary_key=True)
    topic_id: int = Field(primary_key=True)
    organization_id: int = Field(primary_key=True)
    priority_id: int = Field(primary_key=True)
    is_overdue: bool = Field(primary_key=True)
    n: int = Field(default=0)
