"""Helpers shared by the admin use cases: coercing form/CLI values, uniqueness, usage checks, audit diffs.

Admin forms and the CLI hand us strings; these helpers turn them into typed values and raise
`ValidationError(field, message)` naming the form field, so the screen can show it beside that field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session

from ..context import Tx
from ..errors import Conflict, NotFound, ValidationError

_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"0", "false", "no", "n", "off", ""}
DOMAIN_RE = re.compile(r"^(?=.{1,255}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def check_keys(values: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Refuse a field this entity does not have (a typo in a CLI flag, most likely)."""
    allowed = set(allowed)
    for key in values:
        if key not in allowed:
            raise ValidationError(key, f"unknown field; known fields: {', '.join(sorted(allowed))}")


def text(value: Any, field: str, *, required: bool = False, limit: int | None = None) -> str:
    result = "" if value is None else str(value).strip()
    if required and not result:
        raise ValidationError(field, "is required")
    if limit is not None and len(result) > limit:
        raise ValidationError(field, f"is too long ({len(result)} characters, at most {limit})")
    return result


def integer(value: Any, field: str, *, minimum: int | None = None) -> int:
    if isinstance(value, bool):
        raise ValidationError(field, "must be a whole number")
    try:
        result = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise ValidationError(field, f"must be a whole number, not {value!r}") from None
    if minimum is not None and result < minimum:
        raise ValidationError(field, f"must be at least {minimum}")
    return result


def boolean(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return bool(value)
    lowered = str(value).strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValidationError(field, f"must be yes or no, not {value!r}")


def choice(value: Any, field: str, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    result = text(value, field, required=True).lower()
    if result not in choices:
        raise ValidationError(field, f"must be one of {', '.join(choices)}")
    return result


def email(value: Any, field: str = "email", *, required: bool = False) -> str:
    from ..lookup import EMAIL_RE

    result = text(value, field, required=required, limit=320).lower()
    if result and not EMAIL_RE.match(result):
        raise ValidationError(field, f"{result!r} is not an email address")
    return result


def domain(value: str, field: str = "domains") -> str:
    result = value.strip().lower().lstrip("@")
    if not DOMAIN_RE.match(result):
        raise ValidationError(field, f"{value!r} is not a domain name (like example.com)")
    return result


def split_list(value: Any) -> list[str]:
    """A list from a form (comma or newline separated text) or from code (any iterable)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [p.strip() for p in re.split(r"[,\n]", value) if p.strip()]
    return [str(v).strip() for v in value if str(v).strip()]


def ref(session: Session, value: Any, field: str, finder: Callable[[Session, Any], Any]) -> int | None:
    """The id of the row a user names (by id or name); None or "" clears the reference."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return finder(session, value).id
    except (ValidationError, NotFound) as exc:
        message = exc.message if isinstance(exc, ValidationError) else str(exc)
        raise ValidationError(field, message) from None


def unique(
    session: Session,
    column: InstrumentedAttribute,
    value: str,
    current_id: int | None,
    field: str,
    label: str,
    *where: Any,
) -> None:
    """Names are unique regardless of case, so "Support" and "support" cannot both exist."""
    model = column.class_
    q = select(model.id).where(func.lower(column) == value.lower(), *where)
    for other in session.execute(q).scalars():
        if other != current_id:
            raise ValidationError(field, f"{label} {value!r} already exists")


def get(session: Session, model: type, object_id: Any, label: str) -> Any:
    row = session.get(model, object_id)
    if row is None:
        raise NotFound(f"no {label} with id {object_id}")
    return row


def usage(session: Session, checks: Iterable[tuple[InstrumentedAttribute, Any, str]]) -> list[str]:
    """What still points at an object, in words ("tickets", "child departments").

    EXISTS rather than COUNT: at a million tickets the answer is found at the first match.
    """
    reasons = []
    for column, value, label in checks:
        if session.execute(select(exists().where(column == value))).scalar():
            reasons.append(label)
    return reasons


def refuse_in_use(kind: str, name: str, reasons: list[str], hint: str) -> None:
    if reasons:
        raise Conflict(f"{kind} {name!r} is still used by {', '.join(reasons)}; {hint}")


def snapshot(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}


def diff(before: Mapping[str, Any], after: Mapping[str, Any], secret: Iterable[str] = ()) -> dict[str, Any]:
    """Changed fields as {field: [old, new]} for the audit row; secrets are recorded as changed, not shown."""
    secret = set(secret)
    changes: dict[str, Any] = {}
    for key, new in after.items():
        old = before.get(key)
        if old != new:
            changes[key] = "(changed)" if key in secret else [old, new]
    return changes


def record(tx: Tx, action: str, object_type: str, object_id: int | None, **data: Any) -> None:
    from ..context import audit

    audit(tx, f"{object_type}.{action}", object_type, object_id, **data)
