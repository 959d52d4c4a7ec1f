"""API keys: who may hold one, how it is kept, and how a request's key becomes an Actor.

A key reads `hd_<prefix>_<secret>`. The prefix finds the row (and names the key in lists and the audit);
only the sha256 of the whole key is stored, compared in constant time. The key is shown once, when it is
made. A key acts as its agent with that agent's own permissions and visibility (the Actor is the agent's,
origin "api"); a revoked or expired key, or one whose agent is deactivated, is refused.

Who may make, list and revoke keys: an admin for anyone, an agent for themselves.

Failed authentication is audited and counted per client address (`FailureThrottle`): past the limit the
address is refused without looking at its key until the window has passed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime

from sqlalchemy import Engine, select, update

from tui_helpdesk import clock
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Agent, ApiKey

from . import lookup
from .context import Actor, Tx, audit, reading, require_owner_or_admin, transaction
from .errors import Conflict, NotFound, ServiceError, ValidationError

KEY_PREFIX = "hd"
ORIGIN = "api"
REFUSED = "auth.api_key_refused"
# last_used_at is a write; a busy integration would otherwise take the write lock on every request
LAST_USED_STEP = timedelta(seconds=60)


class Unauthenticated(ServiceError):
    """No key, or a key that does not let anyone in. The words never say which check failed."""


class RateLimited(ServiceError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed authentications from this address; retry in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class ApiKeyRow:
    id: int
    name: str
    prefix: str
    owner: str
    owner_id: int
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class NewKey:
    """The key itself (shown once, never stored) and its row."""

    key: str
    row: ApiKeyRow


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _split(key: str) -> str | None:
    """The prefix of a well-formed key, else None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1]


