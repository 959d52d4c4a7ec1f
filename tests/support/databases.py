"""Migrated-to-head template databases, copied per test so no test pays for running the migrations."""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from pathlib import Path

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
    # FORCE ends sessions a failed test left behind (PostgreSQL 13+).
    with server.admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
