"""outbox: an alert to a whole department is one row until the sender splits it per agent

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02 00:30:00

A new ticket's alert to a department of 60 agents was 60 outbox rows written by the ingest in the
message's own transaction (a fifth of the IMAP worker's CPU a message). It is now one row in state
"fanout" whose ``fanout`` column names the agents; the sender turns it into their queued rows (each with
its own state, attempts and retries, as before) before it sends anything (services/outbound.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbound_message", sa.Column("fanout", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM outbound_message WHERE state = 'fanout'")  # nobody can read them any more
    with op.batch_alter_table("outbound_message") as batch:
        batch.drop_column("fanout")
