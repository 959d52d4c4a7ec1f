"""The queue's columns: their widths, which are dropped first when the list is too narrow, and what
each built-in view shows and sorts by. The one place these rules live (the README's "Columns" text
says the same in words).

Every column has a narrowest and a widest width. A list first keeps every chosen column at its
narrowest; only when even that does not fit are columns dropped, in DROP_PRIORITY order, never the
number, the subject or the column the list is sorted by. The room left goes to the subject (up to
SUBJECT_WANT), then widens each column towards its longest value on the loaded rows (so a department
or an agent's name is not cut when there is room), then the rest to the subject.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    min: int  # narrowest width the column is shown at
    max: int  # widest it grows to (its longest value decides within min..max); 0 for the subject
    short: str = ""  # the title when `title` does not fit

    @property
    def width(self) -> int:  # the width it is drawn at when nothing is measured
        return self.min


COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column("number", "Number", 8, 14),
        Column("subject", "Subject", 16, 0),
        Column("requester", "Requester", 10, 24, "Req"),
        Column("organization", "Organization", 8, 22, "Org"),
        Column("department", "Dept", 8, 18),
        Column("status", "Status", 8, 18),
        Column("priority", "Prio", 6, 10),
        Column("assignee", "Assignee", 8, 20, "Agent"),
        Column("updated", "Upd", 4, 4),
        Column("due", "Due", 5, 5),
    )
}
# Dropped first when even the narrowest widths do not fit (left to right).
DROP_PRIORITY = ("organization", "updated", "requester", "department", "assignee", "priority", "status", "due")
# The column that shows what a sort orders by: kept, and added to a view that lacks it.
SORT_COLUMN = {"due": "due", "priority": "priority"}
SUBJECT_MIN = 16
SUBJECT_WANT = 30
PREFIX = 4  # mark, presence, reopened, a space
GAP = 1

ALL_COLUMNS: tuple[str, ...] = tuple(COLUMNS)
DEFAULT_COLUMNS: tuple[str, ...] = (
    "number", "subject", "requester", "department", "status", "priority", "assignee", "updated", "due",
)  # fmt: skip
# What each built-in view sorts by and shows until the agent changes it (then the view keeps the
# agent's choice for the session; `:save` keeps it for good).
BUILTIN_DEFAULTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "mine": ("updated", ("number", "subject", "requester", "status", "priority", "updated", "due")),
    "unassigned": ("updated", ("number", "subject", "requester", "department", "priority", "updated", "due")),
    "open": ("updated", DEFAULT_COLUMNS),
    "pending": ("updated", ("number", "subject", "requester", "department", "status", "assignee", "updated")),
    "overdue": ("due", ("number", "subject", "requester", "department", "priority", "assignee", "due")),
    "resolved": ("updated", ("number", "subject", "requester", "department", "assignee", "updated")),
    "all": ("updated", ("number", "subject", "requester", "department", "status", "priority", "assignee", "updated")),
    # a department's own view: its name would fill the Dept column on every row
    "dept": ("updated", ("number", "subject", "requester", "status", "priority", "assignee", "updated", "due")),
}  # fmt: skip


def view_defaults(kind: str, ident: str) -> tuple[str, tuple[str, ...]]:
    """(sort, columns) a sidebar entry opens with before the agent changes them."""
    if kind == "dept":
        return BUILTIN_DEFAULTS["dept"]
    return BUILTIN_DEFAULTS.get(ident, BUILTIN_DEFAULTS["open"])


def with_sort_column(columns: tuple[str, ...], sort: str) -> tuple[str, ...]:
    """The columns a list sorted by `sort` shows: a due-sorted list always shows Due."""
    extra = SORT_COLUMN.get(sort)
    if extra is None or extra in columns:
        return columns
    return (*columns, extra)


@dataclass(frozen=True)
class Layout:
    cells: tuple[tuple[str, int], ...]  # (column key, width), in display order
    hidden: tuple[str, ...]  # chosen columns dropped because they do not fit


def _chosen(columns: tuple[str, ...], sort: str) -> list[str]:
    chosen = [c for c in dict.fromkeys(with_sort_column(columns, sort)) if c in COLUMNS]
    if "number" not in chosen:
        chosen.insert(0, "number")
    return chosen


def arrange(
    width: int, columns: tuple[str, ...], sort: str = "", natural: Mapping[str, int] | None = None
) -> Layout:
    """Which columns show at `width` cells and how wide each is (see the module's text)."""
    natural = natural or {}
    chosen = _chosen(columns, sort)
    keep = {"number", "subject", SORT_COLUMN.get(sort, "")}

    def low(key: str) -> int:
        if key == "number":
            return max(COLUMNS[key].min, natural.get(key, 0))
        return COLUMNS[key].min

    def need(cols: list[str]) -> int:
        return PREFIX + sum(low(c) + GAP for c in cols)

    hidden: list[str] = []
    for drop in DROP_PRIORITY:
        if need(chosen) <= width:
            break
        if drop in chosen and drop not in keep:
            chosen.remove(drop)
            hidden.append(drop)
    widths = {c: low(c) for c in chosen}
    spare = width - need(chosen)
    if "subject" in widths and spare > 0:
        grow = min(spare, SUBJECT_WANT - widths["subject"])
        widths["subject"] += max(0, grow)
        spare -= max(0, grow)
    # most important first: what is dropped last is widened first
    for key in reversed(DROP_PRIORITY):
        if spare <= 0:
            break
        if key in widths:
            col = COLUMNS[key]
            want = min(col.max, max(col.min, natural.get(key, col.min)))
            grow = min(spare, want - widths[key])
            if grow > 0:
                widths[key] += grow
                spare -= grow
    if "subject" in widths and spare > 0:
        widths["subject"] += spare
    cells = tuple((c, widths[c]) for c in chosen if widths[c] > 0)
    return Layout(cells, tuple(hidden))


def title_of(key: str, width: int) -> str:
    col = COLUMNS[key]
    if len(col.title) <= width or not col.short:
        return col.title
    return col.short
