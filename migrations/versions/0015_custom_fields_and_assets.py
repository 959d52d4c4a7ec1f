"""custom fields (definitions, indexed ticket values, contact/organization values) and organization assets

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 15:45:00

Ticket values already live in ticket.custom_fields; they are copied into ticket_field_value (case-folded
text, numbers) so existing desks can filter on them at once. Contacts and organizations get their own
JSON column (an ADD COLUMN with a default, so neither table is rebuilt). A ticket's asset is a row of
ticket_asset rather than a column, so the ticket table is not rebuilt on SQLite either.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'custom_field',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('help_text', sa.Text(), nullable=False),
        sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('choices', sa.JSON(), nullable=False),
        sa.Column('required_at_create', sa.Boolean(), nullable=False),
        sa.Column('required_at_close', sa.Boolean(), nullable=False),
        sa.Column('topic_ids', sa.JSON(), nullable=False),
        sa.Column('department_ids', sa.JSON(), nullable=False),
        sa.Column('sort_order', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_custom_field')),
        sa.UniqueConstraint('target', 'name', name='uq_custom_field_target_name'),
    )
    op.create_table(
        'ticket_field_value',
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('text_value', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column('num_value', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_ticket_field_value_ticket_id_ticket')),
        sa.PrimaryKeyConstraint('ticket_id', 'name', 'position', name=op.f('pk_ticket_field_value')),
    )
    op.create_index('ix_ticket_field_value_text', 'ticket_field_value', ['name', 'text_value', 'ticket_id'])
    op.create_index('ix_ticket_field_value_num', 'ticket_field_value', ['name', 'num_value', 'ticket_id'])
    op.create_table(
        'asset',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column('serial', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organization.id'],
                                name=op.f('fk_asset_organization_id_organization')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_asset')),
    )
    op.create_index(op.f('ix_asset_organization_id'), 'asset', ['organization_id'])
    op.create_table(
        'ticket_asset',
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('asset_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['asset_id'], ['asset.id'], name=op.f('fk_ticket_asset_asset_id_asset')),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_ticket_asset_ticket_id_ticket')),
        sa.PrimaryKeyConstraint('ticket_id', 'asset_id', name=op.f('pk_ticket_asset')),
    )
    op.create_index(op.f('ix_ticket_asset_asset_id'), 'ticket_asset', ['asset_id'])
    for table in ('contact', 'organization'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('custom_fields', sa.JSON(), nullable=False, server_default='{}'))
    _index_existing_values()


def _index_existing_values() -> None:
    bind = op.get_bind()
    # only tickets holding a value (a json column has no = on PostgreSQL, so compare its text)
    rows = bind.execute(sa.text(
        "SELECT id, custom_fields FROM ticket WHERE CAST(custom_fields AS TEXT) NOT IN ('{}', 'null')"
    )).fetchall()
    batch: list[dict] = []
    insert = sa.text("INSERT INTO ticket_field_value (ticket_id, name, position, text_value, num_value) "
                     "VALUES (:ticket_id, :name, :position, :text_value, :num_value)")
    for ticket_id, raw in rows:
        values = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(values, dict):
            continue
        for name, value in values.items():
            items = value if isinstance(value, list) else [value]
            for pos, item in enumerate(items):
                if item is None:
                    continue
                num = float(item) if isinstance(item, int | float) and not isinstance(item, bool) else None
                text = (str(item).lower() if not isinstance(item, bool) else ("yes" if item else "no"))[:1000]
                batch.append(dict(ticket_id=ticket_id, name=str(name)[:60], position=pos, text_value=text,
                                  num_value=num))
        if len(batch) >= 5000:
            bind.execute(insert, batch)
            batch = []
    if batch:
        bind.execute(insert, batch)


def downgrade() -> None:
    for table in ('organization', 'contact'):
        # a plain DROP COLUMN: a batch rebuild of organization trips the search index's triggers on SQLite
        op.execute(f'ALTER TABLE {table} DROP COLUMN custom_fields')
    op.drop_index(op.f('ix_ticket_asset_asset_id'), table_name='ticket_asset')
    op.drop_table('ticket_asset')
    op.drop_index(op.f('ix_asset_organization_id'), table_name='asset')
    op.drop_table('asset')
    op.drop_index('ix_ticket_field_value_num', table_name='ticket_field_value')
    op.drop_index('ix_ticket_field_value_text', table_name='ticket_field_value')
    op.drop_table('ticket_field_value')
    op.drop_table('custom_field')
