"""report facts and backlog counters

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 16:00:00

Issue 14 (dashboard and reports): every figure for 30 days must take under a second at 1M tickets, so
the reports read one fact row per thing that happened (created, closed, reopened, first response,
reply, backlog move) by (kind, at), and the backlog per breakdown key from counters, both kept by the
services in every write (services/report_facts.py). They start from the rows already there (about a
minute at 1M tickets on SQLite): durations of past tickets in calendar minutes.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'report_fact',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('assignee_id', sa.Integer(), nullable=True),
        sa.Column('team_id', sa.Integer(), nullable=True),
        sa.Column('topic_id', sa.Integer(), nullable=True),
        sa.Column('organization_id', sa.Integer(), nullable=True),
        sa.Column('priority_id', sa.Integer(), nullable=True),
        sa.Column('agent_id', sa.Integer(), nullable=True),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('minutes', sa.Integer(), nullable=True),
        sa.Column('sla_met', sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_fact')),
    )
    op.create_table(
        'report_backlog',
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('assignee_id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('topic_id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('priority_id', sa.Integer(), nullable=False),
        sa.Column('is_overdue', sa.Boolean(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            'department_id', 'assignee_id', 'team_id', 'topic_id', 'organization_id', 'priority_id', 'is_overdue',
            name=op.f('pk_report_backlog'),
        ),
    )
    # the one place that derives facts from tickets, entries and events (the services' rebuild)
    from tui_helpdesk.services.report_facts import rebuild

    rebuild(op.get_bind())
    op.create_index('ix_report_fact_kind_at', 'report_fact', ['kind', 'at'])


def downgrade() -> None:
    op.drop_index('ix_report_fact_kind_at', table_name='report_fact')
    op.drop_table('report_backlog')
    op.drop_table('report_fact')
