"""Admin use cases for SLA plans, schedules with holidays, scheduled tickets and the auto-close settings.

The same validation serves the admin screens and the CLI.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update

from tui_helpdesk import clock
from tui_helpdesk.models import Department, HelpTopic, Holiday, Schedule, ScheduledTicket, SLAPlan, Ticket

from . import lookup, settings, sla
from .context import Tx, audit, require_admin
from .errors import Conflict, NotFound, ValidationError
from .lifecycle import WAITING_STATES
from .schedules import parse_hours, zone

FREQUENCIES = ("daily", "weekly", "monthly", "yearly")
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# a scheduled ticket's lookups as the CLI options and the admin form name them
SCHEDULED_FIELDS = {"agent": "assignee", "email": "contact"}


@dataclass(frozen=True)
class PlanRow:
    id: int
    name: str
    grace_hours: int
    schedule: str
    active: bool
    is_default: bool


@dataclass(frozen=True)
class ScheduleRow:
    id: int
    name: str
    timezone: str
    hours: dict[str, Any]
    holidays: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ScheduledRow:
    id: int
    subject: str
    frequency: str
    next_run_at: datetime
    department: str
    contact: str
    priority: str
    assignee: str
    active: bool
    last_run_at: datetime | None


# --- SLA plans ---------------------------------------------------------------------------------------

def list_plans(tx: Tx) -> list[PlanRow]:
    rows = []
    for p in tx.session.execute(select(SLAPlan).order_by(SLAPlan.name)).scalars():
        sched = tx.session.get(Schedule, p.schedule_id) if p.schedule_id else None
        rows.append(PlanRow(p.id, p.name, p.grace_hours, sched.name if sched else "24/7", p.active, p.is_default))
    return rows


def save_plan(tx: Tx, *, plan_id: int | None = None, name: str, grace_hours: int, schedule: str | int | None = None,
              active: bool = True, is_default: bool = False) -> PlanRow:
    """Create or update a plan; a changed plan recomputes the due time of its open tickets."""
    require_admin(tx)
    s = tx.session
    name = (name or "").strip()
    if not name:
        raise ValidationError("name", "is required")
    try:
        grace_hours = int(grace_hours)
    except (TypeError, ValueError):
        raise ValidationError("grace_hours", f"{grace_hours!r} is not a whole number of hours") from None
    if grace_hours <= 0:
        raise ValidationError("grace_hours", "must be a positive number of hours")
    clash = s.execute(select(SLAPlan).where(func.lower(SLAPlan.name) == name.lower())).scalars().first()
    if clash is not None and clash.id != plan_id:
        raise ValidationError("name", f"a plan named {name!r} exists")
    sched_id = None
    if schedule not in (None, "", "24/7"):
        sched = _schedule(tx, schedule)
        sched_id = sched.id
    plan = s.get(SLAPlan, plan_id) if plan_id else SLAPlan(name=name)
    if plan is None:
        raise NotFound(f"no SLA plan {plan_id}")
    changed = plan_id is not None and (plan.grace_hours != int(grace_hours) or plan.schedule_id != sched_id)
    plan.name, plan.grace_hours, plan.schedule_id, plan.active = name, int(grace_hours), sched_id, bool(active)
    if is_default:
        s.execute(update(SLAPlan).values(is_default=False))
    plan.is_default = bool(is_default)
    s.add(plan)
    s.flush()
    if changed:
        recompute_due(tx, plan.id)
    audit(tx, "sla_plan.save", "sla_plan", plan.id, name=name, grace_hours=int(grace_hours), schedule_id=sched_id)
    return next(r for r in list_plans(tx) if r.id == plan.id)


def recompute_due(tx: Tx, plan_id: int) -> int:
    """Open tickets under the plan get a due time from their creation under the new terms."""
    n = 0
    for t in tx.session.execute(
        select(Ticket).where(Ticket.sla_plan_id == plan_id, Ticket.state.in_(("new", "open", "pending")))
    ).scalars():
        t.due_at = sla.due_at(tx.session, plan_id, t.created_at)
        t.is_overdue = bool(t.due_at and t.due_at <= tx.now)
        tx.session.add(t)
        n += 1
    return n


def delete_plan(tx: Tx, plan_id: int) -> None:
    require_admin(tx)
    s = tx.session
    plan = s.get(SLAPlan, plan_id)
    if plan is None:
        raise NotFound(f"no SLA plan {plan_id}")
    used = (
        s.execute(select(func.count()).select_from(Ticket).where(Ticket.sla_plan_id == plan_id)).scalar()
        + s.execute(select(func.count()).select_from(Department).where(Department.sla_plan_id == plan_id)).scalar()
        + s.execute(select(func.count()).select_from(HelpTopic).where(HelpTopic.sla_plan_id == plan_id)).scalar()
    )
    if used:
        raise Conflict(f"SLA plan {plan.name!r} is in use by tickets, departments or topics; deactivate it instead")
    s.delete(plan)
    audit(tx, "sla_plan.delete", "sla_plan", plan_id, name=plan.name)


# --- schedules --------------------------------------------------------------------------------------------

def _schedule(tx: Tx, ref: str | int) -> Schedule:
    s = tx.session
    row = s.get(Schedule, int(ref)) if str(ref).isdigit() else s.execute(
        select(Schedule).where(func.lower(Schedule.name) == str(ref).strip().lower())).scalars().first()
    if row is None:
        raise ValidationError("schedule", f"unknown schedule {ref!r}")
    return row


def list_schedules(tx: Tx) -> list[ScheduleRow]:
    rows = []
    for sc in tx.session.execute(select(Schedule).order_by(Schedule.name)).scalars():
        hol = tx.session.execute(select(Holiday).where(Holiday.schedule_id == sc.id).order_by(Holiday.day)).scalars()
        rows.append(ScheduleRow(sc.id, sc.name, sc.timezone, dict(sc.hours),
                                tuple((h.day.isoformat(), h.name) for h in hol)))
    return rows


def save_schedule(tx: Tx, *, schedule_id: int | None = None, name: str, timezone: str,
                  hours: dict[str, list[list[str]]]) -> ScheduleRow:
    require_admin(tx)
    s = tx.session
    name = (name or "").strip()
    if not name:
        raise ValidationError("name", "is required")
    zone(timezone)
    parsed = parse_hours(hours)
    if not any(parsed.values()):
        raise ValidationError("hours", "a schedule needs at least one working interval")
    clash = s.execute(select(Schedule).where(func.lower(Schedule.name) == name.lower())).scalars().first()
    if clash is not None and clash.id != schedule_id:
        raise ValidationError("name", f"a schedule named {name!r} exists")
    row = s.get(Schedule, schedule_id) if schedule_id else Schedule(name=name)
    if row is None:
        raise NotFound(f"no schedule {schedule_id}")
    row.name, row.timezone, row.hours = name, timezone, {str(k): v for k, v in hours.items()}
    s.add(row)
    s.flush()
    _recompute_for_schedule(tx, row.id)
    audit(tx, "schedule.save", "schedule", row.id, name=name, timezone=timezone)
    return next(r for r in list_schedules(tx) if r.id == row.id)


def _recompute_for_schedule(tx: Tx, schedule_id: int) -> None:
    for plan_id in tx.session.execute(select(SLAPlan.id).where(SLAPlan.schedule_id == schedule_id)).scalars().all():
        recompute_due(tx, plan_id)


def parse_hours_text(text: str) -> dict[str, list[list[str]]]:
    """`mon-fri 09:00-17:00; sat 10:00-14:00` -> the JSON form (for the CLI and the admin form)."""
    names = list(DAY_NAMES)
    result: dict[str, list[list[str]]] = {}
    for part in [p.strip() for p in text.split(";") if p.strip()]:
        try:
            days, span = part.split(None, 1)
            start, end = span.replace(" ", "").split("-")
            if "-" in days:
                a, b = days.lower().split("-")
                chosen = names[names.index(a): names.index(b) + 1]
            else:
                chosen = [d.strip() for d in days.lower().split(",")]
            for d in chosen:
                result.setdefault(str(names.index(d)), []).append([start, end])
        except ValueError:
            raise ValidationError("hours", f"{part!r}: write it like 'mon-fri 09:00-17:00'") from None
    parse_hours(result)
    return result


def format_hours_text(hours: Mapping[str, Iterable[Iterable[str]]]) -> str:
    """The JSON hours as `mon-fri 09:00-17:00; sat 10:00-14:00`; parse_hours_text reads it back."""
    by_day: dict[int, tuple[tuple[str, str], ...]] = {}
    for key, intervals in hours.items():
        spans = tuple((str(a), str(b)) for a, b in intervals)
        if spans:
            by_day[int(key)] = tuple(sorted(spans))
    parts: list[str] = []
    day = 0
    while day < 7:
        spans = by_day.get(day)
        if not spans:
            day += 1
            continue
        last = day
        while last + 1 < 7 and by_day.get(last + 1) == spans:
            last += 1
        days = DAY_NAMES[day] if last == day else f"{DAY_NAMES[day]}-{DAY_NAMES[last]}"
        parts.extend(f"{days} {a}-{b}" for a, b in spans)
        day = last + 1
    return "; ".join(parts)


def add_holiday(tx: Tx, schedule: str | int, day: date | str, name: str = "") -> None:
    require_admin(tx)
    sc = _schedule(tx, schedule)
    try:
        d = day if isinstance(day, date) else date.fromisoformat(str(day))
    except ValueError:
        raise ValidationError("day", f"{day!r} is not a date (YYYY-MM-DD)") from None
    exists = tx.session.execute(select(Holiday).where(Holiday.schedule_id == sc.id, Holiday.day == d)).scalars().first()
    if exists:
        raise ValidationError("day", f"{d} is already a holiday")
    tx.session.add(Holiday(schedule_id=sc.id, day=d, name=name.strip()))
    tx.session.flush()
    _recompute_for_schedule(tx, sc.id)
    audit(tx, "holiday.add", "schedule", sc.id, day=d.isoformat(), name=name)


def remove_holiday(tx: Tx, schedule: str | int, day: date | str) -> None:
    require_admin(tx)
    sc = _schedule(tx, schedule)
    try:
        d = day if isinstance(day, date) else date.fromisoformat(str(day))
    except ValueError:
        raise ValidationError("day", f"{day!r} is not a date (YYYY-MM-DD)") from None
    row = tx.session.execute(select(Holiday).where(Holiday.schedule_id == sc.id, Holiday.day == d)).scalars().first()
    if row is None:
        raise NotFound(f"{d} is not a holiday of {sc.name}")
    tx.session.delete(row)
    tx.session.flush()
    _recompute_for_schedule(tx, sc.id)
    audit(tx, "holiday.remove", "schedule", sc.id, day=d.isoformat())


def delete_schedule(tx: Tx, schedule: str | int) -> None:
    require_admin(tx)
    sc = _schedule(tx, schedule)
    if tx.session.execute(select(func.count()).select_from(SLAPlan).where(SLAPlan.schedule_id == sc.id)).scalar():
        raise Conflict(f"schedule {sc.name!r} is used by an SLA plan; change the plan first")
    for h in tx.session.execute(select(Holiday).where(Holiday.schedule_id == sc.id)).scalars():
        tx.session.delete(h)
    tx.session.delete(sc)
    audit(tx, "schedule.delete", "schedule", sc.id, name=sc.name)


# --- scheduled tickets -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ScheduledDetails:
    body: str
    department_id: int
    priority_id: int | None
    assignee_id: int | None
    organization_id: int | None


def scheduled_details(tx: Tx, job_id: int) -> ScheduledDetails:
    """The parts of a scheduled ticket that ScheduledRow leaves out, so an edit keeps them."""
    job = tx.session.get(ScheduledTicket, job_id)
    if job is None:
        raise NotFound(f"no scheduled ticket {job_id}")
    return ScheduledDetails(
        job.body or "", job.department_id, job.priority_id, job.assignee_id, job.organization_id
    )


@contextmanager
def fields_renamed(**names: str) -> Iterator[None]:
    """Re-raise a ValidationError under the name the user typed (lookup.agent says `agent`, the
    option and the form field are `assignee`)."""
    try:
        yield
    except ValidationError as exc:
        if exc.field in names:
            raise ValidationError(names[exc.field], exc.message) from None
        raise


def list_scheduled(tx: Tx) -> list[ScheduledRow]:
    from tui_helpdesk.models import Agent, Contact, Priority

    rows = []
    for j in tx.session.execute(select(ScheduledTicket).order_by(ScheduledTicket.next_run_at)).scalars():
        def name(model, ident, attr="name"):
            row = tx.session.get(model, ident) if ident else None
            return getattr(row, attr) if row else ""

        rows.append(ScheduledRow(j.id, j.subject, j.frequency, j.next_run_at, name(Department, j.department_id),
                                 name(Contact, j.contact_id, "email"), name(Priority, j.priority_id),
                                 name(Agent, j.assignee_id, "username"), j.active, j.last_run_at))
    return rows


def save_scheduled(tx: Tx, *, job_id: int | None = None, subject: str, body: str = "", frequency: str,
                   next_run_at: datetime | str, department: str | int, contact: str,
                   priority: str | int | None = None, assignee: str | int | None = None,
                   organization: str | int | None = None, active: bool = True) -> ScheduledRow:
    require_admin(tx)
    s = tx.session
    subject = (subject or "").strip()
    if not subject:
        raise ValidationError("subject", "is required")
    if frequency not in FREQUENCIES:
        raise ValidationError("frequency", f"must be one of {', '.join(FREQUENCIES)}")
    try:
        when = next_run_at if isinstance(next_run_at, datetime) else clock.parse_iso(str(next_run_at))
    except ValueError:
        raise ValidationError("next_run_at", f"{next_run_at!r} is not an ISO-8601 time") from None
    when = clock.as_utc(when)
    dept = lookup.department(s, department, for_new_ticket=True)
    who = lookup.contact(s, contact)
    prio = lookup.priority(s, priority) if priority not in (None, "") else None
    agent = lookup.agent(s, assignee) if assignee not in (None, "") else None
    org = lookup.organization(s, organization) if organization not in (None, "") else None
    job = s.get(ScheduledTicket, job_id) if job_id else ScheduledTicket(subject=subject, frequency=frequency,
                                                                       next_run_at=when, department_id=dept.id)
    if job is None:
        raise NotFound(f"no scheduled ticket {job_id}")
    job.subject, job.body, job.frequency, job.next_run_at = subject, body.strip(), frequency, when
    job.department_id, job.contact_id = dept.id, who.id
    job.priority_id = prio.id if prio else None
    job.assignee_id = agent.id if agent else None
    job.organization_id = org.id if org else who.organization_id
    job.active = bool(active)
    s.add(job)
    s.flush()
    audit(tx, "scheduled_ticket.save", "scheduled_ticket", job.id, subject=subject, frequency=frequency,
          next_run_at=when.isoformat())
    return next(r for r in list_scheduled(tx) if r.id == job.id)


def delete_scheduled(tx: Tx, job_id: int) -> None:
    require_admin(tx)
    job = tx.session.get(ScheduledTicket, job_id)
    if job is None:
        raise NotFound(f"no scheduled ticket {job_id}")
    tx.session.delete(job)
    audit(tx, "scheduled_ticket.delete", "scheduled_ticket", job_id, subject=job.subject)


# --- auto-close settings ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AutoClose:
    statuses: tuple[str, ...]
    chaser_days: int
    close_days: int


def read_autoclose(tx: Tx) -> AutoClose:
    s = tx.session
    return AutoClose(
        tuple(settings.get(s, "autoclose_statuses")),
        int(settings.get(s, "autoclose_chaser_days")),
        int(settings.get(s, "autoclose_close_days")),
    )


def _days(value: Any, field: str) -> int:
    try:
        days = int(str(value).strip())
    except ValueError:
        raise ValidationError(field, f"must be a whole number of days, not {value!r}") from None
    if days < 1:
        raise ValidationError(field, "must be at least 1 day")
    return days


def save_autoclose(
    tx: Tx, *, statuses: str | Sequence[str] | None = None, chaser_days: Any = None, close_days: Any = None
) -> AutoClose:
    """Change the auto-close settings (admins only); None keeps a value. An empty status list turns it off.

    Statuses must exist and wait on someone (an open or pending state): the timer ignores any other."""
    from tui_helpdesk.models import Status

    require_admin(tx)
    s = tx.session
    current = read_autoclose(tx)
    names = current.statuses
    if statuses is not None:
        wanted = [v.strip() for v in statuses.split(",")] if isinstance(statuses, str) else list(statuses)
        known = {row.name.lower(): row for row in s.execute(select(Status)).scalars()}
        resolved: list[str] = []
        for name in (w for w in wanted if w):
            row = known.get(name.lower())
            if row is None:
                raise ValidationError("statuses", f"unknown status {name!r}")
            if row.state not in WAITING_STATES:
                raise ValidationError(
                    "statuses",
                    f"{row.name!r} is a {row.state} status; only open or pending "
                    "statuses wait on the customer",
                )
            if row.name not in resolved:
                resolved.append(row.name)
        names = tuple(resolved)
    chase = current.chaser_days if chaser_days is None else _days(chaser_days, "chaser_days")
    close = current.close_days if close_days is None else _days(close_days, "close_days")
    settings.put(s, "autoclose_statuses", list(names))
    settings.put(s, "autoclose_chaser_days", chase)
    settings.put(s, "autoclose_close_days", close)
    audit(tx, "setting.autoclose", "setting", None, statuses=list(names), chaser_days=chase, close_days=close)
    return AutoClose(names, chase, close)
