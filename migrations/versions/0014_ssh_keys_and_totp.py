"""ssh keys and totp secrets of agents

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 15:45:00

`helpdesk serve --ssh` lets an agent in with one of their public keys (found by its SHA256 fingerprint,
unique across agents) and, when they turned it on, a TOTP code.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ssh_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("algorithm", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("last_used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_ssh_key_agent_id_agent")),
        sa.ForeignKeyConstraint(["created_by_id"], ["agent.id"], name=op.f("fk_ssh_key_created_by_id_agent")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ssh_key")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_ssh_key_fingerprint")),
    )
    op.create_index(op.f("ix_ssh_key_agent_id"), "ssh_key", ["agent_id"], unique=False)
    op.create_table(
        "agent_totp",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("secret", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_step", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_agent_totp_agent_id_agent")),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_agent_totp")),
    )


def downgrade() -> None:
    op.drop_table("agent_totp")
    op.drop_index(op.f("ix_ssh_key_agent_id"), table_name="ssh_key")
    op.drop_table("ssh_key")
