"""How the ticket screen, the composer and a picker look: fixed size, clock and data; no cursor blink.

Update the pictures after an intended change with `pytest tests/tui/test_ticket_snapshots.py --snapshot-update`
and look at them (the report pytest-textual-snapshot writes) before committing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.snapshots import Layers
from test_ticket_screen import Data, Harness, built, on_top, opened
from textual.pilot import Pilot
from textual.widgets import Input, TextArea
from waiting import settled, type_into, until

from tui_helpdesk import clock
from tui_helpdesk.tui.widgets.composer import ComposerScreen
from tui_helpdesk.tui.widgets.pickers import PickerScreen


@pytest.fixture
def desk(sqlite_url: str, tmp_path: Path, built_once: Layers) -> Data:
    return built(sqlite_url, tmp_path / "data", built_once)


@pytest.fixture(autouse=True)
def _unpin_clock():
    yield
    clock.set_now(None)


async def _ready(pilot: Pilot) -> None:
    await opened(pilot)
    await settled(pilot)
    _no_blink(pilot)


def _no_blink(pilot: Pilot) -> None:
    for widget in pilot.app.screen.query("Input, TextArea"):
        if isinstance(widget, Input | TextArea):
            widget.cursor_blink = False


def _app(data: Data, ticket_id: int) -> Harness:
    # the header's "due in ..." reads the clock; keep it where the data was made
    clock.set_now("2026-03-02T09:45:00Z")
    return Harness(data, ticket_id)


def test_ticket_80x24(desk: Data, snap_compare) -> None:
    assert snap_compare(_app(desk, desk.vpn), terminal_size=(80, 24), run_before=_ready)


def test_ticket_160x48(desk: Data, snap_compare) -> None:
    assert snap_compare(_app(desk, desk.vpn), terminal_size=(160, 48), run_before=_ready)


def test_ticket_with_hostile_subject_80x24(desk: Data, snap_compare) -> None:
    assert snap_compare(_app(desk, desk.evil), terminal_size=(80, 24), run_before=_ready)


def test_composer_80x24(desk: Data, snap_compare) -> None:
    async def open_composer(pilot: Pilot) -> None:
        await opened(pilot)
        await pilot.press("r")
        composer = await on_top(pilot, ComposerScreen)
        await type_into(pilot, "#composer-body", "Thanks, **Alice**.")
        body = composer.query_one("#composer-body", TextArea)
        await until(pilot, lambda: body.text == "Thanks, **Alice**.", "the typed text")
        await settled(pilot)
        _no_blink(pilot)

    assert snap_compare(_app(desk, desk.vpn), terminal_size=(80, 24), run_before=open_composer)


def test_status_picker_80x24(desk: Data, snap_compare) -> None:
    async def open_picker(pilot: Pilot) -> None:
        await opened(pilot)
        await pilot.press("s")
        await on_top(pilot, PickerScreen)
        await settled(pilot)
        _no_blink(pilot)

    assert snap_compare(_app(desk, desk.vpn), terminal_size=(80, 24), run_before=open_picker)
