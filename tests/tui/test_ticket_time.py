"""`H` on a ticket: its time entries, corrected by their author only, and the month's figures (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.snapshots import Layers
from test_ticket_screen import Data, Harness, built, on_top, opened, pilot_test
from textual.pilot import Pilot
from textual.widgets import Input
from waiting import notified, settled, until

from tui_helpdesk import clock
from tui_helpdesk.services import billing, time_entries
from tui_helpdesk.services.context import reading, transaction
from tui_helpdesk.tui.screens.ticket_time import TimeFormScreen, TimeScreen


def _with_time(data: Data) -> Data:
    with transaction(data.engine, data.agent) as tx:
        time_entries.add(tx, data.vpn, 30, note="remote session", work_date="2026-03-01")
    with transaction(data.engine, data.admin) as tx:
        billing.set_rate(tx, "90")
    return data


@pytest.fixture
def data(sqlite_url: str, tmp_path: Path, built_once: Layers) -> Data:
    return built(sqlite_url, tmp_path / "data", built_once, ("tui-ticket-time", _with_time))


@pytest.fixture(autouse=True)
def _unpin_clock():
    yield
    clock.set_now(None)


async def _time_dialog(pilot: Pilot) -> TimeScreen:
    await opened(pilot)
    await pilot.press("H")
    dialog = await on_top(pilot, TimeScreen)
    await until(pilot, lambda: len(dialog.rows) == 2, "the two entries listed")
    return dialog


@pilot_test
async def test_the_author_corrects_their_entry_and_not_another_agents(data: Data) -> None:
    app = Harness(data, data.vpn, actor=data.agent)
    async with app.run_test(size=(120, 36)) as pilot:
        dialog = await _time_dialog(pilot)
        # oldest day first: sam's of yesterday, then root's from this morning's note
        assert [(r.agent, r.minutes) for r in dialog.rows] == [("sam", 30), ("root", 10)]
        await pilot.press("j", "enter")  # root's entry: not sam's to correct
        await until(pilot, lambda: notified(pilot.app, "only its author corrects it"), "the refusal")
        assert pilot.app.screen is dialog
        await pilot.press("k", "enter")
        form = await on_top(pilot, TimeFormScreen)
        minutes = form.query_one("#time-minutes", Input)
        minutes.value = "0"
        await pilot.press("enter")
        await until(pilot, lambda: "minutes: must be at least 1" in str(form.query_one("#time-error").render()),
                    "the refusal naming the field")
        assert form.query_one("#time-note", Input).value == "remote session"  # nothing typed is lost
        minutes.value = "45"
        await pilot.press("enter")
        await on_top(pilot, TimeScreen)
        await until(pilot, lambda: [r.minutes for r in dialog.rows] == [45, 10], "the corrected entry listed")
        # the ticket's figures follow: 55 billable minutes at the default 90/h
        await until(pilot, lambda: "55 billable = 82.50 USD" in str(dialog.query_one("#time-total").render()),
                    "the new amount")
    with reading(data.engine, data.admin) as tx:
        stored = time_entries.for_ticket(tx, data.vpn)
        history = time_entries.history(tx, stored[0].id)
    assert stored[0].minutes == 45 and history[0]["before"] == {"minutes": 30}


def test_time_dialog_80x24(data: Data, snap_compare) -> None:
    async def open_dialog(pilot: Pilot) -> None:
        await _time_dialog(pilot)
        await settled(pilot)

    clock.set_now("2026-03-02T09:45:00Z")
    assert snap_compare(Harness(data, data.vpn, actor=data.agent), terminal_size=(80, 24), run_before=open_dialog)
