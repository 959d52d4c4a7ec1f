"""ticket number digits (lookup under any prefix), merged-into index, entry redaction

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('number_seq', sa.Integer(), nullable=True))
        batch_op.create_index('ix_ticket_number_seq', ['number_seq'], unique=False)
        batch_op.create_index('ix_ticket_merged_into', ['merged_into_id'], unique=False)
    # the digits after the prefix; a prefix holds letters, digits and _ only, so the first '-' ends it
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            "UPDATE ticket SET number_seq = CAST(split_part(number, '-', 2) AS INTEGER) "
            "WHERE split_part(number, '-', 2) ~ '^[0-9]{1,9}$'"
        )
    else:
        op.execute(
            "UPDATE ticket SET number_seq = CAST(substr(number, instr(number, '-') + 1) AS INTEGER) "
            "WHERE instr(number, '-') > 0 AND substr(number, instr(number, '-') + 1) NOT GLOB '*[^0-9]*' "
            "AND length(substr(number, instr(number, '-') + 1)) BETWEEN 1 AND 9"
        )
    with op.batch_alter_table('ticket_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redacted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('redacted_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f('fk_ticket_entry_redacted_by_id_agent'), 'agent', ['redacted_by_id'], ['id']
        )


def downgrade() -> None:
    with op.batch_alter_table('ticket_entry', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_ticket_entry_redacted_by_id_agent'), type_='foreignkey')
        batch_op.drop_column('redacted_by_id')
        batch_op.drop_column('redacted_at')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_merged_into')
        batch_op.drop_index('ix_ticket_number_seq')
        batch_op.drop_column('number_seq')
