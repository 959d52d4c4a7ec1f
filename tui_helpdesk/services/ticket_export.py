"""Export a ticket list (a `/` filter, as the queue reads it) as CSV, a JSON array or JSON lines, streamed.

Constant memory at any size: the rows come a keyset page at a time from `queries.fetch_page` (so the
actor's scope applies, as in the queue) and each page is written before the next is read; nothing
holds more than one page. The whole export reads in one read transaction, so it is one consistent
picture even while others write (SQLite WAL, PostgreSQL REPEATABLE READ is not needed for that: each
page's keyset continues after the last row seen, so a row moved meanwhile is never written twice).

Text from outside (subjects, names) is cleaned of control sequences; a CSV cell that a spreadsheet would
read as a formula is quoted (time_report.safe_cell).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, TextIO

from tui_helpdesk.untrusted import clean_line

from . import custom_fields, filter_query, queries
from .context import Tx
from .errors import ValidationError
from .time_report import safe_cell

PAGE = 1000
FORMATS = ("csv", "json", "jsonl")

# column name -> the QueueRow attribute it shows
COLUMNS: dict[str, str] = {
    "number": "number", "subject": "subject", "requester": "requester_name",
    "requester_email": "requester_email", "organization": "organization_name",
    "department": "department_name", "status": "status_name", "state": "state",
    "priority": "priority_name", "assignee": "assignee_name", "team": "team_name",
    "created": "created_at", "updated": "updated_at", "due": "due_at", "overdue": "is_overdue",
    "reopened": "reopened", "archived": "archived", "id": "id", "version": "version",
}
DEFAULT_COLUMNS = ("number", "subject", "requester_email", "organization", "department", "status",
                   "priority", "assignee", "created", "updated")


def columns(text: str | Sequence[str] | None) -> list[str]:
    """"number,subject,cf.po" -> the columns, checked; empty: the defaults. `cf.NAME` is a custom field's
    value (services/custom_fields.py decides which names are fields)."""
    if not text:
        return list(DEFAULT_COLUMNS)
    names = [c.strip().lower() for c in (text.split(",") if isinstance(text, str) else text) if c.strip()]
    bad = [c for c in names if c not in COLUMNS and not c.startswith("cf.")]
    if bad:
        raise ValidationError(
            "columns", f"unknown column {bad[0]!r}; expected some of {', '.join(COLUMNS)}, or cf.FIELD"
        )
    return names


def pages(tx: Tx, query_text: str = "", *, page_size: int = PAGE) -> Iterator[list[queries.QueueRow]]:
    """Every ticket the filter selects, as the actor may see them, in the filter's order, a page at a time."""
    query = filter_query.resolve_text(tx.session, query_text or "", tx.actor.agent_id)
    after = None
    while True:
        page = queries.fetch_page(tx, query, after, limit=page_size)
        yield list(page.rows)
        if page.at_end or page.next is None:
            return
        after = page.next


def rows(tx: Tx, query_text: str = "", *, page_size: int = PAGE) -> Iterator[queries.QueueRow]:
    for page in pages(tx, query_text, page_size=page_size):
        yield from page


def _value(row: queries.QueueRow, column: str, custom: dict[str, str]) -> Any:
    value = custom.get(column, "") if column.startswith("cf.") else getattr(row, COLUMNS[column])
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        # every character clean_line would remove is unprintable: the common clean value skips its regexes
        # (they were a quarter of a 1M-row export)
        return value if value.isprintable() else clean_line(value)
    return value


def write(tx: Tx, out: TextIO, *, query_text: str = "", cols: Sequence[str] | str | None = None,
          fmt: str = "csv", page_size: int = PAGE, progress: Callable[[int], None] | None = None) -> int:
    """Write the export to `out` as it is read; returns the number of tickets written."""
    if fmt not in FORMATS:
        raise ValidationError("format", f"{fmt!r} is not one of {', '.join(FORMATS)}")
    names = columns(cols)
    custom_fields.export_columns(tx.session, names)  # refuses a cf. column that can name no field
    count = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
    elif fmt == "json":
        out.write("[")
    for page in pages(tx, query_text, page_size=page_size):
        custom = custom_fields.page_values(tx.session, [r.id for r in page], names)  # one query a page
        for row in page:
            values = [_value(row, c, custom.get(row.id, {})) for c in names]
            if fmt == "csv":
                writer.writerow([safe_cell(v) if isinstance(v, str) else ("" if v is None else v) for v in values])
            else:
                doc = json.dumps(dict(zip(names, values, strict=True)), ensure_ascii=False)
                out.write(("\n" if count == 0 else ",\n") + doc if fmt == "json" else doc + "\n")
            count += 1
            if progress is not None and count % page_size == 0:
                progress(count)
    if fmt == "json":
        out.write("\n]\n" if count else "]\n")
    return count
