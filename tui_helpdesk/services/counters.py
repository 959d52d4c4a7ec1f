"""The sidebar's counters: visible tickets per (department, assignee, state, overdue), kept exact.

Every change to a ticket row goes through an ORM flush (create, status, assign, transfer, merge,
archive, ingest, the lifecycle and SLA passes), so one `before_flush` hook sees each one and moves
its ticket from the old key to the new one in the same transaction. Reading the sidebar then sums a
few hundred rows instead of counting a million tickets. The two bulk UPDATEs on ticket outside a
flush (an admin remapping a status to another state) call `rebuild` afterwards.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection, event, func, inspect, literal, select, true
from sqlalchemy.orm import Session

from tui_helpdesk.models import Ticket, TicketCount

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
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(TicketCount.__table__).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["department_id", "assignee_id", "state", "is_overdue"],
        set_={"n": TicketCount.__table__.c.n + stmt.excluded.n},
    )
    conn.execute(stmt)


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


def rows(conn: Connection, agent_id: int | None) -> list[tuple[Any, ...]]:
    """(department id, assigned to `agent_id`, unassigned, state, overdue, tickets): a few hundred rows
    at most, whatever the number of tickets."""
    me = _C.assignee_id == (agent_id or -1)
    none = _C.assignee_id == 0
    stmt = (
        select(
            _C.department_id, me.label("mine"), none.label("unassigned"), _C.state, _C.is_overdue, func.sum(_C.n)
        )
        .where(_C.n != 0)
        .group_by(_C.department_id, me, none, _C.state, _C.is_overdue)
    )
    return [tuple(r) for r in conn.execute(stmt)]  # type: ignore[misc]
