"""a journaled message's raw bytes move to a table of their own

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 15:50:00

Every state change of a journal row (processing, attempts, server_done) rewrote the whole row, and on
SQLite a row carrying a 50 MB message is read and written whole each time (one `helpdesk ingest` of a
51 MB message peaked at 312 MB). The bytes now sit in `inbound_raw`, written once; the journal row keeps
their size, so lists and the size limit never read them. Existing rows are moved over.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_raw",
        sa.Column("journal_id", sa.Integer(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["journal_id"], ["inbound_message.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("journal_id"),
    )
    op.execute("INSERT INTO inbound_raw (journal_id, raw) SELECT id, raw FROM inbound_message")
    # one rebuild of the table (SQLite), and the sizes filled in once the rows no longer carry the bytes
    with op.batch_alter_table("inbound_message") as batch:
        batch.add_column(sa.Column("size", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_column("raw")
    op.execute(
        "UPDATE inbound_message SET size = "
        "coalesce((SELECT length(inbound_raw.raw) FROM inbound_raw"
        " WHERE inbound_raw.journal_id = inbound_message.id), 0)"
    )


def downgrade() -> None:
    with op.batch_alter_table("inbound_message") as batch:
        batch.add_column(sa.Column("raw", sa.LargeBinary(), nullable=False, server_default=""))
    op.execute(
        "UPDATE inbound_message SET raw = "
        "(SELECT inbound_raw.raw FROM inbound_raw WHERE inbound_raw.journal_id = inbound_message.id)"
    )
    with op.batch_alter_table("inbound_message") as batch:
        batch.drop_column("size")
    op.drop_table("inbound_raw")
