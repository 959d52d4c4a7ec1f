"""The ticket aggregate: the ticket, its thread, events, links, tags, people, files, time, tasks."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from tui_helpdesk import clock

from ._base import created_field, json_field, text_field

ENTRY_KINDS = ("message", "reply", "note")
SOURCES = ("email", "phone", "tui", "cli", "api", "web", "scheduled")


def new_client_key() -> str:
    return secrets.token_urlsafe(24)


# Each link kind with the kind stored on the other ticket: links are always kept in pairs.
LINK_INVERSE = {
    "related_to": "related_to",
    "parent_of": "child_of",
    "child_of": "parent_of",
    "caused_by": "causes",
    "causes": "caused_by",
    "duplicate_of": "duplicated_by",
    "duplicated_by": "duplicate_of",
}


class Ticket(SQLModel, table=True):
    __tablename__ = "ticket"
    __table_args__ = (
        # The queue's keyset scans: each sort under the common filters, ties broken by id.
        Index("ix_ticket_queue_state_updated", "visible", "state", "updated_at", "id"),
        Index("ix_ticket_queue_updated", "visible", "updated_at", "id"),
        Index("ix_ticket_queue_created", "visible", "created_at", "id"),
        Index("ix_ticket_queue_dept", "visible", "department_id", "state", "updated_at", "id"),
        Index("ix_ticket_queue_assignee", "visible", "assignee_id", "state", "updated_at", "id"),
        Index("ix_ticket_queue_team", "visible", "team_id", "state", "updated_at", "id"),
        Index("ix_ticket_queue_priority", "visible", "priority_rank", "updated_at", "id"),
        Index("ix_ticket_queue_due", "visible", "due_at", "id"),
        # the due sort under a state filter (the Open view scans one range per state)
        Index("ix_ticket_queue_state_due", "visible", "state", "due_at", "id"),
        # counts of a priority filter (priority_id, then the state the view adds)
        Index("ix_ticket_visible_priority_state", "visible", "priority_id", "state"),
        Index("ix_ticket_queue_org", "visible", "organization_id", "updated_at", "id"),
        Index("ix_ticket_queue_contact", "contact_id", "updated_at", "id"),
        Index("ix_ticket_overdue", "visible", "is_overdue", "state", "due_at", "id"),
        # admins renaming, remapping or deleting a status or priority: in-use checks and copy updates
        Index("ix_ticket_status", "status_id"),
        Index("ix_ticket_priority", "priority_id"),
        # a number typed with any prefix the desk has used (TCK-1300, ITF-1300, 1300) finds the ticket
        Index("ix_ticket_number_seq", "number_seq"),
        # the merged children of a ticket, read by every detail view
        Index("ix_ticket_merged_into", "merged_into_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=40, unique=True)
    # the digits of `number`: the number is kept forever, whatever the prefix setting becomes
    number_seq: int | None = Field(default=None)
    subject: str = Field(max_length=255)
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    organization_id: int | None = Field(default=None, foreign_key="organization.id")
    department_id: int = Field(foreign_key="department.id")
    topic_id: int | None = Field(default=None, foreign_key="help_topic.id")
    category_id: int | None = Field(default=None, foreign_key="classification.id")
    type_id: int | None = Field(default=None, foreign_key="classification.id")
    item_id: int | None = Field(default=None, foreign_key="classification.id")
    priority_id: int = Field(foreign_key="priority.id")
    priority_rank: int = Field(default=0)  # copy of priority.rank so the priority sort is one index scan
    status_id: int = Field(foreign_key="status.id")
    state: str = Field(max_length=20)  # copy of status.state, for the same reason
    assignee_id: int | None = Field(default=None, foreign_key="agent.id")
    team_id: int | None = Field(default=None, foreign_key="team.id")
    sla_plan_id: int | None = Field(default=None, foreign_key="sla_plan.id")
    due_at: datetime | None = None
    is_overdue: bool = Field(default=False)
    source: str = Field(default="tui", max_length=20)
    archived: bool = Field(default=False)
    merged_into_id: int | None = Field(default=None, foreign_key="ticket.id")
    # visible = not archived and not merged: the queue's default scope in one indexed column
    visible: bool = Field(default=True)
    reopened: bool = Field(default=False)
    reopen_count: int = Field(default=0)
    resolution_notes: str = text_field()
    custom_fields: dict = json_field(dict)
    created_at: datetime = created_field()
    updated_at: datetime = created_field()
    status_changed_at: datetime | None = None
    first_response_at: datetime | None = None
    last_message_at: datetime | None = None
    last_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    chaser_sent_at: datetime | None = None
    version: int = Field(default=1)
    # the customer's read-only link (GET /api/public/tickets/{number}?c=KEY); the notices carry it
    client_key: str | None = Field(default_factory=new_client_key, max_length=64)


class TicketCount(SQLModel, table=True):
    """How many visible tickets share a department, assignee (0: none), state and overdue flag.

    The sidebar's numbers are sums over these few rows instead of counts over the ticket table; the
    services keep them exact in the transaction of every ticket write (services/counters.py)."""

    __tablename__ = "ticket_count"
    # an agent's own rows, for the sidebar's "mine" and their tickets outside their departments
    __table_args__ = (Index("ix_ticket_count_assignee", "assignee_id", "department_id"),)
    department_id: int = Field(primary_key=True)
    assignee_id: int = Field(primary_key=True)  # 0 when unassigned, so the key has no NULL
    state: str = Field(max_length=20, primary_key=True)
    is_overdue: bool = Field(primary_key=True)
    n: int = Field(default=0)


class DepartmentCount(SQLModel, table=True):
    """TicketCount without the assignee: visible tickets per department, state, overdue flag and whether
    anyone is assigned. The sidebar's everyone-numbers add up these few rows (at most 20 a department)
    instead of every agent's (1,635 at 1M tickets); services/counters.py moves both in the same flush."""

    __tablename__ = "department_count"
    department_id: int = Field(primary_key=True)
    state: str = Field(max_length=20, primary_key=True)
    is_overdue: bool = Field(primary_key=True)
    unassigned: bool = Field(primary_key=True)
    n: int = Field(default=0)


