"""The thread as a virtual view on a ticket of 500 entries: only the newest page is read and drawn at
first, yet the last entry, the entry the cursor is on and the events toggle behave as on a short one."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import insert, text
from test_ticket_screen import Harness, answer, on_top, screen
from textual.pilot import Pilot
from textual.widgets import TextArea
from waiting import until

from tui_helpdesk import clock, db
from tui_helpdesk.config import Config
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import TicketEntry, TicketEvent
from tui_helpdesk.services import setup, tickets
from tui_helpdesk.services.context import Actor, resolve_actor, transaction
from tui_helpdesk.tui.widgets.pickers import PromptScreen
from tui_helpdesk.tui.widgets.thread import ThreadView

ENTRIES = 500


@pytest.fixture
def long_ticket(sqlite_url: str, tmp_path: Path) -> SimpleNamespace:
    """One ticket of 500 entries ("Entry 0." ... "Entry 499.", replies by the admin) and a status event
    after every tenth, written in one statement (500 service calls would cost seconds)."""
    clock.set_now("2026-03-02T09:00:00Z")
    engine = db.get_engine(sqlite_url)
    with session_scope(engine) as s:
        setup.create_first_admin(s, "root", "Root Admin", "root@example.com")
    with session_scope(engine) as s:
        admin = resolve_actor(s, "root", "tui")
    with transaction(engine, Actor(None, "mail", True, "mail")) as tx:
        t = tickets.create(tx, subject="Long", department="Support", contact_email="a@example.com",
                           body="Entry 0.", source="email")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    rows = [
        {"ticket_id": t.id, "kind": "reply", "agent_id": admin.agent_id, "body": f"Entry {n}.\n\nline two of {n}",
         "body_format": "markdown", "recipients": {}, "time_spent": 0, "created_at": start + timedelta(minutes=n)}
        for n in range(1, ENTRIES)
    ]
    events = [
        {"ticket_id": t.id, "kind": "status", "agent_id": admin.agent_id, "data": {"old": "Open", "new": "Pending"},
         "created_at": start + timedelta(minutes=n)}
        for n in range(10, ENTRIES, 10)
    ]
    with session_scope(engine) as s:
        # the search index's per-entry trigger rebuilds the ticket's document on every row: set it
        # aside for the bulk insert and rebuild once (the ticket's own update trigger)
        found = s.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                               "AND tbl_name = 'ticket_entry' AND sql LIKE '%AFTER INSERT%'")).all()
        for name, _ in found:
            s.execute(text(f"DROP TRIGGER {name}"))
        s.execute(insert(TicketEntry), rows)
        s.execute(insert(TicketEvent), events)
        for _, sql in found:
            s.execute(text(sql))
        s.execute(text("UPDATE ticket SET subject = subject WHERE id = :id"), {"id": t.id})
    clock.advance(minutes=ENTRIES + 5)
    data_dir = tmp_path / "data"
    config = Config(database_url=sqlite_url, data_dir=data_dir, config_file=data_dir / "config.toml")
    yield SimpleNamespace(engine=engine, config=config, admin=admin, ticket_id=t.id)
    clock.set_now(None)


def drawn(thread: ThreadView) -> str:
    """Every line the thread puts on screen now."""
    return "\n".join(thread.render_line(y).text for y in range(thread.scrollable_content_region.height))


async def opened(pilot: Pilot) -> ThreadView:
    await until(pilot, lambda: screen(pilot.app).query_one(ThreadView).painted, "the thread drawn")
    return screen(pilot.app).query_one(ThreadView)


def test_first_and_last_entries_of_a_500_entry_ticket_show(long_ticket: SimpleNamespace) -> None:
    async def run() -> None:
        app = Harness(long_ticket, long_ticket.ticket_id)
        async with app.run_test(size=(100, 30)) as pilot:
            thread = await opened(pilot)
            # only the newest page was read, and the newest entry is the one selected and shown
            assert thread.earlier > 0 and len(thread.items) < ENTRIES
            assert thread.selected_item().body.startswith(f"Entry {ENTRIES - 1}.")
            await until(pilot, lambda: f"Entry {ENTRIES - 1}." in drawn(thread), "the last entry on screen")
            await pilot.press("g")
            await until(pilot, lambda: "Entry 0." in drawn(thread) and thread.earlier == 0, "the first entry")
            assert thread.selected_item().body == "Entry 0."
            await pilot.press("G")
            await until(pilot, lambda: f"Entry {ENTRIES - 1}." in drawn(thread), "the last entry again")
            assert thread.selected_item().body.startswith(f"Entry {ENTRIES - 1}.")

    asyncio.run(run())


def test_ctrl_e_edits_the_entry_under_the_cursor(long_ticket: SimpleNamespace) -> None:
    async def run() -> None:
        app = Harness(long_ticket, long_ticket.ticket_id)
        async with app.run_test(size=(100, 30)) as pilot:
            thread = await opened(pilot)
            await pilot.press("k", "k", "k")
            chosen = f"Entry {ENTRIES - 4}."
            await until(pilot, lambda: thread.selected_item().body.startswith(chosen), "three entries up")
            # the box drawn as selected (its corner marked) is that entry
            lines = drawn(thread).splitlines()
            marked = next(n for n, line in enumerate(lines) if line.lstrip().startswith("▛"))
            assert lines[marked + 1].strip("▌│ ") == chosen
            await pilot.press("ctrl+e")
            prompt = await on_top(pilot, PromptScreen)
            assert prompt.query_one(TextArea).text == f"{chosen}\n\nline two of {ENTRIES - 4}"
            await answer(pilot, "edited here", submit="ctrl+s")
            await until(pilot, lambda: any(i.body == "edited here" for i in thread.items), "the edit shown")
            assert thread.selected_item().body == "edited here"  # the cursor stayed on it after the reload

    asyncio.run(run())


def test_events_toggle_on_a_long_thread(long_ticket: SimpleNamespace) -> None:
    async def run() -> None:
        app = Harness(long_ticket, long_ticket.ticket_id)
        async with app.run_test(size=(100, 60)) as pilot:
            thread = await opened(pilot)
            await until(pilot, lambda: "status Open → Pending" in drawn(thread), "an event line")
            selected = thread.selected_item()
            await pilot.press("E")
            await until(pilot, lambda: "status Open → Pending" not in drawn(thread), "the events hidden")
            assert thread.selected_item() == selected
            await pilot.press("E")
            await until(pilot, lambda: "status Open → Pending" in drawn(thread), "the events back")

    asyncio.run(run())
