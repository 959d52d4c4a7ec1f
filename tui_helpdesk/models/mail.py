"""Mail in and out: mailboxes, the inbound journal, the outbox, templates, filters, bans."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, LargeBinary
from sqlmodel import Field, SQLModel

from ._base import created_field, json_field, text_field


class Mailbox(SQLModel, table=True):
    __tablename__ = "mailbox"
    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(max_length=320, unique=True)
    name: str = Field(default="", max_length=200)
    department_id: int | None = Field(default=None, foreign_key="department.id")
    priority_id: int | None = Field(default=None, foreign_key="priority.id")
    topic_id: int | None = Field(default=None, foreign_key="help_topic.id")
    imap_host: str = Field(default="", max_length=255)
    imap_port: int = Field(default=993)
    imap_security: str = Field(default="ssl", max_length=10)  # ssl | starttls | none
    imap_user: str = Field(default="", max_length=320)
    imap_password: str = Field(default="", max_length=500)
    folder: str = Field(default="INBOX", max_length=255)
    poll_seconds: int = Field(default=60)
    after_fetch: str = Field(default="seen", max_length=10)  # seen | move | delete
    move_to: str = Field(default="", max_length=255)
    smtp_host: str = Field(default="", max_length=255)
    smtp_port: int = Field(default=587)
    smtp_security: str = Field(default="starttls", max_length=10)
    smtp_user: str = Field(default="", max_length=320)
    smtp_password: str = Field(default="", max_length=500)
    active: bool = Field(default=True)
    uidvalidity: int | None = None
    last_uid: int = Field(default=0)
    last_polled_at: datetime | None = None
    last_error: str = text_field()


class InboundMessage(SQLModel, table=True):
    """The journal: raw bytes are stored before anything else happens to a message."""

    __tablename__ = "inbound_message"
    __table_args__ = (Index("ix_inbound_mailbox_uid", "mailbox_id", "uidvalidity", "uid"),)
    id: int | None = Field(default=None, primary_key=True)
    mailbox_id: int | None = Field(default=None, foreign_key="mailbox.id")
    uidvalidity: int | None = None
    uid: int | None = None
    message_id: str | None = Field(default=None, max_length=500, index=True)
    size: int = Field(default=0)  # of the raw bytes (InboundRaw), so lists and limits never read them
    received_at: datetime = created_field()
    state: str = Field(default="pending", max_length=20, index=True)  # pending|done|ignored|quarantined
    outcome: str = Field(default="", max_length=40)  # new_ticket|reply|bounce|auto_reply|duplicate|...
    reason: str = text_field()
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    entry_id: int | None = Field(default=None, foreign_key="ticket_entry.id")
    attempts: int = Field(default=0)
    processed_at: datetime | None = None
    server_done: bool = Field(default=False)  # flagged/moved/deleted on the IMAP server
    # the same bytes delivered again while this row is quarantined count here instead of a new row
    deliveries: int = Field(default=1)


class InboundRaw(SQLModel, table=True):
    """A journaled message's bytes, in a table of their own: a state change rewrites the journal row,
    and on SQLite a row holding 50 MB is read and written whole each time. Written once, read only by
    the ingest and by an admin who asks for them."""

    __tablename__ = "inbound_raw"
    journal_id: int = Field(
        sa_column=Column(Integer, ForeignKey("inbound_message.id", ondelete="CASCADE"), primary_key=True)
    )
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class OutboundMessage(SQLModel, table=True):
    __tablename__ = "outbound_message"
    __table_args__ = (
        Index("ix_outbound_due", "state", "next_attempt_at"),
        Index("ix_outbound_kind_created", "kind", "created_at"),
        # the autoresponse rate limit: one sender's messages of the last hour (0024)
        Index("ix_outbound_recipient_created", "recipient", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    entry_id: int | None = Field(default=None, foreign_key="ticket_entry.id")
    kind: str = Field(default="reply", max_length=40)
    mailbox_id: int | None = Field(default=None, foreign_key="mailbox.id")
    from_addr: str = Field(max_length=320)
    to_addrs: list[str] = json_field(list)
    cc_addrs: list[str] = json_field(list)
    # the one address a message to one person goes to (an autoresponse, an agent's alert), for the rate
    # limits; None when it goes to several
    recipient: str | None = Field(default=None, max_length=320)
    subject: str = Field(max_length=500)
    body: str = text_field()
    message_id: str = Field(max_length=500, index=True)
    in_reply_to: str | None = Field(default=None, max_length=500)
    references: str | None = text_field(None, nullable=True)
    headers: dict = json_field(dict)
    state: str = Field(default="queued", max_length=20)  # fanout | queued | sent | failed
    attempts: int = Field(default=0)
    next_attempt_at: datetime = created_field()
    last_error: str = text_field()
    created_at: datetime = created_field()
    sent_at: datetime | None = None
    # an alert to a whole department, queued as this one row (state "fanout") and split into one queued
    # row per agent by the sender (services/outbound.expand_fanouts): {"agents": [[email, name], ...],
    # "subject": ..., "marks": {...}}, the body holding the marks where each agent's name and address go
    fanout: dict | None = Field(default=None, sa_column=Column(JSON(none_as_null=True), nullable=True))


class EmailTemplate(SQLModel, table=True):
    __tablename__ = "email_template"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=60)  # e.g. autoresponse.new_ticket
    department_id: int | None = Field(default=None, foreign_key="department.id")
    subject: str = Field(max_length=500)
    body: str = text_field()
    active: bool = Field(default=True)


class TicketFilter(SQLModel, table=True):
    """A rule applied to arriving mail: conditions on headers and body, then actions."""

    __tablename__ = "ticket_filter"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    sort_order: int = Field(default=0)
    match_all: bool = Field(default=True)
    conditions: list[dict] = json_field(list)  # [{"field": "from", "op": "contains", "value": "..."}]
    actions: dict = json_field(dict)  # {"department": "...", "priority": "...", "reject": true, ...}
    stop_on_match: bool = Field(default=False)
    active: bool = Field(default=True)


class BanRule(SQLModel, table=True):
    __tablename__ = "ban_rule"
    id: int | None = Field(default=None, primary_key=True)
    pattern: str = Field(max_length=320, unique=True)  # an address or @domain
    note: str = Field(default="", max_length=255)
    created_at: datetime = created_field()