class TicketEntry(SQLModel, table=True):
    """One thread entry: a customer message, a public reply or an internal note."""

    __tablename__ = "ticket_entry"
    __table_args__ = (
        Index("ix_entry_ticket", "ticket_id", "id"),
        Index("ix_entry_ticket_time", "ticket_id", "created_at", "id"),  # a thread read a page at a time
        # reply threading: the first entry with a Message-ID is one range in id order, so statistics
        # never make a walk of the whole table by id look cheaper (it did on a 5M-entry desk)
        Index("ix_entry_message_id", "message_id", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    kind: str = Field(max_length=10)
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    full_body: str | None = Field(default=None, sa_column=Column(Text))  # before quote stripping
    body_format: str = Field(default="markdown", max_length=10)  # markdown | text
    message_id: str | None = Field(default=None, max_length=500)
    recipients: dict = json_field(dict)  # {"to": [...], "cc": [...]}
    time_spent: int = Field(default=0)  # minutes
    created_at: datetime = created_field()
    edited_at: datetime | None = None
    edited_by_id: int | None = Field(default=None, foreign_key="agent.id")
    deleted_at: datetime | None = None
    deleted_by_id: int | None = Field(default=None, foreign_key="agent.id")
    # a customer's message is never rewritten; an admin may redact it (the original stays in the audit log)
    redacted_at: datetime | None = None
    redacted_by_id: int | None = Field(default=None, foreign_key="agent.id")


class EntryRevision(SQLModel, table=True):
    """A body an entry had before an edit or delete: nothing written is ever lost."""

    __tablename__ = "entry_revision"
    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="ticket_entry.id", index=True)
    body: str = text_field()
    replaced_at: datetime = created_field()
    replaced_by_id: int | None = Field(default=None, foreign_key="agent.id")
    reason: str = Field(default="", max_length=20)  # edit | delete


class TicketEvent(SQLModel, table=True):
    __tablename__ = "ticket_event"
    __table_args__ = (
        Index("ix_event_ticket", "ticket_id", "id"),
        Index("ix_event_ticket_time", "ticket_id", "created_at", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    kind: str = Field(max_length=30)
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    data: dict = json_field(dict)
    created_at: datetime = created_field()


class Tag(SQLModel, table=True):
    __tablename__ = "tag"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, unique=True)


class TicketTag(SQLModel, table=True):
    __tablename__ = "ticket_tag"
    __table_args__ = (Index("ix_ticket_tag_tag", "tag_id", "ticket_id"),)
    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    tag_id: int = Field(foreign_key="tag.id", primary_key=True)


class TicketLink(SQLModel, table=True):
    """One direction of a link; its inverse is always stored beside it."""

    __tablename__ = "ticket_link"
    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    other_id: int = Field(foreign_key="ticket.id", primary_key=True)
    kind: str = Field(max_length=20)
    created_at: datetime = created_field()
    created_by_id: int | None = Field(default=None, foreign_key="agent.id")


class Collaborator(SQLModel, table=True):
    __tablename__ = "collaborator"
    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", primary_key=True)
    created_at: datetime = created_field()


class Attachment(SQLModel, table=True):
    __tablename__ = "attachment"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    entry_id: int | None = Field(default=None, foreign_key="ticket_entry.id", index=True)
    filename: str = Field(max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=150)
    size: int = Field(default=0)
    sha256: str = Field(max_length=64)
    storage_name: str = Field(max_length=100)  # random name under the data dir
    inline: bool = Field(default=False)
    created_at: datetime = created_field()


class TimeEntry(SQLModel, table=True):
    """Minutes an agent worked on a ticket on a day; locked once an invoice bills them."""

    __tablename__ = "time_entry"
    __table_args__ = (
        # reports and invoices read a period's entries by day; the uninvoiced ones of a ticket
        Index("ix_time_entry_work_date", "work_date", "ticket_id"),
        Index("ix_time_entry_invoice", "invoice_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    agent_id: int = Field(foreign_key="agent.id")
    entry_id: int | None = Field(default=None, foreign_key="ticket_entry.id")
    minutes: int
    billable: bool = Field(default=True)
    note: str = Field(default="", max_length=500)
    created_at: datetime = created_field()
    work_date: date = Field(default_factory=lambda: clock.now().date())  # the desk's (UTC) day
    invoice_id: int | None = Field(default=None, foreign_key="invoice.id")
    version: int = Field(default=1)
    updated_at: datetime | None = None
    updated_by_id: int | None = Field(default=None, foreign_key="agent.id")


class Task(SQLModel, table=True):
    __tablename__ = "task"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    title: str = Field(max_length=255)
    description: str = text_field()
    assignee_id: int | None = Field(default=None, foreign_key="agent.id")
    due_at: datetime | None = None
    created_by_id: int | None = Field(default=None, foreign_key="agent.id")
    created_at: datetime = created_field()
    closed_at: datetime | None = None
    closed_by_id: int | None = Field(default=None, foreign_key="agent.id")
