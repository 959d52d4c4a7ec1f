"""`[`/`]` on the ticket screen walk the queue's order, and triage mode (issue 12 items 3 and 9)."""

from __future__ import annotations

import test_queue_fixtures
from test_queue_fixtures import Desk, listed, pilot_test
from waiting import until

from tui_helpdesk.tui.screens.ticket import TicketScreen

desk = test_queue_fixtures.desk


async def on_ticket(pilot, number: str) -> TicketScreen:
    def shown() -> bool:
        s = pilot.app.screen
        return isinstance(s, TicketScreen) and s.detail is not None and s.detail.number == number

    await until(pilot, shown, f"the ticket screen on {number}")
    return pilot.app.screen


@pilot_test
async def test_brackets_walk_the_queue_order_from_any_row(desk: Desk) -> None:
    order = desk.numbers[::-1]  # the Open view, last updated first
    app = desk.app()
    async with app.run_test(size=(120, 36)) as pilot:
        await listed(pilot)
        await pilot.press("j", "j", "enter")  # the third row
        await on_ticket(pilot, order[2])
        await pilot.press("left_square_bracket")
        await on_ticket(pilot, order[1])  # it said "this is the first ticket"
        await pilot.press("right_square_bracket")
        await on_ticket(pilot, order[2])
        await pilot.press("right_square_bracket")
        await on_ticket(pilot, order[3])
        await pilot.press("left_square_bracket")
        await on_ticket(pilot, order[2])  # one step forward from where `]`, `]`, `[` began; it stayed put
        await pilot.press("escape")
        await until(pilot, lambda: app.screen.id == "queue", "back on the queue")
        tl = app.screen.query_one("#tickets")
        assert tl.current_row.number == order[2]  # the list's cursor went along


@pilot_test
async def test_triage_has_a_key_and_counts_the_tickets_left(desk: Desk) -> None:
    order = desk.numbers[::-1]
    app = desk.app()
    async with app.run_test(size=(120, 36)) as pilot:
        await listed(pilot)
        await pilot.press("j", "R")
        screen = await on_ticket(pilot, order[1])
        assert screen.triage
        line = screen.query_one("#ticket-message")
        await until(pilot, lambda: "triage: 22 left" in str(line.render()), "the count of tickets left")
        await pilot.press("right_square_bracket")
        screen = await on_ticket(pilot, order[2])
        assert screen.triage
        await until(pilot, lambda: "triage: 21 left" in str(screen.query_one("#ticket-message").render()), "21")
