"""Tasks from the ticket screen: add one (due time and assignee), close it with a summary."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from test_ticket_screen import Data, Harness, answer, pick, pilot_test, screen, settle
from test_ticket_screen import data as data  # noqa: F401 - the fixture
from textual.widgets import Input

from tui_helpdesk import clock
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Task, TicketEntry
from tui_helpdesk.tui.widgets.pickers import PromptScreen


def task_rows(desk: Data) -> list[Task]:
    with session_scope(desk.engine, write=False) as s:
        rows = list(s.execute(select(Task).order_by(Task.id)).scalars())
        for r in rows:
            s.expunge(r)
        return rows


@pilot_test
async def test_add_a_task_then_close_it_with_a_summary(data: Data) -> None:
    clock.set_now("2026-03-02T09:00:00Z")
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        await pick(pilot, "New task")
        await answer(pilot, "Replace the VPN certificate")
        # a due time that is not a time is refused beside the field
        assert isinstance(app.screen, PromptScreen)
        app.screen.query_one(Input).value = "tomorrow-ish"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PromptScreen) and "ISO" in str(app.screen.query_one("#prompt-error").render())
        await answer(pilot, "+4h")
        await answer(pilot, "sam")
        await settle(pilot)
        [task] = task_rows(data)
        assert task.title == "Replace the VPN certificate" and task.closed_at is None
        assert task.due_at == clock.now() + timedelta(hours=4)
        await settle(pilot)
        assert [t.title for t in screen(app).detail.tasks] == ["Replace the VPN certificate"]

        await pilot.press("w")
        await settle(pilot)
        await pick(pilot, "Close")
        await answer(pilot, "new certificate installed")
        await settle(pilot)
    [task] = task_rows(data)
    assert task.closed_at is not None
    with session_scope(data.engine, write=False) as s:
        notes = s.execute(select(TicketEntry.body).where(TicketEntry.kind == "note")).scalars().all()
    assert any("Replace the VPN certificate" in n and "new certificate installed" in n for n in notes)
