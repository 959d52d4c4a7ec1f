"""The reports' write side: facts and the backlog counters, kept in the transaction of every write.

Like the sidebar counters (counters.py), one flush hook sees every ticket row that changes and
every new reply, so the reports never count over the ticket table: a period's figures are index ranges
over `report_fact` (services/reports.py), the backlog now is a sum over `report_backlog`, and the
backlog of a past day is the backlog now minus the backlog moves since.

The times in a fact come from the ticket (created_at, status_changed_at, first_response_at, the reply's
created_at), so a write replayed under a pinned clock (the demo) lands on its own day. Durations are
business minutes when the ticket's SLA plan has a schedule, calendar minutes otherwise (schedules.py).
Bulk loads and UPDATEs that bypass the ORM call `rebuild` afterwards.
"""

from __future__ import annotations

import functools
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, event, inspect, select
from sqlalchemy.orm import Session

from tui_helpdesk import clock
from tui_helpdesk.models import ReportBacklog, ReportFact, Schedule, SLAPlan, Ticket, TicketEntry

BACKLOG_STATES = ("new", "open", "pending")
DIMS = ("department_id", "assignee_id", "team_id", "topic_id", "organization_id", "priority_id")
BacklogKey = tuple[int, int, int, int, int, int, bool]


def _value(obj: Any, name: str, old: bool) -> Any:
    if not old:
        return getattr(obj, name)
    hist = inspect(obj).attrs[name].history
    if hist.deleted:
        return hist.deleted[0]
    if hist.unchanged:
        return hist.unchanged[0]
    return getattr(obj, name)


def _dims(obj: Ticket, old: bool) -> dict[str, Any]:
    return {d: _value(obj, d, old) for d in DIMS}


def _in_backlog(obj: Ticket, old: bool) -> bool:
    return bool(_value(obj, "visible", old)) and _value(obj, "state", old) in BACKLOG_STATES


def _backlog_key(obj: Ticket, old: bool) -> BacklogKey | None:
    if not _in_backlog(obj, old):
        return None
    d = _dims(obj, old)
    return (*(int(d[k] or 0) for k in DIMS), bool(_value(obj, "is_overdue", old)))  # type: ignore[return-value]


