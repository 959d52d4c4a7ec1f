"""search: an entry costs the index that entry only (one FTS5 row per entry; a PostgreSQL tsvector appended to)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 19:00:00

0012 kept one document per ticket and rebuilt it on every write: a reply re-read and re-tokenized the
whole thread twice (the old row out, the new one in), so its cost grew with the ticket (a 500-entry
ticket's reply paid for 500 entries).

SQLite: search_fts keeps its columns (head, people, tags, public, notes), but holds one row per ticket
(its head, people and tags) and one per thread entry (its body in public or notes). The rowid is
ticket id * 2^32 + (0 for the ticket's row, else the entry id), so the index's own order is still the
tickets' order and a ticket's rows are one rowid range. A merged ticket's entries also get rows under
the ticket it was merged into (the thread the ticket screen shows). services/search.py joins the rows of
a ticket: every word must occur in some row of it. Adding an entry inserts one row; editing or
deleting one rewrites that row; tags, requester, organization and subject rewrite the ticket's row.
Ticket ids must stay below 2^31 and entry ids below 2^32 (the rowid is a signed 64-bit integer).

PostgreSQL: the document stays one tsvector per ticket (one GIN lookup per word), and a new entry is
appended to it (`doc || to_tsvector(body)`) instead of rebuilt from the thread; an append that would
pass the 1 MB a tsvector holds falls back to 0021's capped rebuild. Edits, deletions and merges still
rebuild, as before.

Existing SQLite desks are re-indexed here, with progress on stderr. A batch migration that rebuilds
`ticket` or `ticket_entry` on SQLite drops their triggers: call create_sqlite_triggers from this module.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

BATCH = 20_000
S = 4294967296  # 2^32: rowid = ticket id * S + slot

_HEAD = "t.number || ' ' || coalesce(t.number_seq, '') || ' ' || t.subject"
_PEOPLE = "coalesce(c.name, '') || ' ' || coalesce(c.email, '') || ' ' || coalesce(o.name, '')"
_TAGS = ("(SELECT group_concat(g.name, ' ') FROM ticket_tag tt JOIN tag g ON g.id = tt.tag_id "
         "WHERE tt.ticket_id = t.id)")


def _head_rows(where: str) -> str:
    """The ticket rows (slot 0) of the tickets `t` matching `where`."""
    return (
        f"DELETE FROM search_fts WHERE rowid IN (SELECT t.id * {S} FROM ticket t WHERE {where});\n"
        f"INSERT INTO search_fts(rowid, head, people, tags) SELECT t.id * {S}, {_HEAD}, {_PEOPLE}, {_TAGS} "
        "FROM ticket t LEFT JOIN contact c ON c.id = t.contact_id "
        f"LEFT JOIN organization o ON o.id = t.organization_id WHERE {where};"
    )


def _owners(e: str) -> str:
    """The tickets whose thread shows entry `e`: its own and the one its ticket was merged into."""
    return f"o.id IN ({e}.ticket_id, (SELECT x.merged_into_id FROM ticket x WHERE x.id = {e}.ticket_id))"


def _entry_in(e: str) -> str:
    return (
        f"INSERT INTO search_fts(rowid, public, notes) SELECT o.id * {S} + {e}.id, "
        f"CASE WHEN {e}.kind <> 'note' THEN {e}.body END, CASE WHEN {e}.kind = 'note' THEN {e}.body END "
        f"FROM ticket o WHERE {_owners(e)} AND {e}.deleted_at IS NULL;"
    )


def _entry_out(e: str) -> str:
    return f"DELETE FROM search_fts WHERE rowid IN (SELECT o.id * {S} + {e}.id FROM ticket o WHERE {_owners(e)});"


def _merged_entries(parent: str, child: str) -> str:
    """(rowid, public, notes) of child ticket `child`'s entries under `parent`."""
    return (
        f"SELECT {parent} * {S} + e.id, CASE WHEN e.kind <> 'note' THEN e.body END, "
        f"CASE WHEN e.kind = 'note' THEN e.body END FROM ticket_entry e "
        f"WHERE e.ticket_id = {child} AND e.deleted_at IS NULL"
    )


