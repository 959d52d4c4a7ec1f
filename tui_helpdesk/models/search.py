"""The full-text index's own schema objects: made by migration 0012, not by these models.

SQLite keeps an FTS5 virtual table (and the shadow tables FTS5 makes for it), PostgreSQL a table of
tsvectors; neither can be described as an ordinary SQLAlchemy table, so autogenerate must leave
them out of its comparison (migrations/env.py and tests/test_migrations.py use `include_object`).
"""

from __future__ import annotations

from typing import Any

# SQLite: the FTS5 table; its shadow tables share the prefix.
FTS_TABLE = "search_fts"
# PostgreSQL: one row per ticket with its weighted tsvector.
PG_TABLE = "ticket_search"


# The knowledge base's article index (migration 0018, services/kb.py), the same two shapes.
KB_FTS_TABLE = "kb_fts"
KB_PG_TABLE = "kb_search"


def is_search_table(name: str | None) -> bool:
    if not name:
        return False
    return name in (PG_TABLE, FTS_TABLE, KB_PG_TABLE, KB_FTS_TABLE) or str(name).startswith(
        (FTS_TABLE + "_", KB_FTS_TABLE + "_")
    )


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """alembic's hook: the search index's tables (and their indexes) are not the models' business."""
    if type_ == "table":
        return not is_search_table(name)
    table = getattr(obj, "table", None)
    return not (table is not None and is_search_table(table.name))
