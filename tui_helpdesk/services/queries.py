"""The queue's read side: keyset-paginated ticket lists, exact counts and the sidebar's counters.

Every read takes the `Tx` of the person it is for and lists only what they may see: the scope comes
from the actor (visibility.py), never from the caller, so a saved view, an export or a script cannot
leave it out. Results are frozen dataclasses, never ORM objects, so a screen can hold the rows after
the session is gone.

How a page is read, and why:
- The keyset scan selects only the sort key and id from `ticket`, so it walks one of the
  `ix_ticket_queue_*` indexes and stops after `limit + 1` entries at any depth.
- An IN list on a column that leads an index (several states, or `visible` when archived tickets are
  included) would make the database sort every match. Instead the scan is run once per value, each an
  ordered index range, and the few rows are merged here.
- The "due" sort keeps tickets without a due date last on every engine by reading it as two
  segments: dated tickets by (due_at, id), then undated ones by id.
- Names (requester, department, status...) are read afterwards for the page's rows only, by primary
  key (a missing one reads as "").
"""

from __future__ import annotations

import functools
import heapq
import itertools
import operator
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Integer,
    Select,
    String,
    and_,
    any_,
    bindparam,
    cast,
    false,
    func,
    literal_column,
    null,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from tui_helpdesk.models import (
    Agent,
    Contact,
    Department,
    Organization,
    Priority,
    Status,
    Team,
    Ticket,
    TicketFieldValue,
    TicketTag,
)
from tui_helpdesk.models.org import STATES

from . import counters, visibility
from .context import Tx
from .visibility import Scope

SORTS = ("updated", "newest", "oldest", "priority", "due")
# "relevance" ranks free-word hits (services/search.py); without words it lists like "updated".
QUERY_SORTS = (*SORTS, "relevance")
# The sidebar's "open" means waiting on us; "active" adds tickets waiting on the customer.
OPEN_STATES = ("new", "open")
ACTIVE_STATES = ("new", "open", "pending")
# Above this many per-value scans, one scan with an IN list and a sort is cheaper.
MAX_FANOUT = 12

Bind = Engine | Connection | Session

T = Ticket.__table__.c
TT = TicketTag.__table__.c

# Per-state scans of the overdue list by due date only pay off with an index that orders them;
# without it each scan would walk the whole due_at index, so look at what the schema declares.
_OVERDUE_INDEX_ORDERS_BY_DUE = any(
    [c.name for c in ix.columns][:4] == ["visible", "is_overdue", "state", "due_at"]
    for ix in Ticket.__table__.indexes
)


@dataclass(frozen=True)
class TicketQuery:
    """What the queue shows: the filters (all must hold) and the order."""

    states: tuple[str, ...] = ()
    status_ids: tuple[int, ...] = ()
    priority_ids: tuple[int, ...] = ()
    department_ids: tuple[int, ...] = ()
    assignee_id: int | None = None
    team_id: int | None = None
    unassigned: bool = False  # no agent assigned (a team may be)
    organization_id: int | None = None
    contact_id: int | None = None
    tag_ids: tuple[int, ...] = ()  # every tag must be on the ticket
    topic_id: int | None = None
    # custom fields: (name, op, value), op one of = < <= > >=; a float compares numbers, text compares the
    # case-folded text (dates are YYYY-MM-DD, so text order is date order); all must hold
    custom: tuple[tuple[str, str, Any], ...] = ()
    overdue: bool = False
    # False: the normal queue (not archived, not merged); True: archived only; None: everything
    archived: bool | None = False
    # free words, full-text searched (services/search.py): phrases in quotes, -word, prefix*
    text: str = ""
    # False for a customer-facing search: internal notes never match
    search_notes: bool = True
    sort: str = "updated"

    def __post_init__(self) -> None:
        if self.sort not in QUERY_SORTS:
            raise ValueError(f"unknown sort {self.sort!r}; expected one of {', '.join(QUERY_SORTS)}")
        bad = [s for s in self.states if s not in STATES]
        if bad:
            raise ValueError(f"unknown state {bad[0]!r}; expected one of {', '.join(STATES)}")


