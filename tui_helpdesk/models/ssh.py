"""What the SSH face (`helpdesk serve --ssh`) authenticates with: an agent's public keys and their TOTP
second factor. Public keys are public: they are kept whole, found by their SHA256 fingerprint."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from ._base import created_field, text_field


class SshKey(SQLModel, table=True):
    __tablename__ = "ssh_key"
    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id", index=True)
    # OpenSSH's `SHA256:...` form; unique, so a key names one agent and a login finds it by index
    fingerprint: str = Field(max_length=100, unique=True)
    algorithm: str = Field(max_length=50)
    public_key: str = text_field()  # the `type base64` line, without the comment
    comment: str = Field(default="", max_length=200)
    created_at: datetime = created_field()
    created_by_id: int | None = Field(default=None, foreign_key="agent.id")
    last_used_at: datetime | None = None


class AgentTotp(SQLModel, table=True):
    """An agent's TOTP secret (RFC 6238); the row exists while the second factor is on."""

    __tablename__ = "agent_totp"
    agent_id: int = Field(foreign_key="agent.id", primary_key=True)
    secret: str = Field(max_length=64)  # base32
    created_at: datetime = created_field()
    # the last time step a code was accepted for: a code seen once is not accepted again
    last_step: int = Field(default=0)
