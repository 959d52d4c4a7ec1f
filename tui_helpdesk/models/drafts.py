"""Drafts: what an agent was writing on a ticket and has not sent yet, kept across screens and runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from ._base import created_field, json_field, text_field


class ReplyDraft(SQLModel, table=True):
    """One unsent reply or note per agent, ticket and kind; `extras` holds the composer's other fields
    (time spent, CC, files to attach, the status to set, resolution notes)."""

    __tablename__ = "reply_draft"
    __table_args__ = (UniqueConstraint("agent_id", "ticket_id", "kind"),)
    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", index=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    kind: str = Field(max_length=10)  # "reply" | "note"
    body: str = text_field()
    extras: dict = json_field(dict)
    updated_at: datetime = created_field()
