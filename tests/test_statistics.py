"""The planner has statistics without anyone running ANALYZE by hand (issue 11)."""

from __future__ import annotations

from sqlalchemy import Engine, text

from tui_helpdesk import db


def _analyzed(engine: Engine) -> bool:
    with engine.connect() as conn:
        if db.is_sqlite(engine):  # ANALYZE creates the table (an empty table gets no row in it)
            return bool(conn.execute(text("SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'")).scalar())
        # reltuples is -1 until the table was first analyzed
        return conn.execute(text("SELECT reltuples >= 0 FROM pg_class WHERE relname = 'ticket'")).scalar()


def test_migrating_leaves_fresh_statistics(engine: Engine) -> None:
    assert _analyzed(engine)


def test_the_worker_step_refreshes_them(engine: Engine) -> None:
    assert db.refresh_statistics(engine) == {"refreshed": 1}
    assert _analyzed(engine)
