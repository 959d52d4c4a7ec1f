"""Fixtures for the mail flow tests; the helpers they use live in mailflow_support.py (a unique
module name: several test folders have a conftest, so `from conftest import` is ambiguous)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mailflow_support import MailDesk, build_desk
from sqlalchemy import Engine
from support.snapshots import Layers


def _built_desk(engine: Engine, url: str, tmp_path: Path, built_once: Layers) -> MailDesk:
    """build_desk's rows made once per session and engine, then copied (tests/support/snapshots.py)."""

    def build() -> dict[str, Any]:
        d = build_desk(engine, tmp_path)
        return {"admin": d.admin, "agent": d.agent, "mailbox_id": d.mailbox_id}

    return MailDesk(engine, attachments=tmp_path / "attachments", **built_once(url, "mail-desk", build))


@pytest.fixture
def desk(engine: Engine, db_url: str, tmp_path: Path, built_once: Layers) -> MailDesk:
    """On SQLite and PostgreSQL."""
    return _built_desk(engine, db_url, tmp_path, built_once)


@pytest.fixture
def lite_desk(sqlite_url: str, tmp_path: Path, built_once: Layers) -> MailDesk:
    """SQLite only, for tests whose subject is not the database."""
    from tui_helpdesk.db import get_engine

    return _built_desk(get_engine(sqlite_url), sqlite_url, tmp_path, built_once)
