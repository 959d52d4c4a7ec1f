"""search: PostgreSQL's document rebuild reads a ticket's thread by index

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 21:30:00

0021's ticket_search_doc_within() picked the thread with `e.ticket_id = t.id OR e.ticket_id IN (the
tickets merged into t)`: an OR across two sets PostgreSQL cannot answer from ix_entry_ticket, so every
rebuild (an entry edited or deleted, a merge, a tag or subject change, the 1 MB fallback of an append)
read all 5M entries of a 1M desk. The thread is now a UNION ALL of the ticket's own entries and its
merged children's (ix_ticket_merged_into, then ix_entry_ticket), each an index lookup. The document is
the same: the same entries in the same order (by entry id), the same weights and the same cap.
SQLite is unchanged (its index holds a row per entry since 0022).
"""

from __future__ import annotations

from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def _thread(kind: str) -> str:
    """The text of ticket t's thread entries of `kind` (an SQL condition on e.kind), merged ones included."""
    return (
        "(SELECT string_agg(x.body, ' ' ORDER BY x.id) FROM ("
        f"SELECT e.id, e.body FROM ticket_entry e WHERE e.ticket_id = t.id AND {kind} AND e.deleted_at IS NULL "
        "UNION ALL "
        "SELECT e.id, e.body FROM ticket m JOIN ticket_entry e ON e.ticket_id = m.id "
        f"WHERE m.merged_into_id = t.id AND {kind} AND e.deleted_at IS NULL) x)"
    )


DOC = r"""
SELECT setweight(to_tsvector('simple', helpdesk_unaccent(
           t.number || ' ' || coalesce(t.number_seq::text, '') || ' ' || t.subject)), 'A')
    || setweight(to_tsvector('simple', helpdesk_unaccent(
           coalesce(c.name, '') || ' ' || coalesce(c.email, '') || ' ' || coalesce(o.name, ''))), 'B')
    || setweight(to_tsvector('simple', helpdesk_unaccent(coalesce(
           (SELECT string_agg(g.name, ' ') FROM ticket_tag tt JOIN tag g ON g.id = tt.tag_id
            WHERE tt.ticket_id = t.id), ''))), 'B')
    || setweight(to_tsvector('simple', helpdesk_unaccent(left(coalesce(""" + _thread("e.kind <> 'note'") + r""",
           ''), cap))), 'C')
    || setweight(to_tsvector('simple', helpdesk_unaccent(left(coalesce(""" + _thread("e.kind = 'note'") + r""",
           ''), cap))), 'D')
FROM ticket t LEFT JOIN contact c ON c.id = t.contact_id LEFT JOIN organization o ON o.id = t.organization_id
WHERE t.id = tid
"""


def _function(doc: str) -> str:
    return (
        "CREATE OR REPLACE FUNCTION ticket_search_doc_within(tid integer, cap integer) RETURNS tsvector "
        "LANGUAGE sql STABLE AS $$" + doc + "$$;"
    )


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(_function(DOC))


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        from importlib.util import module_from_spec, spec_from_file_location
        from pathlib import Path

        path = Path(__file__).with_name("0021_search_doc_within_tsvector_limit.py")
        spec = spec_from_file_location("_search_0021", path)
        assert spec is not None and spec.loader is not None
        old = module_from_spec(spec)
        spec.loader.exec_module(old)
        conn.exec_driver_sql(_function(old.DOC.format(cap="cap")))
