"""Keys the HTTP API authenticates with: each one acts as its agent. Only a hash of the key is stored."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from ._base import created_field


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"
    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", index=True)
    name: str = Field(default="", max_length=100)
    # the key's public part, shown in lists and used to find the row; the secret part is only hashed
    prefix: str = Field(max_length=20, unique=True)
    key_hash: str = Field(max_length=64)  # sha256 hex of the whole key
    created_at: datetime = created_field()
    created_by_id: int | None = Field(default=None, foreign_key="agent.id")
    last_used_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
