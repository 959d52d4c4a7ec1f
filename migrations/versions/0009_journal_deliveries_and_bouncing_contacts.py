"""journal rows count re-deliveries; contacts remember that mail to them bounced

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 13:10:00

A quarantined message delivered again (an MTA retrying, an IMAP folder re-read) was journaled once per
delivery; now the one row counts them (existing rows: 1). A bounce names its failed recipient; the
recipient's contact keeps when and why (empty for every existing contact).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_message") as batch:
        batch.add_column(sa.Column("deliveries", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("contact") as batch:
        batch.add_column(sa.Column("bounced_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column(
                "bounce_status", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default=""
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("contact") as batch:
        batch.drop_column("bounce_status")
        batch.drop_column("bounced_at")
    with op.batch_alter_table("inbound_message") as batch:
        batch.drop_column("deliveries")
