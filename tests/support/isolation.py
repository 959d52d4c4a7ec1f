"""The autouse fixture that keeps every test away from the user's real files and settings.

It lives here rather than in conftest.py so the suite's own check of it can load it into an inner session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui_helpdesk import clock

from .common import REQUIRE_ENV
from .postgres import URL_ENV

# Settings of the test run itself; every other HELPDESK_* variable is removed for each test.
_KEPT_ENV = {URL_ENV, REQUIRE_ENV}


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test: HELPDESK_DATA_DIR=<tmp_path>/data and HELPDESK_CONFIG_DIR=<tmp_path>/config (not
    created: the code under test or the test makes them), every other HELPDESK_* variable unset (a
    developer's HELPDESK_DATABASE_URL or HELPDESK_NOW must not leak in), and the clock unpinned
    afterwards, so `clock.set_now()` in one test never reaches the next."""
    for key in list(os.environ):
        if key.startswith("HELPDESK_") and key not in _KEPT_ENV:
            monkeypatch.delenv(key)
    monkeypatch.setenv("HELPDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HELPDESK_CONFIG_DIR", str(tmp_path / "config"))
    clock.set_now(None)
    yield
    clock.set_now(None)