@dataclass(frozen=True)
class Cursor:
    """A position in a sorted list: the sort key values of one row and its id.

    `values` is (updated_at,) for "updated", (created_at,) for "newest"/"oldest",
    (priority_rank, updated_at) for "priority" and (due_at or None,) for "due".
    """

    values: tuple[Any, ...]
    id: int


@dataclass(frozen=True)
class QueueRow:
    id: int
    number: str
    subject: str
    requester_name: str
    requester_email: str
    organization_name: str
    department_name: str
    status_name: str
    state: str
    status_color: str
    priority_name: str
    priority_rank: int
    priority_color: str
    assignee_name: str
    team_name: str
    created_at: datetime
    updated_at: datetime
    due_at: datetime | None
    is_overdue: bool
    reopened: bool
    merged_into_id: int | None
    archived: bool
    # the version the row was read at: a bulk action from the queue passes it, so a ticket changed
    # since the queue showed it is refused instead of overwritten
    version: int


@dataclass(frozen=True)
class Page:
    """Rows in display order. `next` continues after the last row, `prev` before the first."""

    rows: tuple[QueueRow, ...]
    next: Cursor | None  # None when at_end
    prev: Cursor | None  # None when at_start
    at_end: bool
    at_start: bool


@dataclass(frozen=True)
class SidebarCounts:
    mine: int  # assigned to the agent, new/open/pending
    unassigned: int  # no agent, new/open
    open: int  # new/open
    pending: int
    overdue: int  # overdue and new/open/pending
    resolved: int
    all: int  # every visible ticket
    departments: dict[int, int] = field(default_factory=dict)  # department id -> new/open tickets


# Positions of the joined name columns in QueueRow: a missing join yields "" rather than None.
_TEXT_FIELDS = frozenset(
    i for i, f in enumerate(QueueRow.__dataclass_fields__) if f.endswith(("_name", "_email", "_color"))
)


# --- sort definitions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Segment:
    cols: tuple[Any, ...]  # key columns compared before id
    desc: bool
    where: ColumnElement[bool] | None = None
    pad: int = 0  # None values appended so every cursor of a sort has the same length


_SEGMENTS: dict[str, tuple[_Segment, ...]] = {
    "updated": (_Segment((T.updated_at,), True),),
    "newest": (_Segment((T.created_at,), True),),
    "oldest": (_Segment((T.created_at,), False),),
    "priority": (_Segment((T.priority_rank, T.updated_at), True),),
    "due": (
        _Segment((T.due_at,), False, T.due_at.is_not(None)),
        _Segment((), False, T.due_at.is_(None), pad=1),
    ),
}
_SEGMENTS["relevance"] = _SEGMENTS["updated"]


def _segment_index(sort: str, cursor: Cursor) -> int:
    if sort == "due" and cursor.values[0] is None:
        return 1
    return 0


def cursor_of(row: QueueRow, sort: str) -> Cursor:
    """The cursor that sits on `row` under `sort` (to resume a list at a known row)."""
    if sort in ("updated", "relevance"):
        return Cursor((row.updated_at,), row.id)
    if sort in ("newest", "oldest"):
        return Cursor((row.created_at,), row.id)
    if sort == "priority":
        return Cursor((row.priority_rank, row.updated_at), row.id)
    if sort == "due":
        return Cursor((row.due_at,), row.id)
    raise ValueError(f"unknown sort {sort!r}")


# --- filters ------------------------------------------------------------------------------------


