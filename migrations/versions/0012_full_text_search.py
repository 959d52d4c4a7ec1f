"""full-text search over every ticket: subject, number, thread, requester, organization, tags

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 13:50:00

One document per ticket, kept in step by triggers in the same transaction as every write (any face,
the worker, a bulk import or a later migration's data fix: nothing can forget to call it). Columns
(SQLite) or weights (PostgreSQL) keep internal notes apart, so a customer-facing search leaves them out:
  head   A  number, its digits, subject
  people B  requester name and email, organization name
  tags   B  tag names
  public C  customer messages and public replies (not deleted)
  notes  D  internal notes (not deleted)
SQLite: FTS5 with unicode61 remove_diacritics 2 (cafe finds café) and prefix indexes for `word*`;
rowid is the ticket id, so newest-first is the index's own order. SQLite 3.40 has no contentless
delete, so the table keeps its text (a rewrite deletes by rowid, which never corrupts the index).
PostgreSQL: the 'simple' configuration over unaccent() when the server has the extension (else the
text as is), GIN index.

A batch migration that rebuilds `ticket` on SQLite drops its triggers: re-create them (call
create_sqlite_triggers from this module's text) in that migration.
From 0022 on the SQLite index has one row per entry and 0022's triggers: a later migration re-creates
0022's (its create_sqlite_triggers), never these.
"""

from __future__ import annotations

import sys
import time

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

BATCH = 20_000


# A ticket's thread includes the entries of the tickets merged into it (as the ticket screen shows them).
_THREAD = "(e.ticket_id = t.id OR e.ticket_id IN (SELECT m.id FROM ticket m WHERE m.merged_into_id = t.id))"
# the ticket an entry belongs to, and the one its ticket was merged into
_OWNERS = "t.id IN ({0}.ticket_id, (SELECT x.merged_into_id FROM ticket x WHERE x.id = {0}.ticket_id))"


def _doc_select(where: str) -> str:
    return f"""
SELECT t.id,
  t.number || ' ' || coalesce(t.number_seq, '') || ' ' || t.subject,
  coalesce(c.name, '') || ' ' || coalesce(c.email, '') || ' ' || coalesce(o.name, ''),
  coalesce((SELECT group_concat(g.name, ' ') FROM ticket_tag tt JOIN tag g ON g.id = tt.tag_id
            WHERE tt.ticket_id = t.id), ''),
  coalesce((SELECT group_concat(e.body, ' ') FROM ticket_entry e
            WHERE {_THREAD} AND e.kind <> 'note' AND e.deleted_at IS NULL), ''),
  coalesce((SELECT group_concat(e.body, ' ') FROM ticket_entry e
            WHERE {_THREAD} AND e.kind = 'note' AND e.deleted_at IS NULL), '')
FROM ticket t LEFT JOIN contact c ON c.id = t.contact_id LEFT JOIN organization o ON o.id = t.organization_id
WHERE {where}"""


def _sqlite_refresh(where: str) -> str:
    return (
        f"DELETE FROM search_fts WHERE rowid IN (SELECT t.id FROM ticket t WHERE {where});\n"
        f"INSERT INTO search_fts(rowid, head, people, tags, public, notes) {_doc_select(where)};"
    )


# (name, event, body) of every SQLite trigger.
SQLITE_TRIGGERS = (
    ("search_ticket_ai", "AFTER INSERT ON ticket", _sqlite_refresh("t.id = NEW.id")),
    (
        "search_ticket_au",
        "AFTER UPDATE OF number, number_seq, subject, contact_id, organization_id, merged_into_id ON ticket",
        _sqlite_refresh("t.id IN (NEW.id, OLD.merged_into_id, NEW.merged_into_id)"),
    ),
    ("search_ticket_ad", "AFTER DELETE ON ticket", "DELETE FROM search_fts WHERE rowid = OLD.id;"),
    ("search_entry_ai", "AFTER INSERT ON ticket_entry", _sqlite_refresh(_OWNERS.format("NEW"))),
    (
        "search_entry_au",
        "AFTER UPDATE OF body, kind, deleted_at, ticket_id ON ticket_entry",
        _sqlite_refresh(f"({_OWNERS.format('OLD')} OR {_OWNERS.format('NEW')})"),
    ),
    ("search_entry_ad", "AFTER DELETE ON ticket_entry", _sqlite_refresh(_OWNERS.format("OLD"))),
    ("search_tag_ai", "AFTER INSERT ON ticket_tag", _sqlite_refresh("t.id = NEW.ticket_id")),
    ("search_tag_ad", "AFTER DELETE ON ticket_tag", _sqlite_refresh("t.id = OLD.ticket_id")),
    (
        "search_tagname_au",
        "AFTER UPDATE OF name ON tag",
        _sqlite_refresh("t.id IN (SELECT ticket_id FROM ticket_tag WHERE tag_id = NEW.id)"),
    ),
    ("search_contact_au", "AFTER UPDATE OF name, email ON contact", _sqlite_refresh("t.contact_id = NEW.id")),
    ("search_org_au", "AFTER UPDATE OF name ON organization", _sqlite_refresh("t.organization_id = NEW.id")),
)


