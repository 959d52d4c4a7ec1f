"""Engine and sessions. SQLite gets WAL and foreign keys; the schema is migrated to head on first use."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

from tui_helpdesk.resources import migrations_dir

if TYPE_CHECKING:
    from sqlalchemy.orm import sessionmaker
    from sqlmodel import Session

# the source checkout's root; only meaningful in a checkout (tests find ../shared from it)
REPO_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = migrations_dir()

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or opened (the MTA should retry)."""


def normalise_url(url: str) -> str:
    # psycopg 3 is the driver we ship; accept the plain scheme users paste from elsewhere.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        # Take the write lock at BEGIN so two writers queue instead of failing mid-transaction.
        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection, _record):
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # Writers take the lock at BEGIN (so they queue on busy_timeout instead of failing
            # when a read upgrades to a write); readers stay deferred and never block in WAL.
            mode = conn.get_execution_options().get("sqlite_begin", "")
            conn.exec_driver_sql(f"BEGIN {mode}".strip())

    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    return engine


def alembic_config(engine: Engine):
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    cfg = alembic_config(None)  # type: ignore[arg-type]
    return ScriptDirectory.from_config(cfg).get_current_head()


def _current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _latest_revision_file() -> str | None:
    # Cheap check without importing alembic: the newest revision id is the file name's prefix.
    names = sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("*.py"))
    return names[-1].split("_", 1)[0] if names else None


def upgrade(engine: Engine) -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), "head")
    refresh_statistics(engine)


def refresh_statistics(engine: Engine) -> dict[str, int]:
    """Fresh planner statistics, after migrations and once an hour in the worker.

    Without them a 1M-ticket desk left by a bulk load or an old version plans from stale numbers
    (and SQLite from none at all). SQLite's ANALYZE reads at most `analysis_limit` rows per index,
    so it takes milliseconds on any size; PostgreSQL's samples a fixed number of rows per table."""
    with engine.begin() as conn:  # ANALYZE runs inside a transaction on both engines
        if is_sqlite(engine):
            conn.exec_driver_sql("PRAGMA analysis_limit = 1000")
        conn.exec_driver_sql("ANALYZE")
    return {"refreshed": 1}


def ensure_schema(engine: Engine) -> None:
    """Migrate to head if the schema is behind; alembic is imported only then."""
    try:
        current = _current_revision(engine)
    except Exception as exc:  # noqa: BLE001 - any driver error means the same to the caller
        raise DatabaseUnavailable(str(exc)) from exc
    if current is None or current != _latest_revision_file():
        upgrade(engine)


def get_engine(url: str, migrate: bool = True) -> Engine:
    url = normalise_url(url)
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = make_engine(url)
            if migrate:
                ensure_schema(engine)
            _engines[url] = engine
    return engine


def dispose_all() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


# The ORM (sqlalchemy.orm, SQLModel and pydantic: about half the start-up of a process) is imported by
# the first session, not by the engine: `helpdesk ingest` journals a message with Core alone.


def session_factory(engine: Engine) -> sessionmaker:
    from sqlalchemy.orm import sessionmaker
    from sqlmodel import Session

    return sessionmaker(engine, class_=Session, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine, write: bool = True) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    from sqlmodel import Session

    bind = engine.execution_options(sqlite_begin="IMMEDIATE") if write and is_sqlite(engine) else engine
    session = Session(bind, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
