"""The one source of "now".

Every timestamp is an aware UTC datetime (SQLite stores it as UTC text, PostgreSQL as
timestamptz). Tests pin the clock with `set_now`; `HELPDESK_NOW=<ISO-8601>` pins it for a
whole process (demos, tests of the CLI, an admin checking what a timer would do).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

_pinned: datetime | None = None


def as_utc(value: datetime) -> datetime:
    """Naive values are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_iso(text: str) -> datetime:
    return as_utc(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))


def now() -> datetime:
    """Current time in UTC, whole seconds so values round-trip identically through every engine."""
    if _pinned is not None:
        return _pinned
    env = os.environ.get("HELPDESK_NOW")
    if env:
        return parse_iso(env)
    return datetime.now(UTC).replace(microsecond=0)


def pinned() -> datetime | None:
    """The pinned time, if any (so a caller can pin temporarily and restore)."""
    return _pinned


def set_now(value: datetime | str | None) -> None:
    """Pin the clock (None unpins it)."""
    global _pinned
    if isinstance(value, str):
        value = parse_iso(value)
    _pinned = as_utc(value) if value is not None else None


def advance(**kwargs: float) -> datetime:
    """Move the clock forward, pinning it first if it was running."""
    set_now(now() + timedelta(**kwargs))
    return now()
