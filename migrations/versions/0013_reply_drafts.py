"""reply drafts: an agent's unsent reply or note, kept across screens and runs

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 15:50:00

One row per agent, ticket and kind; the composer saves it as the agent writes and the ticket screen
restores it when the ticket is opened again (services/drafts.py).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reply_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("extras", sa.JSON(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agent.id"], name=op.f("fk_reply_draft_agent_id_agent")),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], name=op.f("fk_reply_draft_ticket_id_ticket")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_draft")),
        sa.UniqueConstraint("agent_id", "ticket_id", "kind", name=op.f("uq_reply_draft_agent_id")),
    )
    op.create_index(op.f("ix_reply_draft_agent_id"), "reply_draft", ["agent_id"], unique=False)
    op.create_index(op.f("ix_reply_draft_ticket_id"), "reply_draft", ["ticket_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_reply_draft_ticket_id"), table_name="reply_draft")
    op.drop_index(op.f("ix_reply_draft_agent_id"), table_name="reply_draft")
    op.drop_table("reply_draft")
