"""Migrated-to-head template databases, copied per test so no test pays for running the migrations."""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

from tui_helpdesk import db

from .postgres import PgServer


def build_sqlite_template(directory: Path) -> Path:
    """Migrate one SQLite file to head; tests get copies of it."""
    path = directory / "template.db"
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        db.upgrade(engine)
    finally:
        engine.dispose()
    # Fold the WAL into the main file so copying that one file copies the whole database.
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


def shared_sqlite_template(own: Path, run_root: Path | None) -> Path:
    """The SQLite template, built once per test run: by the first xdist worker to ask, under a lock in
    the run's temp root (`run_root`, shared by its workers), and read by the others; each worker used
    to run every migration itself (~2.5 s of CPU each). Without xdist (`run_root` None) it is built
    in `own`."""
    if run_root is None:
        return build_sqlite_template(own)
    built = run_root / "sqlite-template"
    with open(run_root / "sqlite-template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this worker dies
        if not (built / "template.db").is_file():
            shutil.rmtree(built, ignore_errors=True)  # a build interrupted half way
            building = run_root / f"sqlite-template.{os.getpid()}"
            building.mkdir()
            build_sqlite_template(building)
            building.rename(built)
    return built / "template.db"


def copy_sqlite(template: Path, directory: Path) -> str:
    target = directory / "helpdesk.db"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def _unique(prefix: str) -> str:
    # xdist workers may share one server (HELPDESK_TEST_PG_URL), so names must not collide across them.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"{prefix}_{worker}_{uuid.uuid4().hex[:10]}".lower()


def build_pg_template(server: PgServer) -> str:
    """Create a database, migrate it to head, and leave no connection open (a template must be idle)."""
    name = _unique("helpdesk_tpl")
    with server.admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = db.make_engine(server.url_for(name))
    try:
        db.upgrade(engine)
    finally:
        engine.dispose()
    return name


def shared_pg_template(server: PgServer) -> str:
    """The template of a cluster the xdist workers share (server.shared): migrated once, by the first
    worker to ask, under the cluster's lock; it goes with the cluster."""
    assert server.shared is not None
    with open(server.shared / "template.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        record = server.shared / "template"
        if record.is_file():
            name = record.read_text()
            with server.admin() as conn:
                if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                    return name
        name = build_pg_template(server)
        record.write_text(name)
        return name


def create_pg_copy(server: PgServer, template: str) -> tuple[str, str]:
    """A fresh database cloned from the template; returns (name, SQLAlchemy URL)."""
    name = _unique("helpdesk_t")
    with server.admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name, server.url_for(name)


def drop_pg(server: PgServer, name: str) -> None:
    with server.admin() as conn:
        end_sessions(conn, name)
        # FORCE ends sessions a failed test left behind (PostgreSQL 13+).
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def end_sessions(conn: psycopg.Connection, name: str, timeout: float = 5.0, keep: tuple[int, ...] = ()) -> None:
    """End every other session in database `name` (but the idle ones in `keep`) and wait until they are gone.

    DROP ... WITH (FORCE) and CREATE ... TEMPLATE wait for them too, but in 100 ms steps, and a session
    just closed by engine.dispose() is still ending when they start: polling here every 5 ms saves most
    of that on each of the suite's few hundred PostgreSQL tests."""
    sessions = "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() AND pid <> ALL(%s)"
    conn.execute(f"SELECT pg_terminate_backend(pid) {sessions}", (name, list(keep)))
    deadline = time.monotonic() + timeout
    while (
        conn.execute(f"SELECT count(*) {sessions}", (name, list(keep))).fetchone()[0]
        and time.monotonic() < deadline
    ):
        time.sleep(0.005)


# --- Warm sessions on the scratch database ----------------------------------------------------------------
#
# A new PostgreSQL backend starts with empty catalog caches and loads the entry of every table, index and
# type a statement touches: a service test on fresh connections cost the server ~0.1 s of CPU for its own
# statements plus as much again for the reset, against a few ms on a warm session. Each test still gets a
# new Engine (its own pool, its own first-connect), but the DBAPI connections its pool closes are kept,
# rolled back and DISCARD ALL'ed (no transaction, lock, setting, prepared statement or temp table
# survives), and handed to the next test's engine. Only the scratch database's engines take part.


# DISCARD ALL but its DEALLOCATE ALL and DISCARD PLANS: the prepared statements psycopg made (after a
# query's fifth run on a session) stay, as in a long-running app; the server re-plans them itself if the
# schema changes, and they hold no data.
_FORGET = (
    "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; SELECT pg_advisory_unlock_all(); "
    "DISCARD TEMP; DISCARD SEQUENCES"
)


class _Warm:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[str, list[psycopg.Connection]] = {}
        self._databases: set[str] = set()

    def enable(self, database: str) -> None:
        with self._lock:
            self._databases.add(database)

    def forget(self, database: str) -> None:
        """Close the kept sessions of `database` (before it is dropped) and keep no more for it."""
        with self._lock:
            self._databases.discard(database)
            idle = self._idle.pop(database, [])
        for conn in idle:
            conn.close()

    def wants(self, database: str | None) -> bool:
        return database in self._databases

    def pids(self, database: str) -> tuple[int, ...]:
        with self._lock:
            return tuple(conn.info.backend_pid for conn in self._idle.get(database, ()))

    def take(self, database: str) -> psycopg.Connection | None:
        with self._lock:
            idle = self._idle.get(database)
            while idle:
                conn = idle.pop()
                if not conn.closed and not conn.broken:
                    return conn
        return None

    def give(self, database: str, conn: psycopg.Connection) -> bool:
        """Keep `conn` for a later engine; False if it cannot be kept (the caller closes it)."""
        if not self.wants(database) or conn.closed or conn.broken:
            return False
        try:
            conn.rollback()
            conn.autocommit = True
            conn.execute(_FORGET)
            conn.autocommit = False
        except psycopg.Error:
            return False
        with self._lock:
            if not self.wants(database) or len(self._idle.setdefault(database, [])) >= 10:
                return False
            self._idle[database].append(conn)
        return True


WARM = _Warm()


class _WarmPool(QueuePool):
    """A QueuePool whose closed connections go to WARM; recreate() (engine.dispose) keeps the class."""

    _database: str

    def _close_connection(self, connection: psycopg.Connection, *, terminate: bool = False) -> None:
        if terminate or not WARM.give(self._database, connection):
            super()._close_connection(connection, terminate=terminate)

    def recreate(self) -> QueuePool:
        pool = super().recreate()
        pool._database = self._database  # type: ignore[attr-defined]
        return pool


def warm_engines(make_engine: Callable[[str], Engine]) -> Callable[[str], Engine]:
    """`make_engine` whose engines on the scratch database reuse the sessions earlier engines closed."""

    def make(url: str) -> Engine:
        engine = make_engine(url)
        database = make_url(str(engine.url)).database if engine.dialect.name == "postgresql" else None
        pool = engine.pool
        if database and WARM.wants(database) and type(pool) is QueuePool:
            fresh = pool._creator

            def creator(record: object) -> psycopg.Connection:
                return WARM.take(database) or fresh(record)  # type: ignore[operator]

            pool.__class__ = _WarmPool
            pool._database = database  # type: ignore[attr-defined]
            pool._creator = creator  # two arguments: the pool passes the connection record
        return engine

    make.__wrapped__ = make_engine  # type: ignore[attr-defined]
    return make


# --- One PostgreSQL database per session, emptied in place between tests ------------------------------
#
# CREATE DATABASE ... TEMPLATE copies the system catalogs as well as our tables: 0.3-0.7 s per test on
# this machine (2-3 s under load), the larger part of a short PostgreSQL test. A test writes a few
# hundred rows at most, so deleting them and rewinding the sequences brings the same database back to
# the template's state in about 20 ms. Snapshots of fixture data are kept the same way: the rows of
# each table as a binary COPY, held in memory, written back after the emptying.


@dataclass(frozen=True)
class PgRows:
    """A database's contents: each non-empty table as binary COPY data, and each sequence's position."""

    tables: tuple[tuple[str, bytes], ...]
    sequences: tuple[tuple[str, int, bool], ...]


@dataclass(frozen=True)
class _Shape:
    revision: str
    tables: tuple[str, ...]
    sequences: tuple[tuple[str, int], ...]  # name, start value


def _shape(conn: psycopg.Connection) -> _Shape:
    tables = tuple(r[0] for r in conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"))
    sequences = tuple((r[0], int(r[1])) for r in conn.execute(
        "SELECT sequencename, start_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"))
    revision = ""
    if "alembic_version" in tables:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = row[0] if row else ""
    return _Shape(revision, tables, sequences)


def capture_pg(server: PgServer, name: str) -> PgRows:
    """The rows of database `name` (nobody else may be writing to it)."""
    conn = _own_session(server, name)
    shape = _shape(conn)
    tables: list[tuple[str, bytes]] = []
    for table in shape.tables:
        if table == "alembic_version" or conn.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone() is None:
            continue
        with conn.cursor().copy(f'COPY "{table}" TO STDOUT (FORMAT BINARY)') as copy:
            tables.append((table, b"".join(bytes(chunk) for chunk in copy)))
    sequences = []
    for sequence, _start in shape.sequences:
        last, called = conn.execute(f'SELECT last_value, is_called FROM "{sequence}"').fetchone()
        sequences.append((sequence, int(last), bool(called)))
    return PgRows(tuple(tables), tuple(sequences))


def refill_pg(server: PgServer, name: str, rows: PgRows | None = None) -> None:
    """Empty database `name` in place and write `rows` back (None: leave it as the migrated template was).
    Sessions still connected to it are ended first: one a test left open would hold locks on its rows
    (the idle ones kept warm hold none, and stay)."""
    conn = _own_session(server, name)
    _refill(conn, name, _shape(conn), rows)


_OWN: dict[tuple[str, str], psycopg.Connection] = {}


def _own_session(server: PgServer, name: str) -> psycopg.Connection:
    """One autocommit session per database for the resets, kept open: each new one costs a backend start
    and, worse, its first DELETE from each of the 60-odd tables loads that table's catalog entries
    (~25 ms of server CPU per reset, against a few on a warm session)."""
    key = (server.url, name)
    conn = _OWN.get(key)
    if conn is None or conn.closed or conn.broken:
        conn = _OWN[key] = psycopg.connect(server.conninfo(name), autocommit=True)
    return conn


def _close_own_session(server: PgServer, name: str) -> None:
    conn = _OWN.pop((server.url, name), None)
    if conn is not None:
        conn.close()


def _refill(conn: psycopg.Connection, name: str, shape: _Shape, rows: PgRows | None) -> None:
    # One connection does it all, to the database itself: each connection costs a backend start
    # (20-30 ms on a loaded machine), and a reset before every PostgreSQL test opened three.
    end_sessions(conn, name, keep=WARM.pids(name))  # every session but this one and the idle kept ones
    with conn.transaction():
        # replica: no foreign-key checks or triggers while the rows go and come back as they were.
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute("; ".join(f'DELETE FROM "{t}"' for t in shape.tables if t != "alembic_version"))
        for table, data in rows.tables if rows else ():
            with conn.cursor().copy(f'COPY "{table}" FROM STDIN (FORMAT BINARY)') as copy:
                copy.write(data)
        positions = {s: (start, False) for s, start in shape.sequences}
        positions.update({s: (last, called) for s, last, called in rows.sequences} if rows else {})
        if positions:
            conn.execute("; ".join(
                f"SELECT setval('\"{s}\"', {last}, {'true' if called else 'false'})"
                for s, (last, called) in positions.items()
            ))


class PgScratch:
    """The session's reusable PostgreSQL database: `reset()` empties it back to the template's state.

    It holds one session of its own for the resets, and lets the engines on it keep their sessions warm
    between tests (see WARM above)."""

    def __init__(self, server: PgServer, template: str) -> None:
        self.server = server
        self.template = template
        self._create()

    def _create(self) -> None:
        self.name, self.url = create_pg_copy(self.server, self.template)
        with psycopg.connect(self.server.conninfo(self.name), autocommit=True) as conn:
            self.shape = _shape(conn)
        WARM.enable(self.name)

    def reset(self) -> None:
        conn = _own_session(self.server, self.name)
        if _shape(conn) == self.shape:
            _refill(conn, self.name, self.shape, None)
            return
        # a migration test downgraded it, or left it part way: start again from the template
        self.drop()
        self._create()

    def drop(self) -> None:
        WARM.forget(self.name)
        _close_own_session(self.server, self.name)
        drop_pg(self.server, self.name)
