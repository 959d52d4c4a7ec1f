"""knowledge base (categories, articles, attachments, full-text index), ticket deletion, audit indexes

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 16:00:00

Issue 14. The article index is kept by services/kb.py in the write's transaction (one document per
article: title, tags, body) and, like the tickets' index (0012), is not described by the models:
SQLite FTS5 `kb_fts` (rowid = article id, the same tokenizer as search_fts), PostgreSQL `kb_search`
(weighted tsvector over helpdesk_unaccent, GIN). A deleted ticket waits in ticket_deletion for the
worker's purge. The audit viewer filters by actor, action and time and pages by id. Roles holding
every permission (the seeded Supervisor) get kb.edit, as 0006 did for ticket.view_any.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

KB_EDIT = "kb.edit"
BEFORE = frozenset({
    "ticket.create", "ticket.reply", "ticket.edit", "ticket.assign", "ticket.release", "ticket.transfer",
    "ticket.close", "ticket.merge", "ticket.link", "ticket.delete", "ticket.archive", "ticket.view_any",
    "entry.edit_any",
})
role = sa.table("role", sa.column("id", sa.Integer), sa.column("permissions", sa.JSON))


def _permissions(value: object) -> list[str]:
    if isinstance(value, str):
        value = json.loads(value)
    return list(value or [])


def upgrade() -> None:
    op.create_table(
        "kb_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_category")),
        sa.UniqueConstraint("name", name=op.f("uq_kb_category_name")),
    )
    op.create_table(
        "kb_article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("slug", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("published_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["agent.id"], name=op.f("fk_kb_article_author_id_agent")),
        sa.ForeignKeyConstraint(
            ["category_id"], ["kb_category.id"], name=op.f("fk_kb_article_category_id_kb_category")
        ),
        sa.ForeignKeyConstraint(["updated_by_id"], ["agent.id"], name=op.f("fk_kb_article_updated_by_id_agent")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_article")),
        sa.UniqueConstraint("slug", name=op.f("uq_kb_article_slug")),
    )
    op.create_index(op.f("ix_kb_article_category_id"), "kb_article", ["category_id"], unique=False)
    op.create_index(op.f("ix_kb_article_published"), "kb_article", ["published"], unique=False)
    op.create_table(
        "kb_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("storage_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["kb_article.id"], name=op.f("fk_kb_attachment_article_id_kb_article")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_attachment")),
    )
    op.create_index(op.f("ix_kb_attachment_article_id"), "kb_attachment", ["article_id"], unique=False)
    op.create_table(
        "ticket_deletion",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("deleted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("deleted_by_id", sa.Integer(), nullable=True),
        sa.Column("purge_after", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["deleted_by_id"], ["agent.id"], name=op.f("fk_ticket_deletion_deleted_by_id_agent")),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], name=op.f("fk_ticket_deletion_ticket_id_ticket")),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_deletion")),
    )
    op.create_index(op.f("ix_ticket_deletion_purge_after"), "ticket_deletion", ["purge_after"], unique=False)
    op.create_index("ix_audit_at", "audit_log", ["at"], unique=False)
    op.create_index("ix_audit_actor_id", "audit_log", ["actor", "id"], unique=False)
    op.create_index("ix_audit_action_id", "audit_log", ["action", "id"], unique=False)

    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE kb_fts USING fts5(title, tags, body, "
            "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')"
        )
    else:
        conn.exec_driver_sql("CREATE TABLE kb_search (article_id integer PRIMARY KEY, doc tsvector NOT NULL)")
        conn.exec_driver_sql("CREATE INDEX ix_kb_search_doc ON kb_search USING gin (doc)")

    for role_id, value in conn.execute(sa.select(role.c.id, role.c.permissions)).all():
        perms = _permissions(value)
        if BEFORE <= set(perms) and KB_EDIT not in perms:
            conn.execute(role.update().where(role.c.id == role_id).values(permissions=[*perms, KB_EDIT]))


def downgrade() -> None:
    conn = op.get_bind()
    for role_id, value in conn.execute(sa.select(role.c.id, role.c.permissions)).all():
        perms = _permissions(value)
        if KB_EDIT in perms:
            conn.execute(role.update().where(role.c.id == role_id).values(permissions=[p for p in perms if p != KB_EDIT]))
    conn.exec_driver_sql("DROP TABLE IF EXISTS kb_fts" if conn.dialect.name == "sqlite" else "DROP TABLE IF EXISTS kb_search")
    op.drop_index("ix_audit_action_id", table_name="audit_log")
    op.drop_index("ix_audit_actor_id", table_name="audit_log")
    op.drop_index("ix_audit_at", table_name="audit_log")
    op.drop_index(op.f("ix_ticket_deletion_purge_after"), table_name="ticket_deletion")
    op.drop_table("ticket_deletion")
    op.drop_index(op.f("ix_kb_attachment_article_id"), table_name="kb_attachment")
    op.drop_table("kb_attachment")
    op.drop_index(op.f("ix_kb_article_published"), table_name="kb_article")
    op.drop_index(op.f("ix_kb_article_category_id"), table_name="kb_article")
    op.drop_table("kb_article")
    op.drop_table("kb_category")