def elapsed_minutes(session: Session, plan_id: int | None, start: datetime, end: datetime) -> int:
    """Minutes from start to end: working minutes of the SLA plan's schedule, else calendar minutes."""
    from tui_helpdesk.services import schedules

    start, end = clock.as_utc(start), clock.as_utc(end)
    if end <= start:
        return 0
    plan = session.get(SLAPlan, plan_id) if plan_id is not None else None
    schedule = session.get(Schedule, plan.schedule_id) if plan is not None and plan.schedule_id else None
    if schedule is None:
        return int((end - start).total_seconds() // 60)
    return int(schedules.business_time_between(session, schedule, start, end).total_seconds() // 60)


def _fact(kind: str, at: datetime, ticket: Ticket, dims: dict[str, Any], **extra: Any) -> dict[str, Any]:
    row = {"kind": kind, "at": clock.as_utc(at), "ticket_id": ticket.id, "agent_id": None, "n": 1,
           "minutes": None, "sla_met": None, **dims}
    row.update(extra)
    return row


def _ticket_facts(session: Session, obj: Ticket, new: bool, replier: dict[int, int | None],
                  facts: list[dict[str, Any]], moves: Counter[BacklogKey]) -> None:
    now = clock.now()
    after = _dims(obj, old=False)
    before_key = None if new else _backlog_key(obj, old=True)
    after_key = _backlog_key(obj, old=False)
    state_old = None if new else _value(obj, "state", old=True)
    state_new = obj.state
    changed_at = obj.status_changed_at or now
    if new:
        facts.append(_fact("created", obj.created_at or now, obj, after))
    elif state_old in BACKLOG_STATES and state_new not in BACKLOG_STATES and obj.visible:
        due = obj.due_at
        met = None if due is None else clock.as_utc(changed_at) <= clock.as_utc(due)
        minutes = elapsed_minutes(session, obj.sla_plan_id, obj.created_at, changed_at)
        facts.append(_fact("closed", changed_at, obj, after, minutes=minutes, sla_met=met))
    elif state_old not in BACKLOG_STATES and state_new in BACKLOG_STATES and obj.visible:
        facts.append(_fact("reopened", changed_at, obj, after))
    first_old = None if new else _value(obj, "first_response_at", old=True)
    if obj.first_response_at is not None and first_old is None:
        minutes = elapsed_minutes(session, obj.sla_plan_id, obj.created_at, obj.first_response_at)
        facts.append(_fact("first_response", obj.first_response_at, obj, after, minutes=minutes,
                           agent_id=replier.get(obj.id)))
    if before_key != after_key:
        if before_key is not None:
            moves[before_key] -= 1
        if after_key is not None:
            moves[after_key] += 1
        # an overdue flag alone is no backlog move
        if before_key is None or after_key is None or before_key[:-1] != after_key[:-1]:
            at = changed_at if state_old != state_new else now
            if new:
                at = obj.created_at or now
            if before_key is not None:
                facts.append(_fact("backlog", at, obj, _dims(obj, old=True), n=-1))
            if after_key is not None:
                facts.append(_fact("backlog", at, obj, after, n=1))


def _collect(session: Session) -> tuple[list[dict[str, Any]], Counter[BacklogKey]]:
    facts: list[dict[str, Any]] = []
    moves: Counter[BacklogKey] = Counter()
    replies = [o for o in session.new if isinstance(o, TicketEntry) and o.kind == "reply"]
    replier = {e.ticket_id: e.agent_id for e in replies}
    for obj in session.new:
        if isinstance(obj, Ticket):
            _ticket_facts(session, obj, True, replier, facts, moves)
    for obj in session.dirty:
        if isinstance(obj, Ticket) and session.is_modified(obj, include_collections=False):
            _ticket_facts(session, obj, False, replier, facts, moves)
    for obj in session.deleted:
        if isinstance(obj, Ticket):
            key = _backlog_key(obj, old=True)
            if key is not None:
                moves[key] -= 1
                facts.append(_fact("backlog", clock.now(), obj, _dims(obj, old=True), n=-1))
    for entry in replies:
        ticket = session.get(Ticket, entry.ticket_id)
        if ticket is not None:
            facts.append(_fact("reply", entry.created_at or clock.now(), ticket, _dims(ticket, old=False),
                               agent_id=entry.agent_id))
    return facts, moves


def _upsert(conn: Connection, key: BacklogKey, n: int) -> None:
    values = dict(zip((*DIMS, "is_overdue"), key, strict=True), n=n)
    conn.execute(_upsert_statement(conn.dialect.name), values)


@functools.cache
def _upsert_statement(dialect: str) -> Any:
    # built once per engine kind: every ticket write runs it, and building it cost more than running it
    names = (*DIMS, "is_overdue")
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(ReportBacklog.__table__)
    return stmt.on_conflict_do_update(index_elements=list(names),
                                      set_={"n": ReportBacklog.__table__.c.n + stmt.excluded.n})


@event.listens_for(Session, "after_flush")
def _track(session: Session, _context: Any) -> None:
    # after the flush, so new tickets have their ids; the session still lists what the flush wrote, with
    # each attribute's history, as before it
    if not any(isinstance(o, Ticket | TicketEntry) for o in (*session.new, *session.dirty, *session.deleted)):
        return
    with session.no_autoflush:
        facts, moves = _collect(session)
    conn = session.connection()
    if facts:
        conn.execute(_fact_insert(), facts)
    # a fixed order, so two PostgreSQL writers never wait on each other's rows in a cycle
    for key in sorted(k for k, n in moves.items() if n):
        _upsert(conn, key, moves[key])


@functools.cache
def _fact_insert() -> Any:
    return ReportFact.__table__.insert()


def _minutes_between(conn: Connection, start: Any, end: Any) -> Any:
    """Whole minutes from start to end, in SQL (the stored instants are whole seconds)."""
    from sqlalchemy import Integer, cast, func

    if conn.dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", end - start) / 60), Integer)
    return cast(func.round((func.julianday(end) - func.julianday(start)) * 86400), Integer) / 60


def rebuild(conn: Connection) -> None:
    """Facts and backlog counters from the rows already there (after a bulk load; the migration that
    made the tables): created, closed (resolved_at or closed_at), first response, reopened (the thread's
    events), replies; durations in calendar minutes. Backlog moves are the creation of every ticket and
    the close of those done. A few INSERT ... SELECT statements: 6M facts at 1M tickets."""
    from sqlalchemy import case, func, literal, null, true

    from tui_helpdesk.models import TicketEvent

    t = Ticket.__table__.c
    conn.execute(ReportFact.__table__.delete())
    conn.execute(ReportBacklog.__table__.delete())
    dims = [getattr(t, d) for d in DIMS]
    cols = ["kind", "at", "ticket_id", *DIMS, "agent_id", "n", "minutes", "sla_met"]
    none = null()
    done = t.state.not_in(BACKLOG_STATES)
    end = func.coalesce(t.resolved_at, t.closed_at, t.status_changed_at, t.updated_at)

    def insert(kind: str, at: Any, *where: Any, n: int = 1, agent: Any = none, minutes: Any = none,
               met: Any = none, source: Any = None, ticket: Any = t.id) -> None:
        stmt = select(literal(kind), at, ticket, *dims, agent, literal(n), minutes, met)
        if source is not None:
            stmt = stmt.select_from(source)
        conn.execute(ReportFact.__table__.insert().from_select(cols, stmt.where(*where) if where else stmt))

    insert("created", t.created_at)
    insert("backlog", t.created_at)
    insert("first_response", t.first_response_at, t.first_response_at.is_not(None),
           minutes=_minutes_between(conn, t.created_at, t.first_response_at))
    insert("closed", end, done, t.visible == true(), minutes=_minutes_between(conn, t.created_at, end),
           met=case((t.due_at.is_(None), none), else_=end <= t.due_at))
    insert("backlog", end, done, n=-1)
    insert("backlog", t.updated_at, t.state.in_(BACKLOG_STATES), t.visible.is_not(true()), n=-1)
    ev, en = TicketEvent.__table__, TicketEntry.__table__
    insert("reopened", ev.c.created_at, ev.c.kind == "reopened", ticket=ev.c.ticket_id,
           source=ev.join(Ticket.__table__, t.id == ev.c.ticket_id))
    insert("reply", en.c.created_at, en.c.kind == "reply", en.c.deleted_at.is_(None), ticket=en.c.ticket_id,
           agent=en.c.agent_id, source=en.join(Ticket.__table__, t.id == en.c.ticket_id))
    keys = [func.coalesce(d, literal(0)) for d in dims]
    conn.execute(ReportBacklog.__table__.insert().from_select(
        [*DIMS, "is_overdue", "n"],
        select(*keys, t.is_overdue, func.count()).where(t.visible == true(), t.state.in_(BACKLOG_STATES))
        .group_by(*keys, t.is_overdue),
    ))


def rebuild_backlog(conn: Connection) -> None:
    """Recount the backlog counters from the ticket table after a bulk UPDATE that bypassed the flush
    (an admin remapping a status to another state). Each key's change is written as a backlog move now
    (ticket 0: no one ticket), so the backlog of the days before stays what it was."""
    from sqlalchemy import func, literal, true

    t = Ticket.__table__.c
    b = ReportBacklog.__table__.c
    keys = [func.coalesce(getattr(t, d), literal(0)) for d in DIMS]
    counted: Counter[BacklogKey] = Counter()
    stmt = (select(*keys, t.is_overdue, func.count()).where(t.visible == true(), t.state.in_(BACKLOG_STATES))
            .group_by(*keys, t.is_overdue))
    for *k, overdue, n in conn.execute(stmt):
        counted[(*(int(v) for v in k), bool(overdue))] += int(n)  # type: ignore[index]
    before: Counter[BacklogKey] = Counter()
    for *k, overdue, n in conn.execute(select(*(getattr(b, d) for d in DIMS), b.is_overdue, b.n)):
        before[(*(int(v) for v in k), bool(overdue))] += int(n)  # type: ignore[index]
    moves: Counter[BacklogKey] = Counter()
    for key in {*counted, *before}:
        if counted[key] != before[key]:
            moves[key[:-1] + (False,)] += counted[key] - before[key]  # type: ignore[operator]
    conn.execute(ReportBacklog.__table__.delete())
    rows = [dict(zip((*DIMS, "is_overdue"), k, strict=True), n=n) for k, n in sorted(counted.items()) if n]
    for i in range(0, len(rows), 5000):
        conn.execute(ReportBacklog.__table__.insert(), rows[i:i + 5000])
    now = clock.now()
    facts = [{"kind": "backlog", "at": now, "ticket_id": 0, "agent_id": None, "n": n, "minutes": None,
              "sla_met": None, **{d: (v or None) for d, v in zip(DIMS, k[:-1], strict=True)}}
             for k, n in sorted(moves.items()) if n]
    if facts:
        conn.execute(_fact_insert(), facts)
