"""How issue 12's ticket screens look: the composer beside the thread, the task form with an error beside
its field, an attachment (CSV) viewed in the app. Fixed size, clock and data; no cursor blink."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.snapshots import Layers
from test_ticket_screen import Data, Harness, built, on_top, opened, pick
from test_ticket_snapshots import _no_blink
from textual.pilot import Pilot
from textual.widgets import DataTable, TextArea
from waiting import settled, type_into, until

from tui_helpdesk import clock
from tui_helpdesk.services import drafts
from tui_helpdesk.tui.screens.attachment import AttachmentScreen
from tui_helpdesk.tui.screens.task_form import TaskFormScreen
from tui_helpdesk.tui.widgets.composer import ComposerScreen


@pytest.fixture
def desk(sqlite_url: str, tmp_path: Path, built_once: Layers) -> Data:
    return built(sqlite_url, tmp_path / "data", built_once)


@pytest.fixture(autouse=True)
def _unpin_clock():
    yield
    clock.set_now(None)


def _app(data: Data, ticket_id: int) -> Harness:
    clock.set_now("2026-03-02T09:45:00Z")
    return Harness(data, ticket_id)


def test_composer_beside_the_thread_120x36(desk: Data, snap_compare) -> None:
    async def open_composer(pilot: Pilot) -> None:
        await opened(pilot)
        await pilot.press("r")
        composer = await on_top(pilot, ComposerScreen)
        await type_into(pilot, "#composer-body", "Thanks, Alice.")
        body = composer.query_one("#composer-body", TextArea)
        await until(pilot, lambda: body.text == "Thanks, Alice." and composer.layout_mode == "side", "the text")
        await settled(pilot)
        _no_blink(pilot)

    assert snap_compare(_app(desk, desk.vpn), terminal_size=(120, 36), run_before=open_composer)


def test_task_form_with_an_error_80x24(desk: Data, snap_compare) -> None:
    async def open_form(pilot: Pilot) -> None:
        await opened(pilot)
        await pilot.press("w")
        await pick(pilot, "New task")
        form = await on_top(pilot, TaskFormScreen)
        await type_into(pilot, "#task-title", "Call Alice")
        await pilot.press("enter")
        await type_into(pilot, "#task-due_at", "soon")
        await until(pilot, lambda: "+4h" in str(form.query_one("#task-due_at-error").render()), "the error")
        await settled(pilot)
        _no_blink(pilot)

    assert snap_compare(_app(desk, desk.vpn), terminal_size=(80, 24), run_before=open_form)


def test_csv_attachment_viewed_80x24(desk: Data, tmp_path: Path, snap_compare) -> None:
    sheet = tmp_path / "prices.csv"
    sheet.write_text("item,price,note\nlaptop,900,refurbished\nmouse,20,\n")
    clock.set_now("2026-03-02T09:40:00Z")
    drafts.send(desk.engine, desk.admin, "TCK-1000", "note", "the price list", expected_version=None,
                attachments_dir=desk.config.attachments_dir, files=[sheet])

    async def view(pilot: Pilot) -> None:
        await opened(pilot)
        await pilot.press("enter")
        viewer = await on_top(pilot, AttachmentScreen)
        await until(pilot, lambda: viewer.query_one(DataTable).row_count == 2, "the table")
        await settled(pilot)

    assert snap_compare(_app(desk, desk.vpn), terminal_size=(80, 24), run_before=view)
