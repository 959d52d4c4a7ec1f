"""The sidebar's counters: visible tickets per (department, assignee, state, overdue), kept exact.

Every change to a ticket row goes through an ORM flush (create, status, assign, transfer, merge,
archive, ingest, the lifecycle and SLA passes), so one `before_flush` hook sees each one and moves
its ticket from the old key to the new one in the same transaction. Reading the sidebar then sums a
few hundred rows instead of counting a million tickets. The two bulk UPDATEs on ticket outside a
flush (an admin remapping a status to another state) call `rebuild` afterwards.
"""

from __future__ import annotations

import functools
from collections import Counter
from typing import Any

from sqlalchemy import Connection, bindparam, case, event, func, inspect, literal, select, true
from sqlalchemy.orm import Session

from tui_helpdesk.models import Department, Ticket, TicketCount

_T = Ticket.__table__.c
_C = TicketCount.__table__.c
Key = tuple[int, int, str, bool]


def _value(obj: Ticket, name: str, old: bool) -> Any:
    hist = inspect(obj).attrs[name].history
    if not old:
        return getattr(obj, name)
    if hist.deleted:
        return hist.deleted[0]
    if hist.unchanged:
        return hist.unchanged[0]
    return getattr(obj, name)


def _key(obj: Ticket, old: bool) -> Key | None:
    if not _value(obj, "visible", old):
        return None
    return (
        int(_value(obj, "department_id", old)),
        int(_value(obj, "assignee_id", old) or 0),
        str(_value(obj, "state", old)),
        bool(_value(obj, "is_overdue", old)),
    )


def _deltas(session: Session) -> Counter[Key]:
    moves: Counter[Key] = Counter()
    for obj in session.new:
        if isinstance(obj, Ticket):
            new = _key(obj, old=False)
            if new is not None:
                moves[new] += 1
    for obj in session.dirty:
        if isinstance(obj, Ticket) and session.is_modified(obj, include_collections=False):
            before, after = _key(obj, old=True), _key(obj, old=False)
            if before != after:
                if before is not None:
                    moves[before] -= 1
                if after is not None:
                    moves[after] += 1
    for obj in session.deleted:
        if isinstance(obj, Ticket):
            before = _key(obj, old=True)
            if before is not None:
                moves[before] -= 1
    return moves


def _upsert(conn: Connection, key: Key, n: int) -> None:
    values = dict(zip(("department_id", "assignee_id", "state", "is_overdue"), key, strict=True), n=n)
    conn.execute(_upsert_statement(conn.dialect.name), values)


@functools.cache
def _upsert_statement(dialect: str) -> Any:
    # built once per engine kind: every ticket write runs it, and building it cost more than running it
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(TicketCount.__table__)
    return stmt.on_conflict_do_update(
        index_elements=["department_id", "assignee_id", "state", "is_overdue"],
        set_={"n": TicketCount.__table__.c.n + stmt.excluded.n},
    )


@event.listens_for(Session, "before_flush")
def _track(session: Session, _context: Any, _instances: Any) -> None:
    moves = _deltas(session)
    if not any(moves.values()):
        return
    conn = session.connection()
    # a fixed order, so two PostgreSQL writers never wait on each other's rows in a cycle
    for key in sorted(k for k, n in moves.items() if n):
        _upsert(conn, key, moves[key])


def rebuild(conn: Connection) -> None:
    """Recount from the ticket table (after a bulk load or a bulk UPDATE that bypassed the ORM)."""
    # one expression object in SELECT and GROUP BY: PostgreSQL matches them only when they render the
    # same bound parameter
    assignee = func.coalesce(_T.assignee_id, literal(0))
    conn.execute(TicketCount.__table__.delete())
    conn.execute(
        TicketCount.__table__.insert().from_select(
            ["department_id", "assignee_id", "state", "is_overdue", "n"],
            select(_T.department_id, assignee, _T.state, _T.is_overdue, func.count())
            .where(_T.visible == true())
            .group_by(_T.department_id, assignee, _T.state, _T.is_overdue),
        )
    )


# What the sidebar adds up, per department: (name, condition on a counter row).
_OPEN, _ACTIVE = ("new", "open"), ("new", "open", "pending")
SUMS = ("all", "open", "unassigned", "pending", "resolved", "overdue")


def _sum(cond: Any) -> Any:
    return func.coalesce(func.sum(case((cond, _C.n), else_=0)), 0)


@functools.cache
def _per_department_statement() -> Any:
    """One row per department: SUMS over every counter row of it, the same SUMS over the rows assigned
    to the agent (`me`), and the agent's active tickets there. The department table leads, so a
    department with no tickets still has its row; each department is one range of the key."""
    me = _C.assignee_id == bindparam("me")
    conds = (
        true(),
        _C.state.in_(_OPEN),
        _C.state.in_(_OPEN) & (_C.assignee_id == 0),
        _C.state == "pending",
        _C.state == "resolved",
        _C.is_overdue.is_(True) & _C.state.in_(_ACTIVE),
    )
    d = Department.__table__.c
    return (
        select(d.id, *(_sum(c) for c in conds), *(_sum(me & c) for c in conds), _sum(me & _C.state.in_(_ACTIVE)))
        .select_from(Department.__table__.outerjoin(TicketCount.__table__, _C.department_id == d.id))
        .group_by(d.id)
        .order_by(d.id)
    )


def per_department(conn: Connection, agent_id: int | None) -> list[tuple[int, tuple[int, ...], tuple[int, ...], int]]:
    """(department id, SUMS, SUMS of the agent's own tickets, the agent's active tickets) for every
    department, in one statement over the counters: a few hundred rows read, whatever the tickets."""
    out = []
    width = len(SUMS)
    for row in conn.execute(_per_department_statement(), {"me": agent_id if agent_id is not None else -1}):
        values = tuple(int(v) for v in row[1:])
        out.append((int(row[0]), values[:width], values[width : 2 * width], values[-1]))
    return out
