"""Alembic environment: runs against the engine the app hands over, or HELPDESK_DATABASE_URL."""

from __future__ import annotations

from alembic import context

from tui_helpdesk.models import load_all
from tui_helpdesk.models.search import include_object

target_metadata = load_all()  # every table, the lazily imported ones too


def _engine():
    engine = context.config.attributes.get("engine")
    if engine is None:
        from tui_helpdesk.config import load_config
        from tui_helpdesk.db import make_engine

        engine = make_engine(load_config().database_url)
    return engine


def _sqlite_foreign_keys(connection, on: bool) -> None:
    # A batch migration rebuilds a table on SQLite (copy, DROP TABLE, rename), which enforced foreign
    # keys refuse as soon as any row refers to it. The pragma is ignored inside a transaction, so it is
    # set on the raw connection before alembic begins one; the rebuilt tables keep their constraints.
    connection.connection.driver_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def run_migrations_online() -> None:
    engine = _engine()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _sqlite_foreign_keys(connection, False)
        try:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=sqlite,
                compare_type=True,
                include_object=include_object,
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"the migration left rows pointing nowhere: {broken[:5]}")
            connection.commit()
        finally:
            if sqlite:
                _sqlite_foreign_keys(connection, True)


run_migrations_online()
