"""roles holding every permission get ticket.view_any

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:50:00

ticket.view_any (find any ticket by its number, outside the agent's scope) is new. A new desk's Supervisor
role has it (it holds every permission); a role that held every permission before this revision (the
Supervisor role as seeded) keeps holding every permission of that kind. Other roles, Agent among them,
are left as the admin made them.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

VIEW_ANY = "ticket.view_any"
BEFORE = frozenset({
    "ticket.create", "ticket.reply", "ticket.edit", "ticket.assign", "ticket.release", "ticket.transfer",
    "ticket.close", "ticket.merge", "ticket.link", "ticket.delete", "ticket.archive",
})

role = sa.table("role", sa.column("id", sa.Integer), sa.column("permissions", sa.JSON))


def _permissions(value: object) -> list[str]:
    if isinstance(value, str):  # a JSON column read as text by a driver that does not decode it
        value = json.loads(value)
    return list(value or [])


def upgrade() -> None:
    bind = op.get_bind()
    for role_id, value in bind.execute(sa.select(role.c.id, role.c.permissions)).all():
        perms = _permissions(value)
        if BEFORE <= set(perms) and VIEW_ANY not in perms:
            bind.execute(role.update().where(role.c.id == role_id).values(permissions=[*perms, VIEW_ANY]))


def downgrade() -> None:
    bind = op.get_bind()
    for role_id, value in bind.execute(sa.select(role.c.id, role.c.permissions)).all():
        perms = _permissions(value)
        if VIEW_ANY in perms:
            bind.execute(
                role.update().where(role.c.id == role_id).values(permissions=[p for p in perms if p != VIEW_ANY])
            )