# (name, event, body) of every SQLite trigger.
SQLITE_TRIGGERS = (
    ("search_ticket_ai", "AFTER INSERT ON ticket", _head_rows("t.id = NEW.id")),
    (
        "search_ticket_au",
        "AFTER UPDATE OF number, number_seq, subject, contact_id, organization_id ON ticket",
        _head_rows("t.id = NEW.id"),
    ),
    (
        "search_ticket_merge_au",
        "AFTER UPDATE OF merged_into_id ON ticket",
        f"DELETE FROM search_fts WHERE OLD.merged_into_id IS NOT NULL AND rowid IN "
        f"(SELECT OLD.merged_into_id * {S} + e.id FROM ticket_entry e WHERE e.ticket_id = NEW.id);\n"
        f"INSERT INTO search_fts(rowid, public, notes) {_merged_entries('NEW.merged_into_id', 'NEW.id')} "
        "AND NEW.merged_into_id IS NOT NULL;",
    ),
    (
        "search_ticket_ad",
        "AFTER DELETE ON ticket",
        f"DELETE FROM search_fts WHERE rowid >= OLD.id * {S} AND rowid < (OLD.id + 1) * {S};",
    ),
    ("search_entry_ai", "AFTER INSERT ON ticket_entry", _entry_in("NEW")),
    (
        "search_entry_au",
        "AFTER UPDATE OF body, kind, deleted_at, ticket_id ON ticket_entry",
        _entry_out("OLD") + "\n" + _entry_in("NEW"),
    ),
    ("search_entry_ad", "AFTER DELETE ON ticket_entry", _entry_out("OLD")),
    ("search_tag_ai", "AFTER INSERT ON ticket_tag", _head_rows("t.id = NEW.ticket_id")),
    ("search_tag_ad", "AFTER DELETE ON ticket_tag", _head_rows("t.id = OLD.ticket_id")),
    (
        "search_tagname_au",
        "AFTER UPDATE OF name ON tag",
        _head_rows("t.id IN (SELECT ticket_id FROM ticket_tag WHERE tag_id = NEW.id)"),
    ),
    ("search_contact_au", "AFTER UPDATE OF name, email ON contact", _head_rows("t.contact_id = NEW.id")),
    ("search_org_au", "AFTER UPDATE OF name ON organization", _head_rows("t.organization_id = NEW.id")),
)

# every name 0012 made is among these (search_ticket_merge_au is new), so dropping these drops 0012's
_ALL_TRIGGER_NAMES = tuple(name for name, _, _ in SQLITE_TRIGGERS)


def create_sqlite_triggers(conn: sa.Connection) -> None:
    for name, event, body in SQLITE_TRIGGERS:
        conn.exec_driver_sql(f"CREATE TRIGGER {name} {event} BEGIN\n{body}\nEND")


def drop_sqlite_triggers(conn: sa.Connection) -> None:
    for name in _ALL_TRIGGER_NAMES:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


def _create_fts(conn: sa.Connection) -> None:
    conn.exec_driver_sql(
        "CREATE VIRTUAL TABLE search_fts USING fts5(head, people, tags, public, notes, "
        "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')"
    )


def _progress(what: str, done: int, total: int, started: float) -> None:
    if total >= BATCH:
        print(f"\rindexing {what} for search: {done:,}/{total:,} ({time.perf_counter() - started:.0f} s)",
              end="" if done < total else "\n", file=sys.stderr, flush=True)


