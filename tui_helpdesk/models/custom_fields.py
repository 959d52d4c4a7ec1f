"""Admin-defined fields (osTicket's forms) on tickets, contacts and organizations; an organization's assets.

The values themselves stay in each row's `custom_fields` JSON (the shape the API and the CLI already
show); `TicketFieldValue` repeats each ticket value in indexed columns so `cf.NAME:VALUE` filters are a
range scan, not a JSON scan over every ticket. services/custom_fields.py keeps it in step.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from ._base import created_field, json_field, text_field

FIELD_TYPES = ("text", "longtext", "number", "date", "choice", "multichoice", "checkbox", "contact", "url")
FIELD_TARGETS = ("ticket", "contact", "organization")


class CustomField(SQLModel, table=True):
    __tablename__ = "custom_field"
    __table_args__ = (UniqueConstraint("target", "name", name="uq_custom_field_target_name"),)
    id: int | None = Field(default=None, primary_key=True)
    target: str = Field(default="ticket", max_length=20)  # ticket | contact | organization
    # the variable: `cf.NAME` in filters, `%{ticket.custom.NAME}` in templates, the JSON key; never renamed
    name: str = Field(max_length=60)
    label: str = Field(max_length=100)
    help_text: str = text_field()
    type: str = Field(default="text", max_length=20)
    choices: list[str] = json_field(list)
    required_at_create: bool = Field(default=False)
    required_at_close: bool = Field(default=False)
    # where a ticket field applies; both empty: every ticket
    topic_ids: list[int] = json_field(list)
    department_ids: list[int] = json_field(list)
    sort_order: int = Field(default=0)
    active: bool = Field(default=True)
    created_at: datetime = created_field()


class TicketFieldValue(SQLModel, table=True):
    """One ticket value of one field, in columns an index can order (a multi-choice has one row per choice)."""

    __tablename__ = "ticket_field_value"
    __table_args__ = (
        Index("ix_ticket_field_value_text", "name", "text_value", "ticket_id"),
        Index("ix_ticket_field_value_num", "name", "num_value", "ticket_id"),
    )
    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    name: str = Field(max_length=60, primary_key=True)
    position: int = Field(default=0, primary_key=True)
    # case-folded text (dates as YYYY-MM-DD, so text order is date order)
    text_value: str = Field(default="", max_length=1000)
    num_value: float | None = None


class Asset(SQLModel, table=True):
    """Something a client owns that tickets are about (ITFlow's related asset): a laptop, a printer, a line."""

    __tablename__ = "asset"
    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    name: str = Field(max_length=200)
    type: str = Field(default="", max_length=60)
    serial: str = Field(default="", max_length=100)
    notes: str = text_field()
    created_at: datetime = created_field()


class TicketAsset(SQLModel, table=True):
    """The asset a ticket is about; a table of its own so the ticket table is not rebuilt (and may hold more)."""

    __tablename__ = "ticket_asset"
    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    asset_id: int = Field(foreign_key="asset.id", primary_key=True, index=True)
