"""indexes for reading a thread a page at a time, in thread order

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 13:35:00

The ticket screen reads the newest page of a thread first and earlier pages as the agent scrolls up,
ordered by (created_at, id): without these a 5,000-entry ticket sorted every entry on each page.
"""

from __future__ import annotations

from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_entry_ticket_time", "ticket_entry", ["ticket_id", "created_at", "id"])
    op.create_index("ix_event_ticket_time", "ticket_event", ["ticket_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_event_ticket_time", table_name="ticket_event")
    op.drop_index("ix_entry_ticket_time", table_name="ticket_entry")