def create_sqlite_triggers(conn: sa.Connection) -> None:
    for name, event, body in SQLITE_TRIGGERS:
        conn.exec_driver_sql(f"CREATE TRIGGER {name} {event} BEGIN\n{body}\nEND")


def drop_sqlite_triggers(conn: sa.Connection) -> None:
    for name, _, _ in SQLITE_TRIGGERS:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


PG_FUNCTIONS = r"""
CREATE FUNCTION ticket_search_doc(tid integer) RETURNS tsvector LANGUAGE sql STABLE AS $$
SELECT setweight(to_tsvector('simple', helpdesk_unaccent(
           t.number || ' ' || coalesce(t.number_seq::text, '') || ' ' || t.subject)), 'A')
    || setweight(to_tsvector('simple', helpdesk_unaccent(
           coalesce(c.name, '') || ' ' || coalesce(c.email, '') || ' ' || coalesce(o.name, ''))), 'B')
    || setweight(to_tsvector('simple', helpdesk_unaccent(coalesce(
           (SELECT string_agg(g.name, ' ') FROM ticket_tag tt JOIN tag g ON g.id = tt.tag_id
            WHERE tt.ticket_id = t.id), ''))), 'B')
    || setweight(to_tsvector('simple', helpdesk_unaccent(coalesce(
           (SELECT string_agg(e.body, ' ' ORDER BY e.id) FROM ticket_entry e
            WHERE (e.ticket_id = t.id OR e.ticket_id IN (SELECT m.id FROM ticket m WHERE m.merged_into_id = t.id))
              AND e.kind <> 'note' AND e.deleted_at IS NULL), ''))), 'C')
    || setweight(to_tsvector('simple', helpdesk_unaccent(coalesce(
           (SELECT string_agg(e.body, ' ' ORDER BY e.id) FROM ticket_entry e
            WHERE (e.ticket_id = t.id OR e.ticket_id IN (SELECT m.id FROM ticket m WHERE m.merged_into_id = t.id))
              AND e.kind = 'note' AND e.deleted_at IS NULL), ''))), 'D')
FROM ticket t LEFT JOIN contact c ON c.id = t.contact_id LEFT JOIN organization o ON o.id = t.organization_id
WHERE t.id = tid
$$;

CREATE FUNCTION ticket_search_refresh(ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM ticket_search s WHERE s.ticket_id = ANY(ids)
    AND NOT EXISTS (SELECT 1 FROM ticket t WHERE t.id = s.ticket_id);
  INSERT INTO ticket_search(ticket_id, doc)
    SELECT t.id, ticket_search_doc(t.id) FROM ticket t WHERE t.id = ANY(ids)
  ON CONFLICT (ticket_id) DO UPDATE SET doc = EXCLUDED.doc;
END
$$;

CREATE FUNCTION ticket_search_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'ticket' THEN
    IF TG_OP = 'DELETE' THEN
      DELETE FROM ticket_search WHERE ticket_id = OLD.id;
    ELSIF TG_OP = 'INSERT' THEN
      PERFORM ticket_search_refresh(ARRAY[NEW.id]);
    ELSE
      PERFORM ticket_search_refresh(ARRAY[NEW.id, OLD.merged_into_id, NEW.merged_into_id]);
    END IF;
  ELSIF TG_TABLE_NAME = 'ticket_entry' THEN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
      PERFORM ticket_search_refresh(ARRAY[OLD.ticket_id,
        (SELECT merged_into_id FROM ticket WHERE id = OLD.ticket_id)]);
    END IF;
    IF TG_OP = 'INSERT' OR NEW.ticket_id <> OLD.ticket_id THEN
      PERFORM ticket_search_refresh(ARRAY[NEW.ticket_id,
        (SELECT merged_into_id FROM ticket WHERE id = NEW.ticket_id)]);
    END IF;
  ELSIF TG_TABLE_NAME = 'ticket_tag' THEN
    IF TG_OP = 'INSERT' THEN
      PERFORM ticket_search_refresh(ARRAY[NEW.ticket_id]);
    ELSIF TG_OP = 'DELETE' THEN
      PERFORM ticket_search_refresh(ARRAY[OLD.ticket_id]);
    ELSE
      PERFORM ticket_search_refresh(ARRAY[OLD.ticket_id, NEW.ticket_id]);
    END IF;
  ELSIF TG_TABLE_NAME = 'tag' THEN
    PERFORM ticket_search_refresh(ARRAY(SELECT ticket_id FROM ticket_tag WHERE tag_id = NEW.id));
  ELSIF TG_TABLE_NAME = 'contact' THEN
    PERFORM ticket_search_refresh(ARRAY(SELECT id FROM ticket WHERE contact_id = NEW.id));
  ELSIF TG_TABLE_NAME = 'organization' THEN
    PERFORM ticket_search_refresh(ARRAY(SELECT id FROM ticket WHERE organization_id = NEW.id));
  END IF;
  RETURN NULL;
END
$$;
"""

