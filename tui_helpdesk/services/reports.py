"""The dashboard's figures, one place for each: every face (the F3 screen, `helpdesk report`, the API later)
asks these functions with an actor and gets plain rows back.

Where the numbers come from: `report_fact` and `report_backlog`, kept in every write's transaction
(report_facts.py), and `time_entry` by its work date. Each figure is a few index ranges over the
period, never a count over the ticket table, so 30 days at 1M tickets stay well under a second
(benchmarks/reports.py).

Who sees what: any agent may open the reports (there is no reports permission: the figures are a view
of tickets the agent can already list); an agent's figures count only the tickets of their departments
and those assigned to them (visibility.scope_of), the same scope as the queue. Admins see everything.
A fact keeps the department and assignee the ticket had when it happened, so a ticket transferred
later counts where it was then.

Days are UTC days (as time entries' work dates). Durations are minutes from the ticket's creation, in
business minutes when its SLA plan has a schedule. The median is the middle value (the mean of the two
middle ones for an even count); the 90th percentile is the nearest rank (the smallest value at or above
90% of them).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, or_, select

from tui_helpdesk.models import (
    Agent,
    Department,
    HelpTopic,
    Organization,
    Priority,
    ReportBacklog,
    ReportFact,
    Team,
    Ticket,
    TimeEntry,
)

from . import visibility
from .context import Tx
from .errors import ValidationError

PERIODS = ("today", "7d", "30d", "month")  # and YYYY-MM, or --from/--to
# breakdown name -> the column of facts and tickets it groups by
BREAKDOWNS = {
    "department": "department_id",
    "agent": "assignee_id",
    "team": "team_id",
    "topic": "topic_id",
    "organization": "organization_id",
    "priority": "priority_id",
}
_NAMES = {"department": Department, "agent": Agent, "team": Team, "topic": HelpTopic,
          "organization": Organization, "priority": Priority}
MAX_DAYS = 366 * 2

_F = ReportFact.__table__.c
_B = ReportBacklog.__table__.c
_T = Ticket.__table__.c
_E = TimeEntry.__table__.c


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC, whole days; `first` and `last` are the days it covers."""

    first: date
    last: date
    label: str

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=UTC)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def as_json(self) -> dict[str, str]:
        return {"label": self.label, "from": self.first.isoformat(), "to": self.last.isoformat()}


