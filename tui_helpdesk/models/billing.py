"""Billing: hourly rates and invoices of tracked time (ITFlow's invoicing).

Money is kept in integer cents; an invoice line's amount is computed once, from minutes and the rate,
and stored, so a later rate change never alters an issued invoice.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from ._base import created_field


class BillingRate(SQLModel, table=True):
    """An hourly rate: for an organization, an agent, both, or neither (the desk's default).

    The most specific row wins: organization and agent, then organization, then agent, then default."""

    __tablename__ = "billing_rate"
    __table_args__ = (Index("ix_billing_rate_org_agent", "organization_id", "agent_id"),)
    id: int | None = Field(default=None, primary_key=True)
    organization_id: int | None = Field(default=None, foreign_key="organization.id")
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    hourly_cents: int
    updated_at: datetime = created_field()
    updated_by_id: int | None = Field(default=None, foreign_key="agent.id")


class Invoice(SQLModel, table=True):
    __tablename__ = "invoice"
    __table_args__ = (Index("ix_invoice_org", "organization_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=40, unique=True)
    organization_id: int = Field(foreign_key="organization.id")
    period_from: date | None = None
    period_to: date
    currency: str = Field(max_length=3)
    total_minutes: int = Field(default=0)
    total_cents: int = Field(default=0)
    created_at: datetime = created_field()
    created_by_id: int | None = Field(default=None, foreign_key="agent.id")


class InvoiceLine(SQLModel, table=True):
    """The billable time of one ticket by one agent on an invoice (one rate applies to it)."""

    __tablename__ = "invoice_line"
    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    agent_id: int = Field(foreign_key="agent.id")
    description: str = Field(max_length=500)
    minutes: int
    hourly_cents: int
    amount_cents: int
