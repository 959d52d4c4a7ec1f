"""The lifecycle admin sections (SLA plans, schedules, scheduled tickets, auto-close) in the admin screen,
driven with Pilot on a real SQLite database, and how the schedules list looks at 80x24."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from support.snapshots import Layers
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList, Select, SelectionList, Static, TextArea
from waiting import on_top, settled, type_into, until

from tui_helpdesk import clock, db
from tui_helpdesk.config import load_config
from tui_helpdesk.services import lifecycle_admin as la
from tui_helpdesk.services import settings, setup, tickets
from tui_helpdesk.services.context import Actor, reading, resolve_actor, transaction
from tui_helpdesk.tui.context import AppContext
from tui_helpdesk.tui.screens.admin import SECTIONS, AdminScreen
from tui_helpdesk.tui.screens.admin_forms import AdminForm, ConfirmDialog, RefusedDialog

STYLES = Path(__file__).resolve().parents[2] / "styles"


def pilot_test(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async Pilot test on a fresh event loop (the suite has no asyncio plugin)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return run


@pytest.fixture(autouse=True)
def lifecycle_sections() -> Iterator[None]:
    """Our sections in the registry for this test only, so the admin screen's own snapshots (which
    may run in the same process) see the registry as it was."""
    saved = list(SECTIONS)
    from tui_helpdesk.tui.screens import admin_lifecycle

    admin_lifecycle.register()
    yield
    SECTIONS[:] = saved


class Harness(App[None]):
    """Stands in for the app shell: holds ctx and opens the admin screen."""

    CSS_PATH = [STYLES / "app.tcss", STYLES / "admin.tcss"]

    def __init__(self, engine: Engine, actor: Actor) -> None:
        super().__init__()
        self.ctx = AppContext(engine=engine, actor=actor, config=load_config())

    def on_mount(self) -> None:
        self.push_screen(AdminScreen())


def fill(engine: Engine) -> Actor:
    """Fixed data: a Berlin office schedule with two holidays, two plans, a ticket on the default plan,
    a scheduled ticket."""
    clock.set_now("2026-03-02T09:00:00Z")
    with db.session_scope(engine) as s:
        setup.create_first_admin(s, "root", "Root Admin", "root@example.com")
    with db.session_scope(engine) as s:
        root = resolve_actor(s, "root", "tui")
    with transaction(engine, root) as tx:
        la.save_schedule(
            tx,
            name="Office",
            timezone="Europe/Berlin",
            hours=la.parse_hours_text("mon-fri 09:00-17:00; sat 10:00-14:00"),
        )
        la.add_holiday(tx, "Office", "2026-04-03", "Good Friday")
        la.add_holiday(tx, "Office", "2026-12-25", "Christmas Day")
        la.save_plan(tx, name="Standard", grace_hours=8, schedule="Office", is_default=True)
        la.save_plan(tx, name="Urgent", grace_hours=4)
        tickets.create(
            tx, subject="VPN down", body="It is down.", contact_email="bob@acme.example", department="Support"
        )
        la.save_scheduled(
            tx,
            subject="Check backups",
            body="Look at the backup report",
            frequency="daily",
            next_run_at="2026-03-03T08:00:00Z",
            department="Support",
            contact="ops@acme.example",
        )
    return root


def filled(url: str, built_once: Layers) -> tuple[Engine, Actor]:
    """fill()'s desk in this test's database, built once per session and copied (tests/support/snapshots.py)."""
    engine = db.get_engine(url)
    return engine, built_once(url, "tui-admin-lifecycle", lambda: fill(engine))


@pytest.fixture
def desk(sqlite_url: str, built_once: Layers) -> tuple[Engine, Actor]:
    return filled(sqlite_url, built_once)


async def settle(pilot: Pilot) -> None:
    """Until the app is quiet (waiting.settled); a step that can name what it expects uses `until`."""
    await settled(pilot)


async def section_shown(pilot: Pilot, title: str) -> None:
    """Until the admin screen shows `title`'s rows (its load finished)."""
    screen = pilot.app.screen
    status = screen.query_one("#admin-status", Static)
    await until(
        pilot,
        lambda: screen.section.title == title and "loading" not in str(status.render()),
        f"the {title} section to load",
    )