def index_existing(conn: sa.Connection) -> None:
    """Every ticket and entry, in ticket id ranges, with progress on stderr for big desks."""
    low, high, total = conn.exec_driver_sql("SELECT min(id), max(id), count(*) FROM ticket").one()
    if not total:
        return
    started, done = time.perf_counter(), 0
    tickets = (
        f"INSERT INTO search_fts(rowid, head, people, tags) SELECT t.id * {S}, {_HEAD}, {_PEOPLE}, {_TAGS} "
        "FROM ticket t LEFT JOIN contact c ON c.id = t.contact_id "
        "LEFT JOIN organization o ON o.id = t.organization_id WHERE t.id >= ? AND t.id < ?"
    )
    entries = (
        f"INSERT INTO search_fts(rowid, public, notes) SELECT e.ticket_id * {S} + e.id, "
        "CASE WHEN e.kind <> 'note' THEN e.body END, CASE WHEN e.kind = 'note' THEN e.body END "
        "FROM ticket_entry e WHERE e.ticket_id >= ? AND e.ticket_id < ? AND e.deleted_at IS NULL"
    )
    merged = (
        f"INSERT INTO search_fts(rowid, public, notes) SELECT m.merged_into_id * {S} + e.id, "
        "CASE WHEN e.kind <> 'note' THEN e.body END, CASE WHEN e.kind = 'note' THEN e.body END "
        "FROM ticket m JOIN ticket_entry e ON e.ticket_id = m.id "
        "WHERE m.merged_into_id >= ? AND m.merged_into_id < ? AND e.deleted_at IS NULL"
    )
    for start in range(low, high + 1, BATCH):
        for stmt in (tickets, entries, merged):
            conn.exec_driver_sql(stmt, (start, start + BATCH))
        done = min(total, done + BATCH)
        _progress("tickets", done, total, started)
    if done < total:
        _progress("tickets", total, total, started)
    # one segment instead of the many a bulk load leaves: a word's lookup per ticket reads one b-tree
    # (a check cost 140 us before, 40 us after, in a 300k-row test)
    if total >= BATCH:
        print("merging the search index (one more step)", file=sys.stderr, flush=True)
    started = time.perf_counter()
    conn.exec_driver_sql("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
    if total >= BATCH:
        print(f"merged in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)


# PostgreSQL: 0012's trigger function, with an entry's insert appended to the document.
PG_TRIGGER = r"""
CREATE OR REPLACE FUNCTION ticket_search_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
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
    IF TG_OP = 'INSERT' THEN
      IF NEW.deleted_at IS NULL THEN
        BEGIN
          UPDATE ticket_search SET doc = doc || setweight(to_tsvector('simple', helpdesk_unaccent(NEW.body)),
                 CASE WHEN NEW.kind = 'note' THEN 'D' ELSE 'C' END::"char")
           WHERE ticket_id IN (NEW.ticket_id, (SELECT merged_into_id FROM ticket WHERE id = NEW.ticket_id));
        EXCEPTION WHEN program_limit_exceeded THEN
          -- the appended document passes 1 MB: the capped rebuild (0021) keeps the start of the thread
          PERFORM ticket_search_refresh(ARRAY[NEW.ticket_id,
            (SELECT merged_into_id FROM ticket WHERE id = NEW.ticket_id)]);
        END;
      END IF;
    ELSE
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM ticket_search_refresh(ARRAY[OLD.ticket_id,
          (SELECT merged_into_id FROM ticket WHERE id = OLD.ticket_id)]);
      END IF;
      IF TG_OP = 'UPDATE' AND NEW.ticket_id <> OLD.ticket_id THEN
        PERFORM ticket_search_refresh(ARRAY[NEW.ticket_id,
          (SELECT merged_into_id FROM ticket WHERE id = NEW.ticket_id)]);
      END IF;
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


def _revision_0012() -> ModuleType:
    path = Path(__file__).with_name("0012_full_text_search.py")
    spec = importlib.util.spec_from_file_location("migration_0012_full_text_search", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(PG_TRIGGER)
        return
    drop_sqlite_triggers(conn)
    conn.exec_driver_sql("DROP TABLE IF EXISTS search_fts")
    _create_fts(conn)
    index_existing(conn)
    create_sqlite_triggers(conn)


def downgrade() -> None:
    conn = op.get_bind()
    old = _revision_0012()
    if conn.dialect.name == "postgresql":
        body = old.PG_FUNCTIONS[old.PG_FUNCTIONS.index("CREATE FUNCTION ticket_search_trigger()"):]
        conn.exec_driver_sql(body.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
        return
    drop_sqlite_triggers(conn)
    conn.exec_driver_sql("DROP TABLE IF EXISTS search_fts")
    conn.exec_driver_sql(
        "CREATE VIRTUAL TABLE search_fts USING fts5(head, people, tags, public, notes, "
        "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')"
    )
    old._index_existing(
        conn,
        "INSERT INTO search_fts(rowid, head, people, tags, public, notes) " + old._doc_select("t.id >= ? AND t.id < ?"),
    )
    old.create_sqlite_triggers(conn)
