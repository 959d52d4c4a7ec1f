"""time entries get a work date, a version and an invoice; hourly rates and invoices

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 15:40:00

Issue 14 (ITFlow invoicing): time is reported and invoiced by the day it was worked; an entry an
invoice bills carries its invoice_id, which locks it. Existing entries worked on the day they were logged.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'billing_rate',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=True),
        sa.Column('agent_id', sa.Integer(), nullable=True),
        sa.Column('hourly_cents', sa.Integer(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], name=op.f('fk_billing_rate_agent_id_agent')),
        sa.ForeignKeyConstraint(
            ['organization_id'], ['organization.id'], name=op.f('fk_billing_rate_organization_id_organization')
        ),
        sa.ForeignKeyConstraint(['updated_by_id'], ['agent.id'], name=op.f('fk_billing_rate_updated_by_id_agent')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_rate')),
    )
    op.create_index('ix_billing_rate_org_agent', 'billing_rate', ['organization_id', 'agent_id'])
    op.create_table(
        'invoice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('period_from', sa.Date(), nullable=True),
        sa.Column('period_to', sa.Date(), nullable=False),
        sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column('total_minutes', sa.Integer(), nullable=False),
        sa.Column('total_cents', sa.Integer(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['agent.id'], name=op.f('fk_invoice_created_by_id_agent')),
        sa.ForeignKeyConstraint(
            ['organization_id'], ['organization.id'], name=op.f('fk_invoice_organization_id_organization')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice')),
        sa.UniqueConstraint('number', name=op.f('uq_invoice_number')),
    )
    op.create_index('ix_invoice_org', 'invoice', ['organization_id', 'id'])
    op.create_table(
        'invoice_line',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('invoice_id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=False),
        sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('minutes', sa.Integer(), nullable=False),
        sa.Column('hourly_cents', sa.Integer(), nullable=False),
        sa.Column('amount_cents', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['agent_id'], ['agent.id'], name=op.f('fk_invoice_line_agent_id_agent')),
        sa.ForeignKeyConstraint(['invoice_id'], ['invoice.id'], name=op.f('fk_invoice_line_invoice_id_invoice')),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_invoice_line_ticket_id_ticket')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_line')),
    )
    op.create_index(op.f('ix_invoice_line_invoice_id'), 'invoice_line', ['invoice_id'])
    with op.batch_alter_table('time_entry') as batch:
        batch.add_column(sa.Column('work_date', sa.Date(), nullable=True))
        batch.add_column(sa.Column('invoice_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
        batch.add_column(sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('updated_by_id', sa.Integer(), nullable=True))
    # date() is a function on SQLite and a cast written as a call on PostgreSQL: the day it was logged
    op.execute("UPDATE time_entry SET work_date = date(created_at)")
    with op.batch_alter_table('time_entry') as batch:
        batch.alter_column('work_date', existing_type=sa.Date(), nullable=False)
        batch.alter_column('version', existing_type=sa.Integer(), server_default=None)
        batch.create_foreign_key(
            op.f('fk_time_entry_invoice_id_invoice'), 'invoice', ['invoice_id'], ['id']
        )
        batch.create_foreign_key(
            op.f('fk_time_entry_updated_by_id_agent'), 'agent', ['updated_by_id'], ['id']
        )
        batch.create_index('ix_time_entry_work_date', ['work_date', 'ticket_id'])
        batch.create_index('ix_time_entry_invoice', ['invoice_id'])


def downgrade() -> None:
    with op.batch_alter_table('time_entry') as batch:
        batch.drop_index('ix_time_entry_invoice')
        batch.drop_index('ix_time_entry_work_date')
        batch.drop_constraint(op.f('fk_time_entry_updated_by_id_agent'), type_='foreignkey')
        batch.drop_constraint(op.f('fk_time_entry_invoice_id_invoice'), type_='foreignkey')
        batch.drop_column('updated_by_id')
        batch.drop_column('updated_at')
        batch.drop_column('version')
        batch.drop_column('invoice_id')
        batch.drop_column('work_date')
    op.drop_index(op.f('ix_invoice_line_invoice_id'), table_name='invoice_line')
    op.drop_table('invoice_line')
    op.drop_index('ix_invoice_org', table_name='invoice')
    op.drop_table('invoice')
    op.drop_index('ix_billing_rate_org_agent', table_name='billing_rate')
    op.drop_table('billing_rate')