def table_rows(app: App) -> list[list[str]]:
    table = app.screen.query_one("#admin-table", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def field_refused(pilot: Pilot, name: str, text: str) -> None:
    """Until the form says `text` beside the field `name` (the save was refused, the form stays)."""
    await until(pilot, lambda: text in field_error(pilot.app, name), f"{text!r} beside {name}")


async def saved(pilot: Pilot) -> None:
    """Until the form closed and the section shows its rows again (the write went through)."""
    await until(pilot, lambda: not isinstance(pilot.app.screen, (AdminForm, ConfirmDialog)), "the form to close")
    await settled(pilot)  # the reload the write started has landed


async def open_section(pilot: Pilot, title: str) -> None:
    await until(pilot, lambda: pilot.app.screen.query_one("#admin-sections", OptionList), "the admin screen")
    pilot.app.screen.query_one("#admin-sections", OptionList).highlighted = [t for t, _ in SECTIONS].index(
        title
    )
    await section_shown(pilot, title)
    table = pilot.app.screen.query_one("#admin-table", DataTable)
    table.focus()
    await until(pilot, lambda: table.has_focus, "the table to take the keys")


async def cursor_to(pilot: Pilot, first_cell: str) -> None:
    for i, row in enumerate(table_rows(pilot.app)):
        if row[0] == first_cell:
            table = pilot.app.screen.query_one("#admin-table", DataTable)
            table.move_cursor(row=i)
            await until(pilot, lambda t=table, n=i: t.cursor_row == n, f"the cursor on {first_cell!r}")
            return
    raise AssertionError(f"no row {first_cell!r} in {table_rows(pilot.app)}")


async def set_input(pilot: Pilot, name: str, value: str) -> None:
    field = pilot.app.screen.query_one(f"#field-{name}")
    if isinstance(field, TextArea):
        field.text = value
    else:
        assert isinstance(field, Input)
        field.value = value
    await settled(pilot)  # the field's Changed message handled


def field_error(app: App, name: str) -> str:
    return str(app.screen.query_one(f"#error-{name}", Static).render())


def plans(engine: Engine) -> dict[str, Any]:
    with reading(engine) as tx:
        return {p.name: p for p in la.list_plans(tx)}


@pilot_test
async def test_create_a_plan_on_a_schedule_with_a_validation_error_first(desk: tuple[Engine, Actor]) -> None:
    engine, root = desk
    app = Harness(engine, root)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_section(pilot, "SLA plans")
        await pilot.press("n")
        await on_top(pilot, AdminForm)
        await type_into(pilot, "#field-name", "Gold")
        await set_input(pilot, "grace_hours", "0")
        app.screen.query_one("#field-schedule", Select).value = "Office"
        await pilot.press("ctrl+s")
        await field_refused(pilot, "grace_hours", "positive")
        # refused, and said beside the field; nothing saved
        assert isinstance(app.screen, AdminForm)
        assert "Gold" not in plans(engine)
        await set_input(pilot, "grace_hours", "12")
        await pilot.press("ctrl+s")
        await saved(pilot)
        gold = plans(engine)["Gold"]
        assert (gold.grace_hours, gold.schedule, gold.active) == (12, "Office", True)
        assert ["Gold", "12h", "Office"] in [r[:3] for r in table_rows(app)]


@pilot_test
async def test_a_schedule_in_use_is_not_deleted_and_editing_it_and_its_holidays_recomputes_due_times(desk: tuple[Engine, Actor]) -> None:
    engine, root = desk
    with reading(engine) as tx:
        due_before = tickets.view(tx, "TCK-1000").due_at
    # opened Monday 10:00 Berlin: 7h on Monday, 1h on Tuesday = Tuesday 10:00 Berlin
    assert due_before == clock.parse_iso("2026-03-03T09:00:00Z")
    app = Harness(engine, root)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_section(pilot, "Schedules")
        assert table_rows(app) == [["Office", "Europe/Berlin", "2", "mon-fri 09:00-17:00; sat 10:00-14:00"]]
        # a schedule a plan uses is not deleted, and schedules have no archive
        await pilot.press("d")
        await on_top(pilot, ConfirmDialog)
        await pilot.press("y")
        await on_top(pilot, RefusedDialog)
        assert "SLA plan" in str(app.screen.query_one("#refused-reason", Static).render())
        assert not app.screen.query("#refused-archive")  # schedules have no archive
        await pilot.press("escape")
        await on_top(pilot, AdminScreen)
        with reading(engine) as tx:
            assert [s.name for s in la.list_schedules(tx)] == ["Office"]

        await pilot.press("e")
        await on_top(pilot, AdminForm)
        assert app.screen.query_one("#field-hours", Input).value == "mon-fri 09:00-17:00; sat 10:00-14:00"
        assert app.screen.query_one("#field-holidays", TextArea).text == (
            "2026-04-03 Good Friday\n2026-12-25 Christmas Day"
        )
        await set_input(pilot, "holidays", "2026-12-25 Christmas\nnext friday")
        await pilot.press("ctrl+s")
        await field_refused(pilot, "holidays", "line 2")
        assert "line 2" in field_error(app, "holidays") and "not a date" in field_error(app, "holidays")
        await set_input(pilot, "hours", "mon-fri 09:00-13:00")
        await set_input(pilot, "holidays", "2026-03-02 Closed today\n2026-12-25 Christmas")
        await pilot.press("ctrl+s")
        await saved(pilot)
        assert table_rows(app) == [["Office", "Europe/Berlin", "2", "mon-fri 09:00-13:00"]]
    with reading(engine) as tx:
        (office,) = la.list_schedules(tx)
        due_after = tickets.view(tx, "TCK-1000").due_at
    assert office.holidays == (("2026-03-02", "Closed today"), ("2026-12-25", "Christmas"))
    # Monday is a holiday now: 4h Tuesday 09:00-13:00 Berlin, 4h Wednesday = Wednesday 13:00 Berlin
    assert due_after == clock.parse_iso("2026-03-04T12:00:00Z")


@pilot_test
async def test_plans_are_listed_a_plan_in_use_is_refused_deletion_with_the_reason_and_archive_deactivates(
    desk: tuple[Engine, Actor],
) -> None:
    engine, root = desk
    app = Harness(engine, root)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_section(pilot, "SLA plans")
        assert [r[:4] for r in table_rows(app)] == [
            ["Standard", "8h", "Office", "yes"],
            ["Urgent", "4h", "every hour (24/7)", ""],
        ]
        await cursor_to(pilot, "Standard")
        await pilot.press("d")
        await on_top(pilot, ConfirmDialog)
        await pilot.press("y")
        await on_top(pilot, RefusedDialog)
        reason = str(app.screen.query_one("#refused-reason", Static).render())
        assert "in use" in reason and "deactivate" in reason
        await pilot.press("a")
        await until(pilot, lambda: plans(engine)["Standard"].active is False, "the plan deactivated")
        await section_shown(pilot, "SLA plans")
        # an unused plan goes after the question
        await cursor_to(pilot, "Urgent")
        await pilot.press("d")
        await on_top(pilot, ConfirmDialog)
        await pilot.press("y")
        await until(pilot, lambda: [r[0] for r in table_rows(app)] == ["Standard"], "the plan gone")
        assert "Urgent" not in plans(engine)


@pilot_test
async def test_scheduled_ticket_form_keeps_the_body_and_names_bad_fields(desk: tuple[Engine, Actor]) -> None:
    engine, root = desk
    app = Harness(engine, root)
    async with app.run_test(size=(100, 50)) as pilot:
        await open_section(pilot, "Scheduled tickets")
        assert table_rows(app)[0][:4] == ["Check backups", "daily", "2026-03-03 08:00", "Support"]
        await pilot.press("e")
        await on_top(pilot, AdminForm)
        assert app.screen.query_one("#field-body", TextArea).text == "Look at the backup report"
        await set_input(pilot, "next_run_at", "tomorrow morning")
        await pilot.press("ctrl+s")
        await field_refused(pilot, "next_run_at", "ISO")
        assert "ISO" in field_error(app, "next_run_at")
        await set_input(pilot, "next_run_at", "2026-03-09 07:30")
        await set_input(pilot, "contact", "not an address")
        await pilot.press("ctrl+s")
        await field_refused(pilot, "contact", "not an email address")
        assert "not an email address" in field_error(app, "contact")
        await set_input(pilot, "contact", "backup-team@acme.example")
        app.screen.query_one("#field-frequency", Select).value = "weekly"
        await pilot.press("ctrl+s")
        await saved(pilot)
        assert table_rows(app)[0][:3] == ["Check backups", "weekly", "2026-03-09 07:30"]
    with reading(engine) as tx:
        (job,) = la.list_scheduled(tx)
        from tui_helpdesk.services.lifecycle_admin import scheduled_details

        assert scheduled_details(tx, job.id).body == "Look at the backup report"
    assert job.contact == "backup-team@acme.example"


@pilot_test
async def test_auto_close_settings_are_edited_in_place(desk: tuple[Engine, Actor]) -> None:
    engine, root = desk
    app = Harness(engine, root)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_section(pilot, "Auto-close")
        assert table_rows(app) == [["(off)", "3 quiet days", "4 more days"]]
        await pilot.press("n")  # nothing to create here
        await settled(pilot)
        assert not isinstance(app.screen, AdminForm)
        await pilot.press("e")
        await on_top(pilot, AdminForm)
        statuses = app.screen.query_one("#field-statuses", SelectionList)
        offered = [statuses.get_option_at_index(i).value for i in range(statuses.option_count)]
        assert "Pending" in offered and "Resolved" not in offered  # only statuses that wait
        statuses.select("Pending")
        await set_input(pilot, "chaser_days", "0")
        await pilot.press("ctrl+s")
        await field_refused(pilot, "chaser_days", "at least 1")
        assert "at least 1" in field_error(app, "chaser_days")
        await set_input(pilot, "chaser_days", "5")
        await set_input(pilot, "close_days", "2")
        await pilot.press("ctrl+s")
        await saved(pilot)
        assert table_rows(app) == [["Pending", "5 quiet days", "2 more days"]]
    with reading(engine) as tx:
        assert settings.get(tx.session, "autoclose_statuses") == ["Pending"]
        assert settings.get(tx.session, "autoclose_chaser_days") == 5


def test_snapshot_schedules_80x24(snap_compare: Any, desk: tuple[Engine, Actor]) -> None:
    app = Harness(*desk)

    async def schedules(pilot: Pilot) -> None:
        await open_section(pilot, "Schedules")
        await pilot.press("e")
        await on_top(pilot, AdminForm)
        for field in app.screen.query(Input):
            field.cursor_blink = False
        await set_input(pilot, "hours", "weekdays 9-5")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: field_error(app, "hours"), "the error beside the hours")
        await settled(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=schedules)
