"""Migrated-to-head template databases, copied per test so no test pays for running the migrations."""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg

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


def end_sessions(conn: psycopg.Connection, name: str, timeout: float = 5.0) -> None:
    """End every other session in database `name` and wait until they are gone.

    DROP ... WITH (FORCE) and CREATE ... TEMPLATE wait for them too, but in 100 ms steps, and a session
    just closed by engine.dispose() is still ending when they start: polling here every 5 ms saves most
    of that on each of the suite's few hundred PostgreSQL tests."""
    sessions = "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
    conn.execute(f"SELECT pg_terminate_backend(pid) {sessions}", (name,))
    deadline = time.monotonic() + timeout
    while conn.execute(f"SELECT count(*) {sessions}", (name,)).fetchone()[0] and time.monotonic() < deadline:
        time.sleep(0.005)


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
    with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
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
    Sessions still connected to it are ended first: one a test left open would hold locks on its rows."""
    with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
        _refill(conn, name, _shape(conn), rows)


def _refill(conn: psycopg.Connection, name: str, shape: _Shape, rows: PgRows | None) -> None:
    # One connection does it all, to the database itself: each connection costs a backend start
    # (20-30 ms on a loaded machine), and a reset before every PostgreSQL test opened three.
    end_sessions(conn, name)  # every session but this one
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
    """The session's reusable PostgreSQL database: `reset()` empties it back to the template's state."""

    def __init__(self, server: PgServer, template: str) -> None:
        self.server = server
        self.template = template
        self.name, self.url = create_pg_copy(server, template)
        with psycopg.connect(server.conninfo(self.name), autocommit=True) as conn:
            self.shape = _shape(conn)

    def reset(self) -> None:
        with psycopg.connect(self.server.conninfo(self.name), autocommit=True) as conn:
            moved = _shape(conn) != self.shape
            if not moved:
                _refill(conn, self.name, self.shape, None)
                return
        # a migration test downgraded it, or left it part way: start again from the template
        drop_pg(self.server, self.name)
        self.name, self.url = create_pg_copy(self.server, self.template)

    def drop(self) -> None:
        drop_pg(self.server, self.name)