def _filters(
    q: TicketQuery, scope: Scope | None, conn: Connection | None = None, counting: bool = False
) -> tuple[list[ColumnElement[bool]], list[tuple[Any, tuple[Any, ...]]]]:
    """Conditions, plus the equality dimensions worth scanning one value at a time.

    `scope` None leaves the actor's scope out (counts add it in disjoint parts)."""
    conds: list[ColumnElement[bool]] = []
    fan: list[tuple[Any, tuple[Any, ...]]] = []

    def eq_or_in(col: Any, values: Sequence[Any], fannable: bool) -> None:
        values = tuple(dict.fromkeys(values))
        if len(values) == 1:
            conds.append(col == values[0])
        elif fannable:
            fan.append((col, values))
        else:
            conds.append(col.in_(values))

    if q.archived is False:
        conds.append(T.visible == true())
    elif q.archived is True:
        # archived implies not visible; naming both lets the scan use the visible-led indexes
        conds.append(T.visible == false())
        conds.append(T.archived == true())
    else:
        fan.append((T.visible, (True, False)))
    if q.states:
        eq_or_in(T.state, q.states, fannable=True)
    elif q.sort == "updated" and (
        q.department_ids or q.assignee_id is not None or q.unassigned or q.team_id is not None
    ):
        # The department, assignee and team indexes hold state before updated_at: one ordered
        # range per state beats filtering the whole updated_at index or sorting every match.
        fan.append((T.state, STATES))
    elif q.sort == "due" and q.overdue and _OVERDUE_INDEX_ORDERS_BY_DUE:
        # Likewise for an overdue index (visible, is_overdue, state, due_at, id).
        fan.append((T.state, STATES))
    if q.status_ids:
        eq_or_in(T.status_id, q.status_ids, fannable=False)
    if q.priority_ids:
        eq_or_in(T.priority_id, q.priority_ids, fannable=False)
        if q.sort == "priority" and conn is not None and not counting:
            # ticket.priority_rank copies its priority's rank (in the transaction that changes either):
            # naming the chosen priorities' ranks lets the priority sort read just their ranges of
            # ix_ticket_queue_priority, not walk every ticket of a higher rank first (prio:high with
            # sort:priority walked every Emergency ticket: 265 ms CPU at 1M)
            pc = Priority.__table__.c
            ranks = sorted(set(conn.execute(select(pc.rank).where(pc.id.in_(q.priority_ids))).scalars()))
            if ranks:
                eq_or_in(T.priority_rank, ranks, fannable=True)
            else:
                conds.append(false())
    if q.department_ids:
        eq_or_in(T.department_id, q.department_ids, fannable=True)
    if q.assignee_id is not None:
        conds.append(T.assignee_id == q.assignee_id)
    if q.unassigned:
        conds.append(T.assignee_id.is_(None))
    if q.team_id is not None:
        conds.append(T.team_id == q.team_id)
    if q.organization_id is not None:
        conds.append(T.organization_id == q.organization_id)
    if q.contact_id is not None:
        conds.append(T.contact_id == q.contact_id)
    if q.topic_id is not None:
        conds.append(T.topic_id == q.topic_id)
    for tag_id in dict.fromkeys(q.tag_ids):
        conds.append(T.id.in_(select(TT.ticket_id).where(TT.tag_id == tag_id)))
    for name, op, value in q.custom:
        conds.append(T.id.in_(_custom_match(name, op, value)))
    if q.overdue:
        conds.append(T.is_overdue == true())
    if q.text.strip():
        if conn is None:
            raise ValueError("free words need the connection to compile their search")
        from . import search

        # a scan that stops at a page checks the words ticket by ticket; a count reads each word's hits once
        matched = search.condition(conn, q.text, q.search_notes, counting)
        if matched is not None:
            conds.extend(matched)
    if scope is not None and not scope.implied_by(q.department_ids, q.assignee_id):
        visible = visibility.condition(scope)
        if visible is not None:
            conds.append(visible)
    return conds, fan


