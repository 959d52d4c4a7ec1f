"""roles holding every permission get entry.edit_any; closed tickets lose the reopened flag

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:00:00

entry.edit_any (edit or delete others' replies and notes) is new. As with ticket.view_any in 0006, a role
that held every permission (the Supervisor role as seeded) keeps holding every permission; the Agent role
and the admin's own roles are left as they are. Closing a ticket now clears its reopened flag; tickets
closed before carry the stale flag, cleared here.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

EDIT_ANY = "entry.edit_any"
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
        if BEFORE <= set(perms) and EDIT_ANY not in perms:
            bind.execute(role.update().where(role.c.id == role_id).values(permissions=[*perms, EDIT_ANY]))
    op.execute("UPDATE ticket SET reopened = false WHERE state = 'closed' AND reopened = true")


def downgrade() -> None:
    bind = op.get_bind()
    for role_id, value in bind.execute(sa.select(role.c.id, role.c.permissions)).all():
        perms = _permissions(value)
        if EDIT_ANY in perms:
            bind.execute(
                role.update().where(role.c.id == role_id).values(permissions=[p for p in perms if p != EDIT_ANY])
            )
