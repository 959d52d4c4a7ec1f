"""The errors a service raises. Each carries words a user can act on."""

from __future__ import annotations


class ServiceError(Exception):
    """Base class: the operation was refused and nothing was changed."""


class NotFound(ServiceError):
    pass


class PermissionDenied(ServiceError):
    pass


class Conflict(ServiceError):
    """The change was based on a stale version, or the object's state forbids it."""


class ValidationError(ServiceError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
