"""The sidebar's counters: visible tickets per (department, assignee, state, overdue), kept exact.

Every change to a ticket row goes through an ORM flush (create, status, assign, transfer, merge,
archive, ingest, the lifecycle and SLA passes), so one `before_flush` hook sees each one and moves
its ticket from the old key to the new one in the same transaction, and the department's row of
department_count (the same key without the assignee) with it. Reading the sidebar then sums a
department's dozen rows and the agent's own instead of counting a million tickets. The two bulk
UPDATEs on ticket outside a flush (an admin remapping a status to another state) call `rebuild` afterwards.
"""

from __future__ import annotations

import functools
from collections import Counter
from typing import Any

from sqlalchemy import Connection, bindparam, case, event, func, inspect, literal, select, true
from sqlalchemy.orm import Session

from tui_helpdesk.models import Department, DepartmentCount, Ticket, TicketCount

_T = Ticket.__table__.c
_C = TicketCount.__table__.c
_D = DepartmentCount.__table__.c
Key = tuple[int, int, str, bool]
_KEY = ("department_id", "assignee_id", "state", "is_overdue")
_DEPT_KEY = ("department_id", "state", "is_overdue", "unassigned")


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


def _upsert(conn: Connection, table: Any, names: tuple[str, ...], key: tuple, n: int) -> None:
    values = dict(zip(names, key, strict=True), n=n)
    conn.execute(_upsert_statement(conn.dialect.name, table, names), values)


@functools.cache
def _upsert_statement(dialect: str, table: Any, names: tuple[str, ...]) -> Any:
    # built once per engine kind and table: every ticket write runs it, and building it cost more than running it
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table)
    return stmt.on_conflict_do_update(index_elements=list(names), set_={"n": table.c.n + stmt.excluded.n})


@event.listens_for(Session, "before_flush")
def _track(session: Session, _context: Any, _instances: Any) -> None:
    moves = _deltas(session)
    if not any(moves.values()):
        return
    conn = session.connection()
    per_dept: Counter[tuple[int, str, bool, bool]] = Counter()
    # a fixed order, so two PostgreSQL writers never wait on each other's rows in a cycle
    for key in sorted(k for k, n in moves.items() if n):
        _upsert(conn, TicketCount.__table__, _KEY, key, moves[key])
        dept, assignee, state, overdue = key
        per_dept[(dept, state, overdue, assignee == 0)] += moves[key]
    for key in sorted(k for k, n in per_dept.items() if n):
        _upsert(conn, DepartmentCount.__table__, _DEPT_KEY, key, per_dept[key])


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
    unassigned = _C.assignee_id == 0
    conn.execute(DepartmentCount.__table__.delete())
    conn.execute(
        DepartmentCount.__table__.insert().from_select(
            list(_DEPT_KEY) + ["n"],
            select(_C.department_id, _C.state, _C.is_overdue, unassigned, func.sum(_C.n))
            .group_by(_C.department_id, _C.state, _C.is_overdue, unassigned),
        )
    )


# What the sidebar adds up, per department: (name, condition on a counter row).
_OPEN, _ACTIVE = ("new", "open"), ("new", "open", "pending")
SUMS = ("all", "open", "unassigned", "pending", "resolved", "overdue")


def _sums(n: Any, table: Any, unassigned: Any) -> list[Any]:
    """SUMS over counter rows of `table` (whose count is `n`), in that order."""
    conds = (
        true(),
        table.state.in_(_OPEN),
        table.state.in_(_OPEN) & unassigned,
        table.state == "pending",
        table.state == "resolved",
        table.is_overdue.is_(True) & table.state.in_(_ACTIVE),
    )
    return [func.sum(case((c, n), else_=0)) for c in conds]


@functools.cache
def _per_department_statement() -> Any:
    """One row per department: SUMS over its department counters (at most 20 rows), the same SUMS over
    the agent's (`me`) rows of it in ticket_count (read by ix_ticket_count_assignee), and the agent's
    active tickets there. The department table leads, so a department with no tickets still has its row."""
    everyone = (
        select(_D.department_id, *(s.label(f"e{i}") for i, s in enumerate(_sums(_D.n, _D, _D.unassigned.is_(True)))))
        .group_by(_D.department_id).subquery("everyone")
    )
    own = (
        select(_C.department_id, *(s.label(f"m{i}") for i, s in enumerate(_sums(_C.n, _C, _C.assignee_id == 0))),
               func.sum(case((_C.state.in_(_ACTIVE), _C.n), else_=0)).label("active"))
        .where(_C.assignee_id == bindparam("me")).group_by(_C.department_id).subquery("own")
    )
    d = Department.__table__.c
    width = len(SUMS)
    return (
        select(d.id, *(func.coalesce(everyone.c[f"e{i}"], 0) for i in range(width)),
               *(func.coalesce(own.c[f"m{i}"], 0) for i in range(width)), func.coalesce(own.c.active, 0))
        .select_from(Department.__table__.outerjoin(everyone, everyone.c.department_id == d.id)
                     .outerjoin(own, own.c.department_id == d.id))
        .order_by(d.id)
    )


def per_department(conn: Connection, agent_id: int | None) -> list[tuple[int, tuple[int, ...], tuple[int, ...], int]]:
    """(department id, SUMS, SUMS of the agent's own tickets, the agent's active tickets) for every
    department, in one statement over the counters: a few dozen rows read, whatever the tickets."""
    out = []
    width = len(SUMS)
    for row in conn.execute(_per_department_statement(), {"me": agent_id if agent_id is not None else -1}):
        values = tuple(int(v) for v in row[1:])
        out.append((int(row[0]), values[:width], values[width : 2 * width], values[-1]))
    return out