def _date(value: date | str, name: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(name, f"{value!r} is not a date (YYYY-MM-DD)") from None


def period(name: str | None = "30d", *, start: date | str | None = None, end: date | str | None = None,
           now: datetime | None = None) -> Period:
    """A period by name (today, 7d, 30d, month: this month, YYYY-MM: that month) or from/to dates (both
    included; either alone runs to today or from 30 days before `to`)."""
    from tui_helpdesk import clock

    today = (now or clock.now()).astimezone(UTC).date()
    if start is not None or end is not None:
        last = _date(end, "to") if end is not None else today
        first = _date(start, "from") if start is not None else last - timedelta(days=29)
        if last < first:
            raise ValidationError("to", f"{last} is before {first}")
        if (last - first).days >= MAX_DAYS:
            raise ValidationError("from", f"a period is at most {MAX_DAYS} days")
        return Period(first, last, f"{first} to {last}")
    name = (name or "30d").strip().lower()
    if name == "today":
        return Period(today, today, "today")
    if name in ("7d", "30d"):
        n = int(name[:-1])
        return Period(today - timedelta(days=n - 1), today, f"last {n} days")
    if name == "month":
        name = today.strftime("%Y-%m")
    try:
        first = datetime.strptime(name, "%Y-%m").date()
    except ValueError:
        raise ValidationError("period", f"{name!r} is not today, 7d, 30d, month or YYYY-MM") from None
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return Period(first, nxt - timedelta(days=1), first.strftime("%B %Y"))


def _breakdown(by: str | None) -> str | None:
    if by in (None, "", "none"):
        return None
    if by not in BREAKDOWNS:
        raise ValidationError("by", f"{by!r} is not one of {', '.join(BREAKDOWNS)}")
    return by


def _scope(tx: Tx, cols: Any) -> ColumnElement[bool] | None:
    """The actor's visibility (visibility.scope_of) on a table carrying department_id and assignee_id."""
    scope = visibility.scope_of(tx)
    if scope.department_ids is None:
        return None
    parts: list[ColumnElement[bool]] = []
    if scope.department_ids:
        parts.append(cols.department_id.in_(scope.department_ids))
    if scope.agent_id is not None:
        parts.append(cols.assignee_id == scope.agent_id)
    return or_(*parts) if parts else literal(False)


def _where(stmt: Any, *conds: ColumnElement[bool] | None) -> Any:
    real = [c for c in conds if c is not None]
    return stmt.where(and_(*real)) if real else stmt


def _in_period(p: Period) -> ColumnElement[bool]:
    return and_(_F.at >= p.start, _F.at < p.end)


def _key_col(by: str | None, cols: Any, *, agent_col: Any = None) -> Any:
    if by is None:
        return literal(0)
    if by == "agent" and agent_col is not None:
        return agent_col
    return getattr(cols, BREAKDOWNS[by])


def _key(value: Any) -> int | None:
    return None if value in (None, 0) else int(value)


# --- the figures: each one a function, each timed by benchmarks/reports.py ---


def counts(tx: Tx, p: Period, by: str | None = None) -> dict[int | None, dict[str, int]]:
    """Tickets created, closed (resolved or closed) and reopened in the period, per breakdown key."""
    by = _breakdown(by)
    key = _key_col(by, _F)
    stmt = _where(select(key, _F.kind, func.count()).group_by(key, _F.kind),
                  _F.kind.in_(("created", "closed", "reopened")), _in_period(p), _scope(tx, _F))
    out: dict[int | None, dict[str, int]] = defaultdict(lambda: {"created": 0, "closed": 0, "reopened": 0})
    for k, kind, n in tx.session.execute(stmt):
        out[_key(k) if by else None][kind] += int(n)
    return dict(out)


def backlog_now(tx: Tx, by: str | None = None) -> dict[int | None, dict[str, int]]:
    """Tickets in the backlog (new, open, pending) now, and how many of them are overdue.

    In total, per department and per agent it sums the sidebar's counters (a few hundred rows,
    counters.py); the other keys sum report_backlog."""
    from tui_helpdesk.models import TicketCount

    from .report_facts import BACKLOG_STATES

    by = _breakdown(by)
    if by in (None, "department", "agent"):
        cols = TicketCount.__table__.c
        extra = cols.state.in_(BACKLOG_STATES)
    else:
        cols, extra = _B, None
    key = _key_col(by, cols)
    stmt = _where(select(key, cols.is_overdue, func.sum(cols.n)).group_by(key, cols.is_overdue), cols.n != 0,
                  extra, _scope(tx, cols))
    out: dict[int | None, dict[str, int]] = defaultdict(lambda: {"backlog": 0, "overdue": 0})
    for k, overdue, n in tx.session.execute(stmt):
        row = out[_key(k) if by else None]
        row["backlog"] += int(n or 0)
        if overdue:
            row["overdue"] += int(n or 0)
    return dict(out)


def median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def p90(values: Sequence[float]) -> float | None:
    """Nearest rank: the value at position ceil(0.9 n) of the sorted values."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)])


def _timings(tx: Tx, p: Period, by: str | None) -> dict[int | None, tuple[list[int], list[int], list[int]]]:
    """Per key: first response minutes, resolution minutes, and [met, breached]."""
    key = _key_col(by, _F)
    stmt = _where(select(key, _F.kind, _F.minutes, _F.sla_met),
                  _F.kind.in_(("first_response", "closed")), _in_period(p), _scope(tx, _F))
    out: dict[int | None, tuple[list[int], list[int], list[int]]] = defaultdict(lambda: ([], [], [0, 0]))
    for k, kind, minutes, met in tx.session.execute(stmt):
        first, resolved, sla = out[_key(k) if by else None]
        if kind == "first_response":
            first.append(int(minutes or 0))
        else:
            resolved.append(int(minutes or 0))
            if met is not None:
                sla[0 if met else 1] += 1
    return out


def _timing_figures(first: list[int], resolved: list[int], sla: list[int]) -> dict[str, Any]:
    return {"first_response_median": median(first), "first_response_p90": p90(first),
            "resolution_median": median(resolved), "resolution_p90": p90(resolved),
            "sla_met": sla[0], "sla_breached": sla[1]}


def durations(tx: Tx, p: Period, by: str | None = None) -> dict[int | None, dict[str, Any]]:
    """First response and resolution times (median, p90, minutes) and SLA met/breached, for the first
    responses and the resolutions that happened in the period."""
    return {k: _timing_figures(*v) for k, v in _timings(tx, p, _breakdown(by)).items()}


def replies(tx: Tx, p: Period, by: str | None = "agent") -> dict[int | None, int]:
    """Public replies in the period: per replying agent for `agent`, else per the ticket's key."""
    by = _breakdown(by)
    key = _key_col(by, _F, agent_col=_F.agent_id)
    stmt = _where(select(key, func.count()).group_by(key), _F.kind == "reply", _in_period(p), _scope(tx, _F))
    return {(_key(k) if by else None): int(n) for k, n in tx.session.execute(stmt)}


def time_logged(tx: Tx, p: Period, by: str | None = "agent") -> dict[int | None, int]:
    """Minutes of time entries worked in the period (by work date): per agent who logged them for
    `agent`, else per the ticket's key now."""
    by = _breakdown(by)
    key = _key_col(by, _T, agent_col=_E.agent_id)
    stmt = (
        select(key, func.sum(_E.minutes)).select_from(TimeEntry.__table__.join(Ticket.__table__, _T.id == _E.ticket_id))
        .group_by(key)
    )
    stmt = _where(stmt, _E.work_date >= p.first, _E.work_date <= p.last, visibility.where_visible(tx))
    return {(_key(k) if by else None): int(n or 0) for k, n in tx.session.execute(stmt)}


def _day_col(col: Any, dialect: str) -> Any:
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", col), "YYYY-MM-DD")
    return func.substr(col, 1, 10)  # stored as UTC text, 'YYYY-MM-DD HH:MM:SS'


@dataclass(frozen=True)
class DayRow:
    day: date
    created: int
    closed: int
    reopened: int
    backlog: int  # at the end of the day


def daily(tx: Tx, p: Period, backlog: int | None = None) -> list[DayRow]:
    """Per day of the period: created, closed, reopened, and the backlog at the day's end (the backlog now,
    or `backlog` when the caller has read it, minus the moves since)."""
    dialect = tx.session.get_bind().dialect.name
    day = _day_col(_F.at, dialect)
    scope = _scope(tx, _F)
    stmt = _where(select(day, _F.kind, func.sum(_F.n)).group_by(day, _F.kind),
                  _F.kind.in_(("created", "closed", "reopened", "backlog")), _in_period(p), scope)
    per: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for d, kind, n in tx.session.execute(stmt):
        per[str(d)][kind] += int(n or 0)
    later = tx.session.execute(
        _where(select(func.coalesce(func.sum(_F.n), 0)), _F.kind == "backlog", _F.at >= p.end, scope)
    ).scalar_one()
    if backlog is None:
        backlog = sum(r["backlog"] for r in backlog_now(tx).values())
    level = backlog - int(later)
    rows: list[DayRow] = []
    for d in reversed(p.days):
        c = per.get(d.isoformat(), {})
        rows.append(DayRow(d, c.get("created", 0), c.get("closed", 0), c.get("reopened", 0), level))
        level -= c.get("backlog", 0)
    rows.reverse()
    return rows


# --- the table a face shows: every figure per breakdown key ---


@dataclass(frozen=True)
class BreakdownRow:
    key: int | None
    label: str
    created: int = 0
    closed: int = 0
    reopened: int = 0
    backlog: int = 0
    overdue: int = 0
    first_response_median: float | None = None
    first_response_p90: float | None = None
    resolution_median: float | None = None
    resolution_p90: float | None = None
    sla_met: int = 0
    sla_breached: int = 0
    replies: int = 0
    minutes_logged: int = 0


COLUMNS = tuple(f.name for f in fields(BreakdownRow))


@dataclass(frozen=True)
class Report:
    period: Period
    by: str | None
    rows: list[BreakdownRow]
    total: BreakdownRow
    days: list[DayRow] = field(default_factory=list)


def labels(tx: Tx, by: str, keys: Iterable[int | None]) -> dict[int | None, str]:
    model = _NAMES[by]
    ids = [k for k in keys if k is not None]
    names: dict[int | None, str] = {None: f"(no {by})"}
    if ids:
        for i, name in tx.session.execute(select(model.id, model.name).where(model.id.in_(ids))):
            names[i] = name
    return names


def _row(key: int | None, label: str, *parts: dict[str, Any] | None, replies: int = 0, minutes: int = 0) -> BreakdownRow:
    values: dict[str, Any] = {}
    for part in parts:
        if part:
            values.update(part)
    return BreakdownRow(key=key, label=label, replies=replies, minutes_logged=minutes,
                        **{k: v for k, v in values.items() if k in COLUMNS})


def report(tx: Tx, p: Period, by: str | None = None, *, with_days: bool = False) -> Report:
    """Every figure of the period per breakdown key (rows sorted by label), the totals, and optionally the
    per-day series."""
    by = _breakdown(by)
    c, b = counts(tx, p, by), backlog_now(tx, by)
    timings = _timings(tx, p, by)
    d = {k: _timing_figures(*v) for k, v in timings.items()}
    r, m = replies(tx, p, by), time_logged(tx, p, by)
    total_parts = (_sum(c.values()), _sum(b.values()))
    # percentiles do not add up: the total's are over every key's values
    every = ([x for v in timings.values() for x in v[0]], [x for v in timings.values() for x in v[1]],
             [sum(v[2][0] for v in timings.values()), sum(v[2][1] for v in timings.values())])
    total = _row(None, "all", *total_parts, _timing_figures(*every), replies=sum(r.values()), minutes=sum(m.values()))
    rows: list[BreakdownRow] = []
    if by is not None:
        keys = {*c, *b, *d, *r, *m}
        names = labels(tx, by, keys)
        rows = sorted(
            (_row(k, names.get(k, f"#{k}"), c.get(k), b.get(k), d.get(k), replies=r.get(k, 0), minutes=m.get(k, 0))
             for k in keys),
            key=lambda row: (row.key is None, row.label.lower()),
        )
    days = daily(tx, p, total.backlog) if with_days else []
    return Report(p, by, rows, total, days)


def _sum(parts: Iterable[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for part in parts:
        for k, v in part.items():
            out[k] += v
    return dict(out)


def as_table(rep: Report) -> list[dict[str, Any]]:
    """The breakdown rows then the total, as plain dicts (the CSV and JSON exports of every face): the
    key's name first, the figures (durations in minutes), then its id."""
    out = []
    name = rep.by or "breakdown"
    for row in [*rep.rows, rep.total]:
        values: dict[str, Any] = {name: row.label}
        values.update({k: getattr(row, k) for k in COLUMNS if k not in ("key", "label")})
        values["id"] = row.key
        out.append(values)
    return out


DURATION_COLUMNS = frozenset({"first_response_median", "first_response_p90", "resolution_median",
                              "resolution_p90", "minutes_logged"})


def format_minutes(minutes: float | None, *, days: bool = True) -> str:
    """Minutes as an agent reads them: 45m, 3h 20m, 2d 4h (time logged: 60h 00m, never days)."""
    if minutes is None:
        return "-"
    m = int(round(minutes))
    if m < 60:
        return f"{m}m"
    if m < 24 * 60 or not days:
        return f"{m // 60}h {m % 60:02d}m"
    return f"{m // 1440}d {m % 1440 // 60}h"


def days_table(rep: Report) -> list[dict[str, Any]]:
    return [{"day": d.day.isoformat(), "created": d.created, "closed": d.closed, "reopened": d.reopened,
             "backlog": d.backlog} for d in rep.days]


def to_csv(rows: list[dict[str, Any]]) -> str:
    """Rows as CSV (header from the first row); names are outside text, so control sequences go."""
    import csv
    import io

    from tui_helpdesk.untrusted import clean_line

    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else clean_line(v) if isinstance(v, str) else v for k, v in row.items()})
    return out.getvalue()


def export_json(rep: Report) -> dict[str, Any]:
    """The JSON export of every face: the period, the breakdown, its rows (total last) and the days."""
    return {"period": rep.period.as_json(), "by": rep.by, "rows": as_table(rep), "days": days_table(rep)}
