"""The errors a service raises. Each carries words a user can act on."""

from __future__ import annotations

from datetime import datetime


class ServiceError(Exception):
    """Base class: the operation was refused and nothing was changed."""


class NotFound(ServiceError):
    pass


class PermissionDenied(ServiceError):
    pass


class NoAccess(PermissionDenied):
    """The ticket is outside the actor's scope (visibility.py). The HTTP API answers 404 for it, as for a
    ticket that does not exist, so a key cannot probe which numbers exist in other departments."""


class Conflict(ServiceError):
    """The change was based on a stale version, or the object's state forbids it."""


class StaleVersion(Conflict):
    """The caller's copy is older than the stored one. Every face shows the same words:
    "TCK-12 was changed by sam at 10:42 (version 5, yours 4); reload it and try again"."""

    def __init__(self, what: str, current: int, expected: int, changed_by: str | None = None,
                 changed_at: datetime | None = None, now: datetime | None = None) -> None:
        self.what = what
        self.current = current
        self.expected = expected
        self.changed_by = changed_by
        self.changed_at = changed_at
        super().__init__(
            f"{what} was changed by {changed_by or 'someone else'}{_when(changed_at, now)} "
            f"(version {current}, yours {expected}); reload it and try again"
        )


def _when(at: datetime | None, now: datetime | None) -> str:
    if at is None:
        return ""
    if now is not None and at.date() == now.date():
        return f" at {at:%H:%M}"
    return f" on {at:%Y-%m-%d} at {at:%H:%M}"


class ValidationError(ServiceError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
