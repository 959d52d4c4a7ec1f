"""F3, the dashboard: an agent's figures for their tickets, a breakdown picked with `b`, `E` exports."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import test_queue_fixtures
from support.snapshots import Layers
from test_queue_fixtures import Desk, listed, pilot_test
from textual.widgets import DataTable, Input
from waiting import notified, on_top, settled, until

from tui_helpdesk import clock
from tui_helpdesk.services import tickets
from tui_helpdesk.services.context import transaction
from tui_helpdesk.tui.screens.queue_dialogs import PickScreen, PromptScreen
from tui_helpdesk.tui.screens.reports import ReportsScreen

desk = test_queue_fixtures.desk  # the 24 tickets of 2026-03-02, under its own name

NOW = clock.parse_iso(test_queue_fixtures.NOW)


def _week(desk: Desk) -> None:
    """Tickets on each of the six days before, one resolved a day later, and replies to the first five."""
    made = []
    for day in range(6, 0, -1):
        clock.set_now(NOW - timedelta(days=day))
        with transaction(desk.engine, desk.admin) as tx:
            for k in range(day % 3 + 1):
                made.append(tickets.create(tx, subject=f"Older {day}.{k}", body="Body", department="Support",
                                           contact_email="old@acme.example", priority="High").number)
        if len(made) > 2:
            clock.set_now(NOW - timedelta(days=day) + timedelta(hours=3))
            with transaction(desk.engine, desk.admin) as tx:
                tickets.resolve(tx, made[-3])
    clock.set_now(NOW)
    for number in desk.numbers[:5]:
        with transaction(desk.engine, desk.admin) as tx:
            tickets.reply(tx, number, "On it")


def week(desk: Desk, built_once: Layers) -> None:
    """_week's rows on the desk, written once per session and copied (tests/support/snapshots.py): ~30
    service calls per test otherwise, for the same rows, ids and pinned clock."""
    built_once(desk.url, "tui-reports-week", lambda: _week(desk))


def _column(screen: ReportsScreen, table_id: str, index: int = 0) -> list[str]:
    table = screen.query_one(table_id, DataTable)
    return [str(table.get_row_at(i)[index]) for i in range(table.row_count)]


async def _opened(pilot) -> ReportsScreen:
    await pilot.press("f3")
    await on_top(pilot, ReportsScreen, "the reports screen")
    screen = pilot.app.screen
    await until(pilot, lambda: screen.report is not None and _column(screen, "#table-by"), "the tables")
    return screen


@pilot_test
async def test_f3_shows_an_agents_figures_breaks_down_and_exports(
    desk: Desk, built_once: Layers, tmp_path: Path
) -> None:
    week(desk, built_once)
    app = desk.app(desk.sam)
    async with app.run_test(size=(120, 36)) as pilot:
        await listed(pilot)
        screen = await _opened(pilot)
        # sam works Support: Billing's tickets are not counted for him
        assert _column(screen, "#table-by") == ["Support", "all"]
        support = screen.query_one("#table-by", DataTable).get_row_at(0)
        assert support[1:5] == [16 + 12, 5, 0, 16 + 12 - 5]  # created, closed, reopened, backlog
        assert _column(screen, "#table-days", 1)[:7] == ["16", "2", "3", "1", "2", "3", "1"]  # newest first

        await pilot.press("b")
        await on_top(pilot, PickScreen, "the breakdown picker")
        app.screen.query_one(Input).value = "priority"
        await pilot.press("enter")
        await until(pilot, lambda: screen.report is not None and screen.report.by == "priority", "by priority")
        assert "High" in _column(screen, "#table-by")

        await pilot.press("E")
        await on_top(pilot, PromptScreen, "the export prompt")
        app.screen.query_one(Input).value = str(tmp_path / "week.csv")
        await pilot.press("enter")
        await until(pilot, lambda: notified(app, "Exported to"), "the export notice")
    table = (tmp_path / "week.csv").read_text().splitlines()
    assert table[0].startswith("priority,created,closed,reopened,backlog") and table[0].endswith(",id")
    assert table[-1].startswith("all,28,5,0,23,")
    assert (tmp_path / "week-days.csv").read_text().splitlines()[0] == "day,created,closed,reopened,backlog"


def test_reports_screen_120x36(desk: Desk, built_once: Layers, snap_compare) -> None:
    week(desk, built_once)

    async def ready(pilot) -> None:
        await listed(pilot)
        await _opened(pilot)
        await settled(pilot)

    clock.set_now(NOW)
    assert snap_compare(desk.app(), terminal_size=(120, 36), run_before=ready)
