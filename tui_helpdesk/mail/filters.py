"""Rules applied to arriving mail: the ban list and the admins' ticket filters.

A filter (TicketFilter row) has conditions ``[{"field": ..., "op": ..., "value": ...}]`` and actions.
Fields: from, from_name, to (To and Cc), cc, subject, body, ``header:<Name>``. Ops: contains,
not_contains, equals, not_equals, starts, ends, regex. Actions: department, priority, topic, assignee,
team, tag (one name or a list), status, reject, skip_autoresponse, ban (adds the sender to the ban
list and rejects). Filters run in sort order; actions of later filters fill what earlier ones left,
except reject, which any matching filter can set. stop_on_match ends the run.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlmodel import Session

from tui_helpdesk import batch_cache
from tui_helpdesk.models import BanRule, TicketFilter

from .parse import ParsedMessage

FIELD_ACTIONS = ("department", "priority", "topic", "assignee", "team", "status")
_REGEX_LIMIT = 20000  # characters of the body a regex sees; keeps a careless pattern from stalling ingest


@dataclass
class FilterResult:
    fields: dict[str, Any] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)  # custom field values (cf.NAME=VALUE actions)
    tags: list[str] = field(default_factory=list)
    reject: bool = False
    skip_autoresponse: bool = False
    ban: bool = False
    matched: list[str] = field(default_factory=list)


def is_banned(session: Session, address: str | None) -> str | None:
    """The ban rule that covers this address, if any."""
    if not address:
        return None
    address = address.lower()
    domain = "@" + address.rpartition("@")[2]
    session.flush()  # a Core read: a ban added earlier in this transaction must be in the table
    return session.connection().execute(_ban_lookup(), {"address": address, "domain": domain}).scalar()


@functools.cache
def _ban_lookup() -> Select:
    # built once: every arriving message asks, and building the SELECT cost more than running it
    pattern = func.lower(BanRule.__table__.c.pattern)
    return select(BanRule.__table__.c.pattern).where(
        (pattern == bindparam("address")) | (pattern == bindparam("domain"))
    ).limit(1)


def add_ban(session: Session, pattern: str, note: str = "") -> None:
    pattern = pattern.strip().lower()
    exists = session.execute(select(BanRule.id).where(func.lower(BanRule.pattern) == pattern)).first()
    if not exists:
        session.add(BanRule(pattern=pattern, note=note[:255]))
        session.flush()


def _values(parsed: ParsedMessage, name: str) -> list[str]:
    name = name.strip().lower()
    if name == "from":
        return [parsed.from_addr or ""]
    if name == "from_name":
        return [parsed.from_name]
    if name == "to":
        return list(parsed.to) + list(parsed.cc)
    if name == "cc":
        return list(parsed.cc)
    if name == "subject":
        return [parsed.subject]
    if name == "body":
        return [parsed.text]
    if name.startswith("header:"):
        value = parsed.headers.get(name.partition(":")[2].strip())
        return value.split("\n") if value is not None else []
    return []


def _test(op: str, have: str, want: str) -> bool:
    h, w = have.lower(), want.lower()
    if op == "contains":
        return w in h
    if op == "not_contains":
        return w not in h
    if op == "equals":
        return h == w
    if op == "not_equals":
        return h != w
    if op == "starts":
        return h.startswith(w)
    if op == "ends":
        return h.endswith(w)
    if op == "regex":
        try:
            return re.search(want, have[:_REGEX_LIMIT], re.IGNORECASE) is not None
        except re.error:
            return False
    return False


def _condition(parsed: ParsedMessage, cond: dict) -> bool:
    op = str(cond.get("op", "contains")).lower()
    want = str(cond.get("value", ""))
    values = _values(parsed, str(cond.get("field", "")))
    if op.startswith("not_"):
        # "does not contain" holds when no value contains it (and when the header is absent)
        return all(_test(op, v, want) for v in values)
    return any(_test(op, v, want) for v in values)


def matches(parsed: ParsedMessage, flt: TicketFilter) -> bool:
    conditions = [c for c in (flt.conditions or []) if isinstance(c, dict)]
    if not conditions:
        return False
    results = (_condition(parsed, c) for c in conditions)
    return all(results) if flt.match_all else any(results)


def apply(session: Session, parsed: ParsedMessage) -> FilterResult:
    result = FilterResult()
    rows = batch_cache.cached(session, "active_filters", lambda: session.execute(
        select(TicketFilter)
        .where(TicketFilter.active.is_(True))
        .order_by(TicketFilter.sort_order, TicketFilter.id)
    ).scalars().all())  # fmt: skip
    for flt in rows:
        if not matches(parsed, flt):
            continue
        result.matched.append(flt.name)
        actions = flt.actions or {}
        for key in FIELD_ACTIONS:
            if actions.get(key) not in (None, "") and key not in result.fields:
                result.fields[key] = actions[key]
        custom = actions.get("custom")
        if isinstance(custom, dict):
            for name, value in custom.items():
                result.custom.setdefault(str(name), value)
        tags = actions.get("tag") or actions.get("tags") or []
        result.tags += [tags] if isinstance(tags, str) else [str(t) for t in tags]
        result.reject = result.reject or bool(actions.get("reject")) or bool(actions.get("ban"))
        result.ban = result.ban or bool(actions.get("ban"))
        result.skip_autoresponse = result.skip_autoresponse or bool(actions.get("skip_autoresponse"))
        if flt.stop_on_match:
            break
    return result
