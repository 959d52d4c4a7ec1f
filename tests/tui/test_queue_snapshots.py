"""How the queue looks: fixed size, pinned clock, the fixture's data, no cursor blink."""

from __future__ import annotations

import test_queue_fixtures
from test_queue_fixtures import Desk, listed, settle
from waiting import on_top, press_on, type_into, until

from tui_helpdesk.tui.screens.help import HelpScreen
from tui_helpdesk.tui.screens.queue_dialogs import ConfirmScreen

desk = test_queue_fixtures.desk  # the fixture, under its own name


async def _shown(pilot) -> None:
    await listed(pilot)
    await settle(pilot)


def test_queue_80x24(desk: Desk, snap_compare) -> None:
    assert snap_compare(desk.app(), terminal_size=(80, 24), run_before=_shown)


def test_queue_160x48(desk: Desk, snap_compare) -> None:
    async def marks(pilot) -> None:
        await listed(pilot)
        await settle(pilot)
        await pilot.press("j", "v", "v")
        await settle(pilot)

    assert snap_compare(desk.app(), terminal_size=(160, 48), run_before=marks)


def test_help_screen(desk: Desk, snap_compare) -> None:
    async def open_help(pilot) -> None:
        await listed(pilot)
        await pilot.press("question_mark")
        await on_top(pilot, HelpScreen, "the help screen")
        await settle(pilot)

    assert snap_compare(desk.app(), terminal_size=(100, 36), run_before=open_help)


def test_filter_line_with_completion(desk: Desk, snap_compare) -> None:
    async def type_filter(pilot) -> None:
        await listed(pilot)
        await press_on(pilot, "#tickets", "slash")
        await type_into(pilot, "#fl-input", "status:open p")
        hint = pilot.app.screen.query_one("#fl-hint")
        await until(pilot, lambda: "prio:" in str(hint.render()), "the completion")
        await settle(pilot)

    assert snap_compare(desk.app(), terminal_size=(100, 30), run_before=type_filter)


def test_bulk_confirmation(desk: Desk, snap_compare) -> None:
    async def confirm(pilot) -> None:
        await listed(pilot)
        await pilot.press("V")
        await until(pilot, lambda: len(pilot.app.screen.query_one("#tickets").marked) == 24, "all marked")
        await pilot.press("x")
        await on_top(pilot, ConfirmScreen, "the confirmation")
        await settle(pilot)

    assert snap_compare(desk.app(), terminal_size=(100, 30), run_before=confirm)


def test_queue_highlight_after_paging(desk: Desk, snap_compare) -> None:
    # issue 12 item 1: the highlighted row is the cursor's after g ctrl+d j j (test_queue_cursor.py checks
    # it with the preview open too)
    async def paged(pilot) -> None:
        await listed(pilot)
        await pilot.press("g", "ctrl+d", "j", "j")
        await settle(pilot)

    assert snap_compare(desk.app(), terminal_size=(80, 24), run_before=paged)


def test_close_confirmation_focuses_no(desk: Desk, snap_compare) -> None:
    async def confirm(pilot) -> None:
        await listed(pilot)
        await pilot.press("v", "v", "C")
        await on_top(pilot, ConfirmScreen, "the confirmation")
        await settle(pilot)

    assert snap_compare(desk.app(), terminal_size=(100, 30), run_before=confirm)


def test_queue_200x50(desk: Desk, snap_compare) -> None:
    assert snap_compare(desk.app(), terminal_size=(200, 50), run_before=_shown)


def test_queue_new_work_120x36(desk: Desk, snap_compare) -> None:
    # issue 12 item 10: a ticket arriving: the status line names it, the sidebar marks its views
    from tui_helpdesk.services import tickets
    from tui_helpdesk.services.context import transaction

    async def arrived(pilot) -> None:
        await listed(pilot)
        q, app = pilot.app.screen, pilot.app
        await until(pilot, lambda: q._arrival_marks is not None and app.last_counter is not None, "watching")
        with transaction(desk.engine, desk.sam) as tx:
            tickets.create(tx, subject="Server room is warm", body="Fans off.", contact_email="x@acme.example",
                           department="Support")  # fmt: skip
        app.poll_changes()
        await until(pilot, lambda: "arrived:" in str(q.query_one("#status-line").render()), "the words")
        await settle(pilot)

    assert snap_compare(desk.app(), terminal_size=(120, 36), run_before=arrived)
