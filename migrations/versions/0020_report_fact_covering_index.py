"""report facts: one covering index for the period ranges

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 16:35:00

At 1M tickets a 30-day range on (kind, at) found ~80k facts but read each one's row for its keys
(100-650 ms a figure, 2.4 s the whole F3 screen on a loaded machine); the index now carries every
column a figure reads, so a figure reads the index alone.
"""

from __future__ import annotations

from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

COLUMNS = ['kind', 'at', 'department_id', 'assignee_id', 'team_id', 'topic_id', 'organization_id', 'priority_id',
           'agent_id', 'n', 'minutes', 'sla_met']


def upgrade() -> None:
    op.create_index('ix_report_fact_period', 'report_fact', COLUMNS)
    op.drop_index('ix_report_fact_kind_at', table_name='report_fact')


def downgrade() -> None:
    op.create_index('ix_report_fact_kind_at', 'report_fact', ['kind', 'at'])
    op.drop_index('ix_report_fact_period', table_name='report_fact')
