"""A ticket opened from a `/` search marks the searched words in its thread (issue 11)."""

from __future__ import annotations

import test_queue_fixtures
from rich.style import Style
from test_queue_fixtures import Desk, command, listed, pilot_test
from waiting import until

from tui_helpdesk.services import tickets
from tui_helpdesk.services.context import transaction
from tui_helpdesk.tui.highlight import MATCH_STYLE
from tui_helpdesk.tui.screens.ticket import TicketScreen
from tui_helpdesk.tui.widgets.thread import ThreadView
from tui_helpdesk.tui.widgets.ticket_list import TicketList

desk = test_queue_fixtures.desk


def marked_words(thread: ThreadView) -> list[str]:
    """The text of every segment drawn in the search mark's style, over the whole thread."""
    mark = Style.parse(MATCH_STYLE)
    out = []
    for index in range(len(thread.boxes())):
        for strip in thread._lines(index):
            out += [seg.text for seg in strip if seg.style and seg.style.bgcolor == mark.bgcolor]
    return out


@pilot_test
async def test_a_ticket_opened_from_a_search_marks_the_words_in_its_thread(desk: Desk) -> None:
    target = desk.numbers[5]
    with transaction(desk.engine, desk.admin) as tx:
        tickets.reply(tx, target, "The CAPACITOR was replaced on site.")
    app = desk.app()
    async with app.run_test(size=(120, 36)) as pilot:
        await listed(pilot)
        await command(pilot, "capacitor", "slash")
        rows = lambda: [r.number for r in app.screen.query_one("#tickets", TicketList).loaded_rows()]  # noqa: E731
        await until(pilot, lambda: rows() == [target], "only the ticket whose reply says capacitor")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TicketScreen) and app.screen.detail is not None,
                    "the ticket")
        thread = app.screen.query_one(ThreadView)
        await until(pilot, lambda: thread.painted, "the thread drawn")
        assert thread.terms == ("capacitor",)
        assert marked_words(thread) == ["CAPACITOR"]  # case ignored, as the search matched it