PG_TRIGGERS = (
    ("search_ticket_ai", "AFTER INSERT ON ticket"),
    (
        "search_ticket_au",
        "AFTER UPDATE OF number, number_seq, subject, contact_id, organization_id, merged_into_id ON ticket",
    ),
    ("search_ticket_ad", "AFTER DELETE ON ticket"),
    ("search_entry_aiud", "AFTER INSERT OR DELETE OR UPDATE OF body, kind, deleted_at, ticket_id ON ticket_entry"),
    ("search_tag_aid", "AFTER INSERT OR DELETE ON ticket_tag"),
    ("search_tagname_au", "AFTER UPDATE OF name ON tag"),
    ("search_contact_au", "AFTER UPDATE OF name, email ON contact"),
    ("search_org_au", "AFTER UPDATE OF name ON organization"),
)


def _progress(done: int, total: int, started: float) -> None:
    if total >= BATCH:
        print(f"\rindexing tickets for search: {done:,}/{total:,} ({time.perf_counter() - started:.0f} s)",
              end="" if done < total else "\n", file=sys.stderr, flush=True)


def _index_existing(conn: sa.Connection, insert_range: str) -> None:
    """Every existing ticket, in id ranges, with progress on stderr for big desks."""
    low, high, total = conn.exec_driver_sql("SELECT min(id), max(id), count(*) FROM ticket").one()
    if not total:
        return
    started, done = time.perf_counter(), 0
    for start in range(low, high + 1, BATCH):
        conn.exec_driver_sql(insert_range, (start, start + BATCH))
        done = min(total, done + BATCH)
        _progress(done, total, started)
    if done < total:
        _progress(total, total, started)


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE search_fts USING fts5(head, people, tags, public, notes, "
            "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')"
        )
        _index_existing(
            conn,
            "INSERT INTO search_fts(rowid, head, people, tags, public, notes) "
            + _doc_select("t.id >= ? AND t.id < ?"),
        )
        create_sqlite_triggers(conn)
        return
    has_unaccent = False
    if conn.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent'").first():
        try:
            with conn.begin_nested():
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
            has_unaccent = True
        except sa.exc.DBAPIError:
            print("search: the unaccent extension cannot be created here; accents are kept", file=sys.stderr)
    schema = conn.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'unaccent'"
    ).scalar()
    body = f"SELECT {schema}.unaccent('{schema}.unaccent'::regdictionary, $1)" if has_unaccent and schema else "SELECT $1"
    conn.exec_driver_sql(
        f"CREATE FUNCTION helpdesk_unaccent(text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ {body} $$"
    )
    conn.exec_driver_sql("CREATE TABLE ticket_search (ticket_id integer PRIMARY KEY, doc tsvector NOT NULL)")
    conn.exec_driver_sql(PG_FUNCTIONS)
    _index_existing(
        conn,
        "INSERT INTO ticket_search(ticket_id, doc) SELECT t.id, ticket_search_doc(t.id) FROM ticket t "
        "WHERE t.id >= %s AND t.id < %s",
    )
    # built after the load: one sort instead of a GIN insert per row
    conn.exec_driver_sql("CREATE INDEX ix_ticket_search_doc ON ticket_search USING gin (doc)")
    for name, event in PG_TRIGGERS:
        conn.exec_driver_sql(f"CREATE TRIGGER {name} {event} FOR EACH ROW EXECUTE FUNCTION ticket_search_trigger()")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        drop_sqlite_triggers(conn)
        conn.exec_driver_sql("DROP TABLE IF EXISTS search_fts")
        return
    for name, event in PG_TRIGGERS:
        table = event.rsplit(" ON ", 1)[1]
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    conn.exec_driver_sql("DROP FUNCTION IF EXISTS ticket_search_trigger()")
    conn.exec_driver_sql("DROP FUNCTION IF EXISTS ticket_search_refresh(integer[])")
    conn.exec_driver_sql("DROP FUNCTION IF EXISTS ticket_search_doc(integer)")
    conn.exec_driver_sql("DROP TABLE IF EXISTS ticket_search")
    conn.exec_driver_sql("DROP FUNCTION IF EXISTS helpdesk_unaccent(text)")