_OPS = {"=": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _custom_match(name: str, op: str, value: Any) -> Any:
    """Tickets with a value of field `name` matching: one range of ticket_field_value's (name, value) index."""
    V = TicketFieldValue.__table__.c
    column = V.num_value if isinstance(value, float) else V.text_value
    return select(V.ticket_id).where(V.name == name, _OPS[op](column, value))


def _fan_combos(fan: list[tuple[Any, tuple[Any, ...]]]) -> tuple[list[list[ColumnElement[bool]]], list]:
    """Per-value equality sets for the fanned dimensions; the rest fall back to IN."""
    combos: list[list[ColumnElement[bool]]] = [[]]
    rest: list[ColumnElement[bool]] = []
    for col, values in fan:
        if len(combos) * len(values) > MAX_FANOUT:
            rest.append(col.in_(values))
            continue
        combos = [c + [col == v] for c in combos for v in values]
    return combos, rest


# --- the keyset scan ----------------------------------------------------------------------------


@contextmanager
def _connect(bind: Bind) -> Iterator[Connection]:
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            yield conn
    elif isinstance(bind, Session):
        yield bind.connection()
    else:
        yield bind


def _scan_segment(
    conn: Connection,
    conds: list[ColumnElement[bool]],
    fan: list[tuple[Any, tuple[Any, ...]]],
    seg: _Segment,
    cursor: Cursor | None,
    backward: bool,
    n: int,
) -> list[tuple[tuple[Any, ...], int]]:
    """Up to n (key values, id) pairs of one segment, in traversal order, strictly past `cursor`."""
    keys = [*seg.cols, T.id]
    descending = seg.desc != backward
    where = list(conds)
    if seg.where is not None:
        where.append(seg.where)
    if cursor is not None:
        mark = tuple_(*keys)
        point = tuple_(*cursor.values[: len(seg.cols)], cursor.id)
        if len(keys) == 1:
            mark, point = T.id, cursor.id  # type: ignore[assignment]
        where.append(mark < point if descending else mark > point)
    order = [k.desc() if descending else k.asc() for k in keys]
    combos, rest = _fan_combos(fan)
    where.extend(rest)
    results: list[list[tuple[tuple[Any, ...], int]]] = []
    for combo in combos:
        stmt = select(*keys).where(and_(*where, *combo)).order_by(*order).limit(n)
        results.append([(tuple(r[:-1]) + (None,) * seg.pad, r[-1]) for r in conn.execute(stmt)])
    if len(results) == 1:
        return results[0]
    merged = heapq.merge(*results, key=lambda kv: (*kv[0][: len(seg.cols)], kv[1]), reverse=descending)
    return list(itertools.islice(merged, n))


def _scan(
    conn: Connection, q: TicketQuery, scope: Scope, cursor: Cursor | None, backward: bool, n: int
) -> list[tuple[tuple[Any, ...], int]]:
    conds, fan = _filters(q, scope, conn)
    segments = _SEGMENTS[q.sort]
    if cursor is None:
        start = len(segments) - 1 if backward else 0
    else:
        start = _segment_index(q.sort, cursor)
    order = range(start, -1, -1) if backward else range(start, len(segments))
    out: list[tuple[tuple[Any, ...], int]] = []
    for i in order:
        seg_cursor = cursor if (cursor is not None and i == start) else None
        out.extend(_scan_segment(conn, conds, fan, segments[i], seg_cursor, backward, n - len(out)))
        if len(out) >= n:
            break
    return out


# The name lookups, in the order their values fill a QueueRow: (foreign key on ticket, table,
# first name column, second column or None). The requester and the colours need two columns.
def _name_sources() -> tuple[tuple[Any, Any, Any, Any], ...]:
    c, o, d, s, p, a, tm = (
        Contact.__table__,
        Organization.__table__,
        Department.__table__,
        Status.__table__,
        Priority.__table__,
        Agent.__table__,
        Team.__table__,
    )
    return (
        (T.contact_id, c, c.c.name, c.c.email),
        (T.organization_id, o, o.c.name, None),
        (T.department_id, d, d.c.name, None),
        (T.status_id, s, s.c.name, s.c.color),
        (T.priority_id, p, p.c.name, p.c.color),
        (T.assignee_id, a, a.c.name, None),
        (T.team_id, tm, tm.c.name, None),
    )


@functools.cache
def _joined_rows_statement() -> Select:
    """SQLite: one statement with left joins; its planner probes each table by primary key."""
    assignee = aliased(Agent.__table__, name="assignee")
    c, o, d, s, p, tm = (
        Contact.__table__,
        Organization.__table__,
        Department.__table__,
        Status.__table__,
        Priority.__table__,
        Team.__table__,
    )
    t = Ticket.__table__
    stmt = (
        select(
            T.id,
            T.number,
            T.subject,
            c.c.name.label("requester_name"),
            c.c.email.label("requester_email"),
            o.c.name.label("organization_name"),
            d.c.name.label("department_name"),
            s.c.name.label("status_name"),
            T.state,
            s.c.color.label("status_color"),
            p.c.name.label("priority_name"),
            T.priority_rank,
            p.c.color.label("priority_color"),
            assignee.c.name.label("assignee_name"),
            tm.c.name.label("team_name"),
            T.created_at,
            T.updated_at,
            T.due_at,
            T.is_overdue,
            T.reopened,
            T.merged_into_id,
            T.archived,
            T.version,
        )
        .select_from(
            t.outerjoin(c, c.c.id == T.contact_id)
            .outerjoin(o, o.c.id == T.organization_id)
            .outerjoin(d, d.c.id == T.department_id)
            .outerjoin(s, s.c.id == T.status_id)
            .outerjoin(p, p.c.id == T.priority_id)
            .outerjoin(assignee, assignee.c.id == T.assignee_id)
            .outerjoin(tm, tm.c.id == T.team_id)
        )
        .where(T.id.in_(bindparam("ids", expanding=True)))
    )
    return stmt


def _id_in(col: Any, name: str, postgres: bool) -> ColumnElement[bool]:
    """`col IN (...)`; on PostgreSQL `col = ANY(:array)`, whose SQL text does not grow with the list,
    so psycopg parses it once and the server can reuse the plan (the expanded form cost ~2 ms a page)."""
    if postgres:
        # imported here: the PostgreSQL dialect costs ~50 ms of every start on SQLite
        from sqlalchemy.dialects.postgresql import ARRAY

        return col == any_(bindparam(name, type_=ARRAY(Integer)))
    return col.in_(bindparam(name, expanding=True))


@functools.cache
def _rows_statements(postgres: bool = True) -> tuple[Select, Any]:
    """PostgreSQL: the page's ticket columns, then every name they refer to in one UNION ALL of
    primary-key lookups.

    The joined statement cost PostgreSQL about 5 ms of planning per page and a hash of every contact
    (10 to 24 ms a page at 1M tickets); these plan in well under a millisecond. On SQLite the joined
    statement is faster (two statements cost ~0.8 ms more per page), so it keeps that one.
    Built once: constructing the statements costs more than running them."""
    sources = _name_sources()
    tickets = select(
        T.id,
        T.number,
        T.subject,
        *(fk for fk, *_ in sources),
        T.state,
        T.priority_rank,
        T.created_at,
        T.updated_at,
        T.due_at,
        T.is_overdue,
        T.reopened,
        T.merged_into_id,
        T.archived,
        T.version,
    ).where(_id_in(T.id, "ids", postgres))
    parts = [
        select(
            literal_column(str(k)).label("k"),
            table.c.id.label("id"),
            first.label("a"),
            (second if second is not None else cast(null(), String)).label("b"),
        ).where(_id_in(table.c.id, f"ids{k}", postgres))
        for k, (_, table, first, second) in enumerate(sources)
    ]
    return tickets, union_all(*parts)


def _load_joined_rows(conn: Connection, ids: list[int]) -> dict[int, QueueRow]:
    rows: dict[int, QueueRow] = {}
    for r in conn.execute(_joined_rows_statement(), {"ids": ids}):
        values = [("" if v is None else v) if i in _TEXT_FIELDS else v for i, v in enumerate(r)]
        rows[r[0]] = QueueRow(*values)
    return rows


def _load_rows(conn: Connection, ids: list[int]) -> dict[int, QueueRow]:
    if not ids:
        return {}
    if conn.dialect.name != "postgresql":
        return _load_joined_rows(conn, ids)
    tickets_stmt, names_stmt = _rows_statements()
    found = conn.execute(tickets_stmt, {"ids": ids}).all()
    if not found:
        return {}
    width = len(_name_sources())
    wanted = [sorted({r[3 + k] for r in found if r[3 + k] is not None}) for k in range(width)]
    names: list[dict[int, tuple[str, str]]] = [{} for _ in range(width)]
    for k, key, a, b in conn.execute(names_stmt, {f"ids{k}": v for k, v in enumerate(wanted)}):
        names[k][key] = (a or "", b or "")
    missing = ("", "")
    rows: dict[int, QueueRow] = {}
    for r in found:
        (
            requester,
            organization,
            department,
            status,
            priority,
            assignee,
            team,
        ) = (names[k].get(r[3 + k], missing) if r[3 + k] is not None else missing for k in range(width))
        rows[r[0]] = QueueRow(
            id=r.id,
            number=r.number,
            subject=r.subject,
            requester_name=requester[0],
            requester_email=requester[1],
            organization_name=organization[0],
            department_name=department[0],
            status_name=status[0],
            state=r.state,
            status_color=status[1],
            priority_name=priority[0],
            priority_rank=r.priority_rank,
            priority_color=priority[1],
            assignee_name=assignee[0],
            team_name=team[0],
            created_at=r.created_at,
            updated_at=r.updated_at,
            due_at=r.due_at,
            is_overdue=r.is_overdue,
            reopened=r.reopened,
            merged_into_id=r.merged_into_id,
            archived=r.archived,
            version=r.version,
        )
    return rows


def fetch_page(
    tx: Tx, query: TicketQuery, after: Cursor | None = None, limit: int = 50, backward: bool = False
) -> Page:
    """One page of the queue, as the actor of `tx` may see it.

    Forward (the default): the `limit` rows after `after`, or the first page when it is None.
    Backward: the `limit` rows before `after` (scrolling up), or the last page when it is None.
    Rows are always returned in display order.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    scope = visibility.scope_of(tx)
    with _connect(tx.session) as conn:
        if query.text.strip():
            from . import search

            matched = search.handles(conn, query)
            if matched is not None:
                return search.fetch_page(tx, query, matched, after, limit, backward)
        keys = _scan(conn, query, scope, after, backward, limit + 1)
        more = len(keys) > limit
        keys = keys[:limit]
        if backward:
            keys.reverse()
        loaded = _load_rows(conn, [k[1] for k in keys])
    # A row deleted between the two reads simply drops out of the page.
    rows = tuple(loaded[i] for _, i in keys if i in loaded)
    first = Cursor(keys[0][0], keys[0][1]) if keys else None
    last = Cursor(keys[-1][0], keys[-1][1]) if keys else None
    if backward:
        at_start = not more
        at_end = after is None or not keys
    else:
        at_end = not more
        at_start = after is None or not keys
    return Page(
        rows=rows,
        next=None if at_end else last,
        prev=None if at_start else first,
        at_end=at_end,
        at_start=at_start,
    )


def fetch_last_page(tx: Tx, query: TicketQuery, limit: int = 50) -> Page:
    """The end of the list ("jump to end"), in display order."""
    return fetch_page(tx, query, None, limit, backward=True)


# --- counts -------------------------------------------------------------------------------------


def _count_where(conn: Connection, conds: list[ColumnElement[bool]]) -> int:
    return int(conn.execute(select(func.count()).select_from(Ticket.__table__).where(*conds)).scalar_one())


def conditions(
    q: TicketQuery, scope: Scope | None, conn: Connection | None = None
) -> list[ColumnElement[bool]]:
    """The filters as one condition list, in `scope` when given (for counting and matching: with no order
    to keep, IN lists are fine)."""
    conds, fan = _filters(q, scope, conn, counting=True)
    return conds + [col.in_(values) for col, values in fan]


def _count(conn: Connection, q: TicketQuery, scope: Scope) -> int:
    if scope.implied_by(q.department_ids, q.assignee_id):
        return _count_where(conn, conditions(q, None, conn))
    # The scope's OR defeats index ranges, so its disjoint parts are counted one by one.
    base = conditions(q, None, conn)
    return sum(_count_where(conn, [*base, part]) for part in visibility.disjoint_conditions(scope))


def count(tx: Tx, query: TicketQuery) -> int:
    """Exact number of tickets the query lists for the actor (the virtual list's length)."""
    scope = visibility.scope_of(tx)
    with _connect(tx.session) as conn:
        if query.text.strip():
            from . import search

            matched = search.handles(conn, query)
            if matched is not None:
                return search.count(tx, query, matched)
        return _count(conn, query, scope)


def position_of(tx: Tx, query: TicketQuery, cursor: Cursor) -> int:
    """How many rows come before `cursor`'s row: its 0-based index (to place the scrollbar)."""
    segments = _SEGMENTS[query.sort]
    start = _segment_index(query.sort, cursor)
    total = 0
    scope = visibility.scope_of(tx)
    with _connect(tx.session) as conn:
        if query.text.strip():
            from . import search

            matched = search.handles(conn, query)
            if matched is not None:
                return search.position_of(tx, query, matched, cursor)
        base = conditions(query, scope, conn)
        for i in range(start):
            seg = segments[i]
            total += _count_where(conn, base + ([seg.where] if seg.where is not None else []))
        seg = segments[start]
        keys = [*seg.cols, T.id]
        mark, point = tuple_(*keys), tuple_(*cursor.values[: len(seg.cols)], cursor.id)
        if len(keys) == 1:
            mark, point = T.id, cursor.id  # type: ignore[assignment]
        before = mark > point if seg.desc else mark < point
        total += _count_where(conn, base + ([seg.where] if seg.where is not None else []) + [before])
    return total


# --- the sidebar --------------------------------------------------------------------------------

SIDEBAR_ENTRIES = ("mine", "unassigned", "open", "pending", "overdue", "resolved", "all")


def sidebar_query(name: str, agent_id: int | None, sort: str = "updated") -> TicketQuery:
    """The list behind a sidebar entry; its count() is the entry's number in sidebar_counts().

    `agent_id` is whose "mine" it is; what the agent may see is added when the list is read."""
    if name == "mine":
        if agent_id is None:
            raise ValueError("the 'mine' list needs an agent")
        return TicketQuery(states=ACTIVE_STATES, assignee_id=agent_id, sort=sort)
    if name == "unassigned":
        return TicketQuery(states=OPEN_STATES, unassigned=True, sort=sort)
    if name == "open":
        return TicketQuery(states=OPEN_STATES, sort=sort)
    if name == "pending":
        return TicketQuery(states=("pending",), sort=sort)
    if name == "overdue":
        return TicketQuery(states=ACTIVE_STATES, overdue=True, sort=sort)
    if name == "resolved":
        return TicketQuery(states=("resolved",), sort=sort)
    if name == "all":
        return TicketQuery(sort=sort)
    raise ValueError(f"unknown sidebar entry {name!r}; expected one of {', '.join(SIDEBAR_ENTRIES)}")


def department_query(department_id: int, sort: str = "updated") -> TicketQuery:
    """The list behind a department's sidebar entry (its new/open tickets)."""
    return TicketQuery(states=OPEN_STATES, department_ids=(department_id,), sort=sort)


def sidebar_counts(tx: Tx) -> SidebarCounts:
    """Every sidebar number for the actor, in the transaction `tx`.

    The departments are the ones the actor sees (every department for admins); each number is the
    count() of the list its entry opens, so an entry never promises tickets its list leaves out. The
    numbers are sums over the maintained counters (services/counters.py), never a count of tickets."""
    scope = visibility.scope_of(tx)
    agent_id = tx.actor.agent_id
    counts = dict.fromkeys(SIDEBAR_ENTRIES, 0)
    with _connect(tx.session) as conn:
        rows = counters.per_department(conn, agent_id)
    shown = [d for d, *_ in rows] if scope.department_ids is None else list(scope.department_ids)
    per_dept = dict.fromkeys(shown, 0)
    open_at = counters.SUMS.index("open")
    for dept, everyone, own, own_active in rows:
        if agent_id is not None:
            counts["mine"] += own_active
        if dept in per_dept:
            per_dept[dept] += everyone[open_at]
        # a department outside the actor's scope still shows the tickets assigned to them
        if scope.admits(dept, None):
            seen = everyone
        else:
            seen = own if agent_id is not None and scope.admits(dept, agent_id) else ()
        for name, n in zip(counters.SUMS, seen, strict=False):
            counts[name] += n
    return SidebarCounts(**{k: int(v) for k, v in counts.items()}, departments=per_dept)
