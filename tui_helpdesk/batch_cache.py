"""Reference rows read once per batch of ingested mail instead of once per message.

The ingest processes many messages in one session (services/inbound.py, a SAVEPOINT per message). What
each message reads of the desk's configuration (custom field definitions, templates, the default
status, priority and SLA plan, a department's agents, the filters) does not change while the batch
runs, and re-reading it was a third of the statements per message. Only a session that asked for it
(``enable``) caches; every other session reads as before, so an admin who edits a template and
previews it in one transaction sees the edit. Nothing the ingest itself creates is cached: a value
made inside a message's SAVEPOINT could vanish with its rollback.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlmodel import Session

KEY = "helpdesk_batch_cache"
T = TypeVar("T")


def enable(session: Session) -> None:
    session.info.setdefault(KEY, {})


def cached(session: Session, key: Hashable, load: Callable[[], T]) -> T:
    """``load()``, once per batch for this key in a session that enabled the cache; every time otherwise."""
    store: dict[Hashable, Any] | None = session.info.get(KEY)
    if store is None:
        return load()
    if key not in store:
        store[key] = load()
    return store[key]
