"""api keys; a client access key per ticket

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 13:00:00

The HTTP API authenticates with keys (stored as a sha256 of the key, found by their public prefix).
Each ticket gets a client access key, the `c` of the customer's read-only view; existing tickets get a
random one from the database's own generator (PostgreSQL's gen_random_uuid, SQLite's randomblob), so a
million-ticket desk is updated in one statement.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("prefix", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("key_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("last_used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_api_key_agent_id_agent")),
        sa.ForeignKeyConstraint(["created_by_id"], ["agent.id"], name=op.f("fk_api_key_created_by_id_agent")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_key_prefix")),
    )
    op.create_index(op.f("ix_api_key_agent_id"), "api_key", ["agent_id"], unique=False)
    with op.batch_alter_table("ticket") as batch:
        batch.add_column(sa.Column("client_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE ticket SET client_key = replace(gen_random_uuid()::text, '-', '')")
    else:
        op.execute("UPDATE ticket SET client_key = lower(hex(randomblob(16)))")


def downgrade() -> None:
    with op.batch_alter_table("ticket") as batch:
        batch.drop_column("client_key")
    op.drop_index(op.f("ix_api_key_agent_id"), table_name="api_key")
    op.drop_table("api_key")
