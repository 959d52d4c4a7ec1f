"""Business hours: adding working time to an instant, in a schedule's time zone, skipping holidays.

A schedule's hours map weekday (0 = Monday, as strings in JSON) to intervals of local wall time,
e.g. {"0": [["09:00", "17:00"]], ...}. Local wall times are turned into instants with zoneinfo,
so a daylight-saving change shortens or lengthens the night, never the working day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlmodel import Session

from tui_helpdesk.models import Holiday, Schedule

from .errors import ValidationError

MAX_DAYS = 3 * 366  # a schedule with almost no hours still ends; one with none is refused


def parse_hours(hours: Mapping[str, Iterable[Iterable[str]]]) -> dict[int, list[tuple[time, time]]]:
    """Validate and convert the JSON form. Raises ValidationError naming the weekday."""
    result: dict[int, list[tuple[time, time]]] = {}
    for key, intervals in hours.items():
        try:
            day = int(key)
        except (TypeError, ValueError):
            raise ValidationError("hours", f"weekday {key!r} is not 0-6") from None
        if not 0 <= day <= 6:
            raise ValidationError("hours", f"weekday {key!r} is not 0-6")
        parsed = []
        for pair in intervals:
            try:
                start, end = (time.fromisoformat(str(v)) for v in pair)
            except ValueError:
                raise ValidationError("hours", f"weekday {day}: {pair!r} is not two HH:MM times") from None
            if end <= start and end != time(0, 0):
                raise ValidationError("hours", f"weekday {day}: {start:%H:%M}-{end:%H:%M} ends before it starts")
            parsed.append((start, end))
        parsed.sort()
        for (_, e1), (s2, _) in zip(parsed, parsed[1:], strict=False):
            if s2 < e1:
                raise ValidationError("hours", f"weekday {day}: intervals overlap")
        result[day] = parsed
    return result


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("timezone", f"unknown time zone {name!r}") from None


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    if at == time(0, 0):  # "24:00" written as 00:00 at the end of an interval
        return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=tz)
    return datetime.combine(day, at, tzinfo=tz)


def add_business_time(start: datetime, amount: timedelta, tz: ZoneInfo,
                      hours: Mapping[int, list[tuple[time, time]]], holidays: set[date]) -> datetime:
    """The instant when `amount` of working time has passed after `start` (aware, returned in UTC)."""
    if not any(hours.values()):
        raise ValidationError("hours", "the schedule has no working hours")
    remaining = amount
    local_start = start.astimezone(tz)
    day = local_start.date()
    for _ in range(MAX_DAYS):
        if day not in holidays:
            for begin, end in hours.get(day.weekday(), []):
                # wall time -> instant; UTC arithmetic so DST gaps/folds count real elapsed time
                b = _local(day, begin, tz).astimezone(UTC)
                e = _local(day, end, tz).astimezone(UTC)
                b = max(b, start.astimezone(UTC))
                if e <= b:
                    continue
                if e - b >= remaining:
                    return b + remaining
                remaining -= e - b
        day += timedelta(days=1)
    raise ValidationError("hours", "the schedule has too few working hours to place this due time")


def add_business_hours(session: Session, schedule_id: int, start: datetime, hours: float) -> datetime:
    schedule = session.get(Schedule, schedule_id)
    if schedule is None:
        return start + timedelta(hours=hours)
    days = set(session.execute(select(Holiday.day).where(Holiday.schedule_id == schedule_id)).scalars())
    return add_business_time(start, timedelta(hours=hours), zone(schedule.timezone), parse_hours(schedule.hours), days)


def working_time_between(start: datetime, end: datetime, tz: ZoneInfo,
                         hours: Mapping[int, list[tuple[time, time]]], holidays: set[date]) -> timedelta:
    """The working time inside [start, end): the inverse of add_business_time (reports' durations)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    total = timedelta(0)
    day = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    while day <= last:
        if day not in holidays:
            for begin, stop in hours.get(day.weekday(), []):
                b = max(_local(day, begin, tz).astimezone(UTC), start)
                e = min(_local(day, stop, tz).astimezone(UTC), end)
                if e > b:
                    total += e - b
        day += timedelta(days=1)
    return total


def business_time_between(session: Session, schedule: Schedule, start: datetime, end: datetime) -> timedelta:
    days = set(session.execute(select(Holiday.day).where(Holiday.schedule_id == schedule.id)).scalars())
    return working_time_between(start, end, zone(schedule.timezone), parse_hours(schedule.hours), days)
