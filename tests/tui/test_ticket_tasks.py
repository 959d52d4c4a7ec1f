"""Tasks from the ticket screen: add one (due time and assignee), close it with a summary."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from test_ticket_screen import Data, Harness, answer, on_top, opened, pick, pilot_test, screen
from test_ticket_screen import data as data  # noqa: F401 - the fixture
from textual.widgets import Input
from waiting import type_into, until

from tui_helpdesk import clock
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Task, TicketEntry
from tui_helpdesk.tui.screens.task_form import TaskFormScreen


def task_rows(desk: Data) -> list[Task]:
    with session_scope(desk.engine, write=False) as s:
        rows = list(s.execute(select(Task).order_by(Task.id)).scalars())
        for r in rows:
            s.expunge(r)
        return rows


async def typed(pilot, form: TaskFormScreen, field: str, text: str) -> None:
    """Focus the field (the agent clicks or tabs there), empty it, and type `text`."""
    form.query_one(f"#task-{field}", Input).focus()
    await type_into(pilot, form.query_one(f"#task-{field}", Input), text, replace=True)


def error_of(form: TaskFormScreen, field: str) -> str:
    return str(form.query_one(f"#task-{field}-error").render())


@pilot_test
async def test_add_a_task_then_close_it_with_a_summary(data: Data) -> None:
    clock.set_now("2026-03-02T09:00:00Z")
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("w")
        await pick(pilot, "New task")
        form = await on_top(pilot, TaskFormScreen)
        await type_into(pilot, "#task-title", "Replace the VPN certificate")
        await pilot.press("enter")  # enter: the next field (type_into waits for it to have the keys)
        # each field is checked as it is typed, the error beside it, nothing submitted
        await type_into(pilot, "#task-due_at", "tomorrow-ish")
        await until(pilot, lambda: "+4h" in error_of(form, "due_at"), "the due time refused as typed")
        await typed(pilot, form, "assignee", "nobody")
        await until(pilot, lambda: "no agent 'nobody'" in error_of(form, "assignee"), "the unknown assignee")
        await typed(pilot, form, "title", "")
        form.query_one("#task-title", Input).value = ""
        await until(pilot, lambda: "required" in error_of(form, "title"), "the title required")
        await pilot.press("ctrl+s")  # refused: every word stays where it was typed
        assert app.screen is form and form.query_one("#task-due_at", Input).value == "tomorrow-ish"
        await typed(pilot, form, "title", "Replace the VPN certificate")
        await typed(pilot, form, "due_at", "+4h")
        await typed(pilot, form, "assignee", "sam")
        await until(pilot, lambda: not any(error_of(form, f) for f in ("title", "due_at", "assignee")),
                    "no error left")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: task_rows(data), "the task")
        [task] = task_rows(data)
        assert task.title == "Replace the VPN certificate" and task.closed_at is None
        assert task.due_at == clock.now() + timedelta(hours=4)
        await until(
            pilot,
            lambda: [t.title for t in screen(app).detail.tasks] == ["Replace the VPN certificate"],
            "the task in the header",
        )

        await pilot.press("w")
        await pick(pilot, "Close")
        await answer(pilot, "new certificate installed")
        await until(pilot, lambda: task_rows(data)[0].closed_at is not None, "the task closed")
    [task] = task_rows(data)
    assert task.closed_at is not None
    with session_scope(data.engine, write=False) as s:
        notes = s.execute(select(TicketEntry.body).where(TicketEntry.kind == "note")).scalars().all()
    assert any("Replace the VPN certificate" in n and "new certificate installed" in n for n in notes)
