"""Fixtures for the mail flow tests; the helpers they use live in mailflow_support.py (a unique
module name: several test folders have a conftest, so `from conftest import` is ambiguous)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mailflow_support import MailDesk, build_desk
from sqlalchemy import Engine


@pytest.fixture
def desk(engine: Engine, tmp_path: Path) -> MailDesk:
    """On SQLite and PostgreSQL."""
    return build_desk(engine, tmp_path)


@pytest.fixture
def lite_desk(sqlite_url: str, tmp_path: Path) -> MailDesk:
    """SQLite only, for tests whose subject is not the database."""
    from tui_helpdesk.db import get_engine

    return build_desk(get_engine(sqlite_url), tmp_path)
