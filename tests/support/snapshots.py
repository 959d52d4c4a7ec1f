"""Test data built once per session and cloned into each test's database, the way the migrated templates are.

A fixture that fills a database with the same rows for every test (a desk made through twenty CLI calls,
sixty seeded tickets) builds them in the first test that asks, keeps a copy of that database, and gives
every later test a copy of the copy: a file copy on SQLite, the rows written back by binary COPY on
PostgreSQL (see databases.refill_pg).
The test still gets a private database it may change at will.

Layers: a fixture built on top of another one's data (the CLI `queue` on the CLI `desk`) names its own
layer; the copy it keeps is of both, keyed by the chain of layer names, so `desk` + `queue` and `desk`
alone never mix. A layer must be built on what the previous layer left, with no writes between them.
"""

from __future__ import annotations

import copy
import shutil
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import make_url

from tui_helpdesk import clock, db

from .databases import PgRows, capture_pg, refill_pg
from .postgres import PgServer

T = TypeVar("T")
Key = tuple[str, ...]


@dataclass(frozen=True)
class _Saved:
    where: Any  # the snapshot's file (SQLite) or its rows (PostgreSQL, a PgRows)
    value: Any  # what the build returned, handed out as a copy
    pinned: datetime | None  # the clock the build pinned (every copy gets it back)
    pins: bool  # whether the build changed the clock's pin at all


class Store:
    """Snapshots of one engine kind, for one pytest session (one xdist worker)."""

    def __init__(self) -> None:
        self._saved: dict[Key, _Saved] = {}

    def has(self, key: Key) -> bool:
        return key in self._saved

    def value(self, key: Key) -> Any:
        return copy.deepcopy(self._saved[key].value)

    def build(self, url: str, key: Key, build: Callable[[], T]) -> T:
        """Run the build on the database as it is, then keep a copy of the result under `key`."""
        before = clock.pinned()
        value = build()
        after = clock.pinned()
        _disconnect(url)  # a copy is taken of a database nobody is connected to
        where = self._save(url, key)
        self._saved[key] = _Saved(where, copy.deepcopy(value), after, after != before)
        return value

    def restore(self, url: str, key: Key) -> None:
        """Replace the database with the copy kept under `key` and pin the clock as its build did."""
        saved = self._saved[key]
        _disconnect(url)
        self._restore(url, saved.where)
        for prefix in (key[:n] for n in range(len(key), 0, -1)):
            if self._saved[prefix].pins:  # the newest layer that moved the clock says where it is
                clock.set_now(self._saved[prefix].pinned)
                break

    def _save(self, url: str, key: Key) -> Any:
        raise NotImplementedError

    def _restore(self, url: str, where: Any) -> None:
        raise NotImplementedError


class SqliteSnapshots(Store):
    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory

    def _save(self, url: str, key: Key) -> str:
        source = _sqlite_path(url)
        target = self.directory / f"{len(self._saved)}-{'-'.join(key)}.db"
        with sqlite3.connect(source) as conn:  # fold the WAL in, so the one file is the whole database
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        shutil.copyfile(source, target)
        return str(target)

    def _restore(self, url: str, where: str) -> None:
        path = _sqlite_path(url)
        for suffix in ("-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        shutil.copyfile(where, path)


class PgSnapshots(Store):
    def __init__(self, server: PgServer) -> None:
        super().__init__()
        self.server = server

    def _save(self, url: str, key: Key) -> PgRows:
        return capture_pg(self.server, _pg_name(url))

    def _restore(self, url: str, where: PgRows) -> None:
        refill_pg(self.server, _pg_name(url), where)

    def drop_all(self) -> None:
        self._saved.clear()  # the rows are held in memory


def _disconnect(url: str) -> None:
    # The engine stays cached (the test may hold it already, and dispose_all at teardown must still
    # reach it); only its pooled connections close, and it opens new ones to the copy.
    db.get_engine(url, migrate=False).dispose()


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValueError(f"a snapshot needs a SQLite file, not {url}")
    return Path(database)


def _pg_name(url: str) -> str:
    database = make_url(url).database
    if not database:
        raise ValueError(f"no database named in {url}")
    return database


class Layers:
    """One test's view of the stores: which layers its databases hold so far."""

    def __init__(self, store_for: Callable[[str], Store]) -> None:
        self._store_for = store_for
        self._held: dict[str, Key] = {}

    def __call__(self, url: str, name: str, build: Callable[[], T]) -> T:
        """Give the database at `url` the rows `build()` makes on top of the layers it holds (the build
        runs once per session and engine kind, in the first test that asks; later tests get a copy) and
        return what build returned (a copy). The clock is pinned where the build left it."""
        url = db.normalise_url(url)
        return self.stack(url, [*((n, _held) for n in self._held.get(url, ())), (name, build)])[-1]

    def stack(self, url: str, layers: Sequence[tuple[str, Callable[[], Any]]]) -> list[Any]:
        """Layers from the bottom (a fresh database) up; returns each one's value. Layers the database
        holds already are kept, and when the stack was built before one copy brings all of it, so a
        fixture on top of another (`queue` on `desk`) asked for first costs one copy, not two."""
        url = db.normalise_url(url)
        store = self._store_for(url)
        held = self._held.get(url, ())
        names = tuple(name for name, _ in layers)
        if names[: len(held)] != held[: len(names)]:
            raise RuntimeError(f"the database holds the layers {held}, which {names} does not build on")
        if len(names) > len(held):
            saved = max((n for n in range(len(held) + 1, len(names) + 1) if store.has(names[:n])), default=0)
            if saved:
                store.restore(url, names[:saved])
                held = names[:saved]
            for n in range(len(held) + 1, len(names) + 1):
                store.build(url, names[:n], layers[n - 1][1])
            self._held[url] = held = names
        return [store.value(names[:n]) for n in range(1, len(names) + 1)]


def _held() -> Any:  # pragma: no cover - a layer the database holds is never built again
    raise AssertionError("a held layer was built again")
