"""What agents keep for reuse: saved queue views and canned responses."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from ._base import created_field, json_field, text_field


class SavedView(SQLModel, table=True):
    __tablename__ = "saved_view"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    owner_id: int | None = Field(default=None, foreign_key="agent.id", index=True)
    shared: bool = Field(default=False)
    query: str = Field(default="", max_length=1000)  # the filter line, e.g. "status:open dept:support"
    sort: str = Field(default="updated", max_length=20)
    columns: list[str] = json_field(list)
    sort_order: int = Field(default=0)
    created_at: datetime = created_field()


class CannedResponse(SQLModel, table=True):
    __tablename__ = "canned_response"
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    body: str = text_field()
    department_id: int | None = Field(default=None, foreign_key="department.id")
    owner_id: int | None = Field(default=None, foreign_key="agent.id")
    active: bool = Field(default=True)
    created_at: datetime = created_field()
