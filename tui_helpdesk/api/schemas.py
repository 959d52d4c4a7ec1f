"""Request and response bodies: the OpenAPI schema. Names follow seed 002's ticket object where it has one.

Request bodies forbid unknown fields, so a misspelt field is a 422 naming it rather than silently ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Error(BaseModel):
    error: str
    field: str | None = None


class Named(BaseModel):
    id: int
    name: str


class StatusRef(BaseModel):
    id: int
    title: str
    state: str


class PriorityRef(BaseModel):
    id: int
    title: str


class ContactRef(BaseModel):
    id: int | None
    name: str
    email: str


class AgentRef(BaseModel):
    id: int
    name: str
    username: str


class Dates(BaseModel):
    created: datetime
    last_updated: datetime
    status_changed: datetime | None = None
    last_reply: datetime | None = None


class Author(BaseModel):
    name: str
    email: str


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int


class Reply(BaseModel):
    id: int
    type: Literal["message", "reply", "note"]
    author: Author
    admin: bool = Field(description="written by an agent (false: by the customer)")
    date: datetime
    message: str
    deleted: bool
    time_spent: int
    attachments: list[AttachmentOut]


class Ticket(BaseModel):
    id: int
    number: str
    number_prefix: str
    number_value: int | None
    subject: str
    message: str = Field(description="the opening message")
    status: StatusRef
    priority: PriorityRef
    source: str
    active_state: Literal["active", "archived"]
    department: Named
    client: Named | None
    contact: ContactRef | None
    creator: str
    assignee: AgentRef | None
    team: Named | None
    dates: Dates
    due: datetime | None
    overdue: bool
    replies_count: int
    tags: list[str]
    cc: list[str]
    custom_fields: dict[str, Any]
    version: int = Field(description="send it back in If-Match to refuse a change based on a stale copy")
    replies: list[Reply] = Field(description="messages and public replies")
    notes: list[Reply] = Field(description="internal notes")


class TicketRow(BaseModel):
    id: int
    number: str
    subject: str
    status: str
    state: str
    priority: str
    department: str
    client: str
    contact: Author
    assignee: str
    team: str
    dates: Dates
    due: datetime | None
    overdue: bool
    archived: bool
    version: int


class TicketList(BaseModel):
    tickets: list[TicketRow]
    total: int
    limit: int
    page: int | None
    next_cursor: str | None


class TicketCreate(Strict):
    subject: str
    message: str
    contact_email: str = Field(description="the requester; a new contact is made for an unknown address")
    contact_name: str = ""
    department: str | int | None = None
    topic: str | int | None = None
    priority: str | int | None = None
    status: str | int | None = None
    organization: str | int | None = None
    assignee: str | int | None = None
    team: str | int | None = None
    tags: list[str] = []
    cc: list[str] = []
    custom_fields: dict[str, Any] = {}


class TicketPatch(Strict):
    department: str | int | None = None
    subject: str | None = None
    priority: str | int | None = None
    custom_fields: dict[str, Any] | None = Field(
        default=None, description="keys to set; a null value removes the field"
    )
    reason: str = "changed through the HTTP API"


class StatusChange(Strict):
    status: int | str = Field(description="a status name, the desk's status id, or seed 002's id 1-5")
    notes: str | None = None


class TagSet(Strict):
    tags: list[str]


class Assignment(Strict):
    agent: str | int | None = None
    team: str | int | None = None
    reason: str = ""


class ReplyCreate(Strict):
    message: str
    type: Literal["reply", "note"] = "reply"
    time_spent: int = Field(default=0, ge=0)
    cc: list[str] = []
    status: str | int | None = Field(default=None, description="also set this status (send and set)")


class ReplyList(BaseModel):
    replies: list[Reply]


class Deleted(BaseModel):
    deleted: str


class Contact(BaseModel):
    id: int
    email: str
    name: str
    phone: str
    organization: Named | None
    archived: bool


class ContactCreate(Strict):
    email: str
    name: str = ""
    phone: str = ""
    organization: str | int | None = None


class Organization(BaseModel):
    id: int
    name: str
    domains: list[str]
    archived: bool
    contacts: int


class Department(BaseModel):
    id: int
    name: str
    path: str
    parent_id: int | None
    state: str


class Status(BaseModel):
    id: int
    title: str
    state: str
    color: str
    is_default: bool
    archived: bool


class Priority(BaseModel):
    id: int
    title: str
    rank: int
    color: str
    is_default: bool


class PublicEntry(BaseModel):
    id: int
    type: Literal["message", "reply"]
    author: str
    date: datetime
    message: str
    attachments: list[str]


class PublicTicket(BaseModel):
    number: str
    subject: str
    status: str
    state: str
    department: str
    requester: str
    dates: Dates
    replies: list[PublicEntry]
