"""Alembic environment: runs against the engine the app hands over, or HELPDESK_DATABASE_URL."""

from __future__ import annotations

from alembic import context

import tui_helpdesk.models  # noqa: F401 - registers every table
from sqlmodel import SQLModel

target_metadata = SQLModel.metadata


def _engine():
    engine = context.config.attributes.get("engine")
    if engine is None:
        from tui_helpdesk.config import load_config
        from tui_helpdesk.db import make_engine

        engine = make_engine(load_config().database_url)
    return engine


def run_migrations_online() -> None:
    engine = _engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
