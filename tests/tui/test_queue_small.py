"""The queue's small things (issue 12 item 13): the sidebar moves with j/k, a pending ticket shows no
negative due, archived departments are not offered in the move picker."""

from __future__ import annotations

from datetime import timedelta

import test_queue_fixtures
from test_queue_fixtures import Desk, listed, pilot_test, settle
from waiting import on_top, until

from tui_helpdesk import clock
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Department
from tui_helpdesk.services import tickets
from tui_helpdesk.services.context import transaction
from tui_helpdesk.tui.screens.queue_dialogs import PickScreen
from tui_helpdesk.tui.widgets.ticket_list import cell_text

desk = test_queue_fixtures.desk


@pilot_test
async def test_the_sidebar_moves_with_j_and_k(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(120, 36)) as pilot:
        await listed(pilot)
        sidebar = app.screen.query_one("#sidebar")
        await pilot.press("tab")
        await until(pilot, lambda: sidebar.has_focus, "the sidebar focused")
        start = sidebar.highlighted
        await pilot.press("j", "j")
        assert sidebar.highlighted == start + 2
        await pilot.press("k")
        assert sidebar.highlighted == start + 1
        await pilot.press("enter")  # Pending, the view after Open
        await until(pilot, lambda: app.screen.view_key == "builtin:pending", "the Pending view")


@pilot_test
async def test_a_pending_ticket_past_its_due_time_shows_no_negative_due(desk: Desk) -> None:
    number = desk.numbers[-1]
    with transaction(desk.engine, desk.admin) as tx:
        due = (clock.now() - timedelta(days=2)).isoformat()
        tickets.update_fields(tx, number, {"due_at": due}, reason="agreed")
        tickets.set_status(tx, number, "pending")
    app = desk.app()
    async with app.run_test(size=(120, 36)) as pilot:
        t = await listed(pilot)
        app.screen.choose_view("builtin:pending")
        await until(pilot, lambda: t.total_known and t.total == 1 and t.current_row is not None, "Pending")
        await settle(pilot)
        row = t.current_row
        assert row.number == number and row.state == "pending"
        assert cell_text(row, "due", clock.now()) == ""
        assert "-2d" not in str(app.export_screenshot())


@pilot_test
async def test_the_move_picker_offers_no_archived_department(desk: Desk) -> None:
    with session_scope(desk.engine) as s:
        s.add(Department(name="Old desk", state="archived"))
    app = desk.app()
    async with app.run_test(size=(120, 36)) as pilot:
        await listed(pilot)
        await pilot.press("T")
        await on_top(pilot, PickScreen, "the department picker")
        picker = app.screen
        options = picker.query_one("OptionList")
        await until(pilot, lambda: options.option_count >= 2, "the departments")
        await settle(pilot)
        names = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert sorted(names) == ["Billing", "Support"]
