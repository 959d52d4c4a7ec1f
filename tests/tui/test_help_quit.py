"""`q` in the help screen's search box leaves the help while nothing is typed; after letters it searches."""

from __future__ import annotations

import test_queue_fixtures
from test_queue_fixtures import Desk, listed, pilot_test
from textual.widgets import Input
from waiting import on_top, until

from tui_helpdesk.tui.screens.help import HelpScreen
from tui_helpdesk.tui.screens.queue import QueueScreen

desk = test_queue_fixtures.desk


@pilot_test
async def test_q_on_an_empty_search_leaves_the_help_and_is_a_letter_after_others(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await listed(pilot)
        await pilot.press("question_mark")
        await on_top(pilot, HelpScreen, "the help screen")
        await pilot.press("u", "q")
        search = app.screen.query_one("#help-search", Input)
        await until(pilot, lambda: search.value == "uq", "q typed after u")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("backspace", "backspace")
        await until(pilot, lambda: search.value == "", "the box emptied")
        await pilot.press("q")
        await on_top(pilot, QueueScreen, "back on the queue")
        assert app.is_running
