"""search: a ticket's PostgreSQL document stays within the 1 MB a tsvector may hold

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 17:05:00

0012 joins every entry of a ticket into one tsvector. PostgreSQL refuses a tsvector over 1 MB
("string is too long for tsvector"), so one long body of distinct words (a log pasted into a reply, a
capped 1 MB mail body) failed the write that triggered the refresh: the agent's reply was refused and
the customer's mail quarantined. The document now falls back to the start of the thread's text when the
whole does not fit; the ticket stays findable by its head, people, tags and the first words of its
thread. SQLite's FTS5 has no such limit and is unchanged.
"""

from __future__ import annotations

from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

NO_CAP = 2147483647

# 0012's document, with the two joined thread texts cut at {cap} characters.
DOC = r"""
SELECT setweight(to_tsvector('simple', helpdesk_unaccent(
           t.number || ' ' || coalesce(t.number_seq::text, '') || ' ' || t.subject)), 'A')
    || setweight(to_tsvector('simple', helpdesk_unaccent(
           coalesce(c.name, '') || ' ' || coalesce(c.email, '') || ' ' || coalesce(o.name, ''))), 'B')
    || setweight(to_tsvector('simple', helpdesk_unaccent(coalesce(
           (SELECT string_agg(g.name, ' ') FROM ticket_tag tt JOIN tag g ON g.id = tt.tag_id
            WHERE tt.ticket_id = t.id), ''))), 'B')
    || setweight(to_tsvector('simple', helpdesk_unaccent(left(coalesce(
           (SELECT string_agg(e.body, ' ' ORDER BY e.id) FROM ticket_entry e
            WHERE (e.ticket_id = t.id OR e.ticket_id IN (SELECT m.id FROM ticket m WHERE m.merged_into_id = t.id))
              AND e.kind <> 'note' AND e.deleted_at IS NULL), ''), {cap}))), 'C')
    || setweight(to_tsvector('simple', helpdesk_unaccent(left(coalesce(
           (SELECT string_agg(e.body, ' ' ORDER BY e.id) FROM ticket_entry e
            WHERE (e.ticket_id = t.id OR e.ticket_id IN (SELECT m.id FROM ticket m WHERE m.merged_into_id = t.id))
              AND e.kind = 'note' AND e.deleted_at IS NULL), ''), {cap}))), 'D')
FROM ticket t LEFT JOIN contact c ON c.id = t.contact_id LEFT JOIN organization o ON o.id = t.organization_id
WHERE t.id = tid
"""

UPGRADE = (
    "CREATE FUNCTION ticket_search_doc_within(tid integer, cap integer) RETURNS tsvector "
    "LANGUAGE sql STABLE AS $$" + DOC.format(cap="cap") + "$$;\n"
    + r"""
CREATE OR REPLACE FUNCTION ticket_search_doc(tid integer) RETURNS tsvector LANGUAGE plpgsql STABLE AS $$
DECLARE
  cap integer := """ + str(NO_CAP) + r""";
BEGIN
  LOOP
    BEGIN
      RETURN ticket_search_doc_within(tid, cap);
    EXCEPTION WHEN program_limit_exceeded THEN
      -- over the 1 MB of a tsvector: keep the start of each thread text, smaller until it fits
      IF cap < 1000 THEN
        RAISE;
      END IF;
      cap := CASE WHEN cap = """ + str(NO_CAP) + r""" THEN 200000 ELSE cap / 4 END;
    END;
  END LOOP;
END
$$;
"""
)

DOWNGRADE = (
    "CREATE OR REPLACE FUNCTION ticket_search_doc(tid integer) RETURNS tsvector LANGUAGE sql STABLE AS $$"
    + DOC.format(cap=NO_CAP) + "$$;\nDROP FUNCTION ticket_search_doc_within(integer, integer);"
)


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(UPGRADE)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(DOWNGRADE)
