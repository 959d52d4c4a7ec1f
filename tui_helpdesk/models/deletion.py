"""Tickets deleted by an agent and waiting for the worker to purge them after the retention period."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from ._base import created_field


class TicketDeletion(SQLModel, table=True):
    """A deleted ticket is archived (out of every queue) and listed here until `purge_after`; restoring
    it takes it off the list. The purge removes the ticket, this row and its attachment files."""

    __tablename__ = "ticket_deletion"
    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    deleted_at: datetime = created_field()
    deleted_by_id: int | None = Field(default=None, foreign_key="agent.id")
    purge_after: datetime = Field(index=True)
