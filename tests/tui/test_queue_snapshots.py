"""How the queue looks: fixed size, pinned clock, the fixture's data, no cursor blink."""

from __future__ import annotations

import test_queue_fixtures
from test_queue_fixtures import Desk, settle

desk = test_queue_fixtures.desk  # the fixture, under its own name


def test_queue_80x24(desk: Desk, snap_compare) -> None:
    assert snap_compare(desk.app(), terminal_size=(80, 24), run_before=settle)


def test_queue_160x48(desk: Desk, snap_compare) -> None:
    async def marks(pilot) -> None:
        await settle(pilot)
        await pilot.press("j", "v", "v")

    assert snap_compare(desk.app(), terminal_size=(160, 48), run_before=marks)


def test_help_screen(desk: Desk, snap_compare) -> None:
    async def open_help(pilot) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(desk.app(), terminal_size=(100, 36), run_before=open_help)


def test_filter_line_with_completion(desk: Desk, snap_compare) -> None:
    async def type_filter(pilot) -> None:
        await settle(pilot)
        await pilot.press("slash", *"status:open p")
        await settle(pilot)

    assert snap_compare(desk.app(), terminal_size=(100, 30), run_before=type_filter)


def test_bulk_confirmation(desk: Desk, snap_compare) -> None:
    async def confirm(pilot) -> None:
        await settle(pilot)
        await pilot.press("V")
        await settle(pilot)
        await pilot.pause(0.1)
        await pilot.press("x")
        await settle(pilot)

    assert snap_compare(desk.app(), terminal_size=(100, 30), run_before=confirm)
