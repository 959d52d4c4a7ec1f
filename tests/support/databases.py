"""Migrated-to-head template databases, copied per test so no test pays for running the migrations."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
import uuid
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