def parse_expiry(value: str | date | datetime | None, now: datetime) -> datetime | None:
    """A date (valid through its last second, UTC) or an ISO time; refused when already past."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        when = clock.as_utc(value)
    elif isinstance(value, date):
        when = datetime.combine(value, dtime.max, tzinfo=UTC)
    else:
        text = str(value).strip()
        try:
            if len(text) == 10:
                when = datetime.combine(date.fromisoformat(text), dtime.max, tzinfo=UTC)
            else:
                when = clock.parse_iso(text)
        except ValueError as exc:
            raise ValidationError("expires", f"{text!r} is not a date (YYYY-MM-DD) or an ISO time") from exc
    if when <= clock.as_utc(now):
        raise ValidationError("expires", f"{value} has already passed")
    return when


def _rows(tx: Tx, keys: list[ApiKey]) -> list[ApiKeyRow]:
    ids = {k.agent_id for k in keys} | {k.created_by_id for k in keys if k.created_by_id}
    names = (
        dict(tx.session.execute(select(Agent.id, Agent.username).where(Agent.id.in_(ids))).all()) if ids else {}
    )
    return [
        ApiKeyRow(
            id=k.id, name=k.name, prefix=k.prefix, owner=names.get(k.agent_id, ""), owner_id=k.agent_id,
            created_at=k.created_at, created_by=names.get(k.created_by_id, "") if k.created_by_id else "",
            last_used_at=k.last_used_at, expires_at=k.expires_at, revoked_at=k.revoked_at,
        )
        for k in keys
    ]


def create(tx: Tx, username: str | int, *, name: str = "", expires: str | date | datetime | None = None) -> NewKey:
    agent = lookup.agent(tx.session, username)
    require_owner_or_admin(tx, agent.id, "API keys")
    if not agent.active:
        raise ValidationError("username", f"agent {agent.username!r} is deactivated")
    name = (name or "").strip()
    if len(name) > 100:
        raise ValidationError("name", "is longer than 100 characters")
    expires_at = parse_expiry(expires, tx.now)
    prefix = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        agent_id=agent.id, name=name, prefix=prefix, key_hash=hash_key(key), created_at=tx.now,
        created_by_id=tx.actor.agent_id, expires_at=expires_at,
    )
    tx.session.add(row)
    tx.session.flush()
    audit(tx, "api_key.create", "api_key", row.id, owner=agent.username, name=name, prefix=prefix,
          expires_at=expires_at)
    return NewKey(key=key, row=_rows(tx, [row])[0])


def list_keys(tx: Tx, *, include_revoked: bool = False) -> list[ApiKeyRow]:
    """An admin's list holds every key; an agent's their own."""
    q = select(ApiKey).order_by(ApiKey.id)
    if not tx.actor.is_admin:
        q = q.where(ApiKey.agent_id == (tx.actor.agent_id or -1))
    if not include_revoked:
        q = q.where(ApiKey.revoked_at.is_(None))
    return _rows(tx, list(tx.session.execute(q).scalars()))


def revoke(tx: Tx, key_id: int) -> ApiKeyRow:
    row = tx.session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"no API key #{key_id}")
    require_owner_or_admin(tx, row.agent_id, "API keys")
    if row.revoked_at is not None:
        raise Conflict(f"API key #{key_id} is already revoked")
    row.revoked_at = tx.now
    tx.session.add(row)
    audit(tx, "api_key.revoke", "api_key", row.id, prefix=row.prefix)
    return _rows(tx, [row])[0]


# --- authentication ----------------------------------------------------------------------------------


class FailureThrottle:
    """Failed authentications per client address in a sliding window; thread-safe, in process memory
    (one server process holds it; a restart forgets, which only shortens a lock-out)."""

    def __init__(self, limit: int = 10, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        seen = self._failures.setdefault(address, deque())
        while seen and seen[0] <= now - self.window:
            seen.popleft()
        return seen

    def check(self, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            seen = self._recent(address, now)
            if len(seen) >= self.limit:
                raise RateLimited(max(1, int(seen[0] + self.window - now) + 1))

    def failed(self, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._recent(address, now).append(now)
            if len(self._failures) > 10_000:  # forget idle addresses rather than grow without bound
                for addr in [a for a, q in self._failures.items() if not q]:
                    del self._failures[addr]


def authenticate(engine: Engine, key: str | None, *, client: str = "", throttle: FailureThrottle | None = None
                 ) -> Actor:
    """The Actor a request's key acts as. Raises RateLimited (the address failed too often: the key is not
    even looked at) or Unauthenticated (after an audit row and a count against the address)."""
    if throttle is not None:
        throttle.check(client)
    reason, prefix = _check(engine, key or "")
    if isinstance(reason, Actor):
        return reason
    if throttle is not None:
        throttle.failed(client)
    anonymous = Actor(agent_id=None, username=f"api client {client}".strip(), is_admin=False, origin=ORIGIN)
    with transaction(engine, anonymous) as tx:
        audit(tx, REFUSED, "api_key", None, client=client, reason=reason, prefix=prefix)
    raise Unauthenticated("a valid API key is required (Authorization: Bearer KEY)")


def _check(engine: Engine, key: str) -> tuple[Actor | str, str | None]:
    """(the Actor, prefix) for a good key, else (why it was refused, prefix) for the audit."""
    if not key:
        return "no key", None
    prefix = _split(key)
    if prefix is None:
        return "malformed key", None
    with reading(engine) as tx:
        row = tx.session.execute(select(ApiKey).where(ApiKey.prefix == prefix)).scalar_one_or_none()
        # compare even without a row, so a wrong prefix costs what a wrong secret does
        good = hmac.compare_digest(row.key_hash if row else "0" * 64, hash_key(key))
        if row is None or not good:
            return "unknown key", prefix
        if row.revoked_at is not None:
            return "revoked key", prefix
        now = tx.now
        if row.expires_at is not None and _naive(row.expires_at) <= _naive(now):
            return "expired key", prefix
        agent = tx.session.get(Agent, row.agent_id)
        if agent is None or not agent.active:
            return "agent deactivated", prefix
        actor = Actor(agent_id=agent.id, username=agent.username, is_admin=agent.is_admin, origin=ORIGIN)
        stale = row.last_used_at is None or _naive(row.last_used_at) <= _naive(now) - LAST_USED_STEP
        key_id = row.id
    if stale:
        with session_scope(engine, write=True) as session:
            session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
    return actor, prefix


def _naive(value: datetime) -> datetime:
    """Stored times come back naive on SQLite and aware on PostgreSQL; both are UTC."""
    return value.replace(tzinfo=None) if value.tzinfo is not None else value
