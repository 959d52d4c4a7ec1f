"""Task writes from the ticket screen carry the version the agent saw (issue 9: no lost update)."""

from __future__ import annotations

from test_ticket_screen import Data, Harness, answer, on_top, opened, pick, pilot_test
from test_ticket_screen import data as data  # noqa: F401 - the fixture
from test_ticket_tasks import task_rows
from textual.widgets import Input
from waiting import notified, type_into, until

from tui_helpdesk.services import tasks, tickets
from tui_helpdesk.services.context import transaction
from tui_helpdesk.tui.screens.task_form import TaskFormScreen
from tui_helpdesk.tui.widgets.pickers import PromptScreen


@pilot_test
async def test_a_task_form_on_a_ticket_changed_meanwhile_is_refused_and_says_who(data: Data) -> None:
    app = Harness(data, data.printer)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("w")
        await pick(pilot, "New task")
        form = await on_top(pilot, TaskFormScreen)
        await type_into(pilot, "#task-title", "Order toner")
        with transaction(data.engine, data.agent) as tx:  # sam changes the ticket while the form is open
            tickets.update_fields(tx, data.printer, {"subject": "Printer: toner"}, reason="narrowed")
        await pilot.press("ctrl+s")
        message = form.query_one("#task-message")
        await until(pilot, lambda: "was changed by sam" in str(message.render()), "the refusal on the form")
        assert app.screen is form and form.query_one("#task-title", Input).value == "Order toner"
        assert task_rows(data) == []


@pilot_test
async def test_closing_a_task_on_a_ticket_changed_meanwhile_is_refused(data: Data) -> None:
    with transaction(data.engine, data.admin) as tx:
        tasks.create_task(tx, data.printer, "Order toner")
    app = Harness(data, data.printer)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("w")
        await pick(pilot, "Close")
        await on_top(pilot, PromptScreen)
        with transaction(data.engine, data.agent) as tx:
            tickets.update_fields(tx, data.printer, {"subject": "Printer: toner"}, reason="narrowed")
        await answer(pilot, "ordered")
        await until(pilot, lambda: notified(app, "was changed by sam"), "the refusal")
        assert task_rows(data)[0].closed_at is None
