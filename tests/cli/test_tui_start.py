"""`helpdesk` without a command holds the garbage collector while the app starts (tui/startup.py) and
always gives it back: a test or a script calling the CLI in-process must not be left without it."""

from __future__ import annotations

import gc
import sys
import types

import pytest


def test_the_app_starts_without_the_gc_and_the_process_gets_it_back(run, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, bool] = {}
    app = types.ModuleType("tui_helpdesk.tui.app")

    def fake_run(config: object) -> int:
        seen["collecting"] = gc.isenabled()
        return 0

    app.run = fake_run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tui_helpdesk.tui.app", app)
    assert run().code == 0
    assert seen == {"collecting": False}
    assert gc.isenabled()


def test_a_missing_app_gives_the_gc_back(run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tui_helpdesk.tui.app", None)  # import fails as if it were missing
    assert run().code != 0
    assert gc.isenabled()
