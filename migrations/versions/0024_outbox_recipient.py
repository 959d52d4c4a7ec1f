"""outbox: the one recipient of a message to one person, indexed with its time

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01 22:20:00

The autoresponse rate limit (services/outbound.py) counted a sender's autoresponses of the last hour by
reading every autoresponse of that hour (ix_outbound_kind_created) and matching the address in the JSON
text: at 50 messages a second that is some 180,000 rows read for each arriving message. The new column
holds the address of a message to one person, and (recipient, created_at) finds one sender's hour
directly. The autoresponses of the last day are filled in (older ones are outside every limit's window).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

KINDS = "('autoresponse.new_ticket', 'autoresponse.new_message')"


def upgrade() -> None:
    with op.batch_alter_table("outbound_message") as batch:
        batch.add_column(sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True))
    op.create_index("ix_outbound_recipient_created", "outbound_message", ["recipient", "created_at"])
    since = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=1)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(
            "UPDATE outbound_message SET recipient = lower(to_addrs->>0) "
            f"WHERE kind IN {KINDS} AND created_at >= :since AND json_array_length(to_addrs) = 1"
        ).bindparams(since=since.replace(tzinfo=UTC)))
    else:
        op.execute(sa.text(
            "UPDATE outbound_message SET recipient = lower(json_extract(to_addrs, '$[0]')) "
            f"WHERE kind IN {KINDS} AND created_at >= :since AND json_array_length(to_addrs) = 1"
        ).bindparams(since=since.strftime("%Y-%m-%d %H:%M:%S.%f")))


def downgrade() -> None:
    op.drop_index("ix_outbound_recipient_created", table_name="outbound_message")
    with op.batch_alter_table("outbound_message") as batch:
        batch.drop_column("recipient")
