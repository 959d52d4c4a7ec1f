"""One SQLAlchemy statement cache for every engine the tests make, as one long-running process has.

The app, the worker and `helpdesk serve` each hold one engine for their whole life, so a statement is
compiled once and then found in the engine's cache. A test gets a new database, hence a new engine
with an empty cache, and compiled every statement again: a fifth of a service test's CPU went to SQL
compilation. SQLAlchemy keys its cache on the dialect object; engines made by `db.make_engine` for the
same backend and server version compile every statement to the same SQL, so here they share one cache,
keyed on what the dialect is rather than on which engine's it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.util import LRUCache

# Every distinct statement of the suite on both engines fits (a few thousand); the default per engine is 500.
_SIZE = 8000


def _kind(dialect: Dialect) -> tuple[Any, ...]:
    # what the compiled SQL depends on; the server version is known once the first connection is made
    return (
        type(dialect),
        dialect.paramstyle,
        dialect.server_version_info,
        dialect.label_length,
        dialect.max_identifier_length,
    )


class SharedCompiledCache(LRUCache):
    """An engine's `_compiled_cache` whose keys name the dialect by its kind."""

    def _key(self, key: tuple[Any, ...]) -> tuple[Any, ...]:
        return (_kind(key[0]), *key[1:]) if isinstance(key[0], Dialect) else key

    def get(self, key: Any, default: Any = None) -> Any:  # noqa: D102
        return super().get(self._key(key), default)

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(self._key(key))

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(self._key(key), value)

    def __contains__(self, key: object) -> bool:
        return super().__contains__(self._key(key))  # type: ignore[arg-type]


SHARED = SharedCompiledCache(_SIZE)


def sharing(make_engine: Callable[[str], Engine]) -> Callable[[str], Engine]:
    """`make_engine` whose engines use the shared cache."""

    def make(url: str) -> Engine:
        engine = make_engine(url)
        if engine._compiled_cache is not None:
            engine._compiled_cache = SHARED
        return engine

    make.__wrapped__ = make_engine  # type: ignore[attr-defined]
    return make
