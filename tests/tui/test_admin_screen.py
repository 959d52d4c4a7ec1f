"""The admin screen driven from the keyboard with Pilot, and how it looks (snapshots) on fixed data."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from support.snapshots import Layers
from test_admin_lifecycle import section_shown
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList, Static
from waiting import on_top, press_on, settled, type_into, until

from tui_helpdesk import clock, db
from tui_helpdesk.config import load_config
from tui_helpdesk.models import Department, Status
from tui_helpdesk.services import admin, setup, tickets
from tui_helpdesk.services.context import Actor, resolve_actor, transaction
from tui_helpdesk.tui.context import AppContext
from tui_helpdesk.tui.screens.admin import SECTIONS, AdminScreen
from tui_helpdesk.tui.screens.admin_forms import AdminForm, ConfirmDialog, RefusedDialog


def pilot_test(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async Pilot test on a fresh event loop (the suite has no asyncio plugin)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return run


STYLES = Path(__file__).resolve().parents[2] / "styles"


class Harness(App[None]):
    """Stands in for the app shell: holds ctx and opens the admin screen over a blank one."""

    CSS_PATH = [STYLES / "app.tcss", STYLES / "admin.tcss"]

    def __init__(self, engine: Engine, actor: Actor) -> None:
        super().__init__()
        self.ctx = AppContext(engine=engine, actor=actor, config=load_config())

    def on_mount(self) -> None:
        self.push_screen(AdminScreen())


def fill(engine: Engine) -> dict[str, Actor]:
    """A small, fixed help desk: the same rows every run, so the snapshots are stable."""
    clock.set_now("2026-03-02T09:00:00Z")
    with db.session_scope(engine) as s:
        setup.create_first_admin(s, "root", "Root Admin", "root@example.com")
    with db.session_scope(engine) as s:
        root = resolve_actor(s, "root", "tui")
    with transaction(engine, root) as tx:
        admin.create_department(tx, name="Billing", email="billing@example.com", default_priority="Normal")
        admin.create_department(tx, name="Tier 2", parent="Support", manager="root", default_priority="High")
        admin.create_agent(
            tx, username="sam", name="Sam Agent", email="sam@example.com", department="Support", role="Agent"
        )
        tickets.create(
            tx,
            subject="VPN down",
            body="It is down.",
            contact_email="bob@acme.example",
            department="Support",
            status="On Hold",
        )
    with db.session_scope(engine) as s:
        return {"root": resolve_actor(s, "root", "tui"), "sam": resolve_actor(s, "sam", "tui")}


def filled(
    url: str, built_once: Layers, more: tuple[str, Callable[[Engine, dict[str, Actor]], None]] | None = None
) -> tuple[Engine, dict[str, Actor]]:
    """fill()'s desk in this test's database, built once per session and copied (tests/support/snapshots.py);
    `more` = (layer name, writes on top of the desk), likewise built once and copied."""
    engine = db.get_engine(url)
    actors = built_once(url, "tui-admin-desk", lambda: fill(engine))
    if more is not None:
        name, write = more
        built_once(url, name, lambda: write(engine, actors))
    return engine, actors


@pytest.fixture
def desk(sqlite_url: str, built_once: Layers) -> tuple[Engine, dict[str, Actor]]:
    return filled(sqlite_url, built_once)


async def settle(pilot: Pilot) -> None:
    """Until the app is quiet (waiting.settled); a step that can name what it expects uses `until`."""
    await settled(pilot)


def table_rows(app: App) -> list[list[str]]:
    table = app.screen.query_one("#admin-table", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def open_section(pilot: Pilot, title: str) -> None:
    index = [t for t, _ in SECTIONS].index(title)
    await until(pilot, lambda: isinstance(pilot.app.focused, DataTable), "the admin table")
    await pilot.press("tab")  # to the section list
    await until(pilot, lambda: isinstance(pilot.app.focused, OptionList), "the section list")
    for _ in range(index):
        await pilot.press("down")
    await pilot.press("enter")  # back to the rows
    await section_shown(pilot, title)
    await until(pilot, lambda: isinstance(pilot.app.focused, DataTable), "the rows to take the keys")


async def cursor_to(pilot: Pilot, first_cell: str) -> None:
    for i, row in enumerate(table_rows(pilot.app)):
        if first_cell in row[0]:
            table = pilot.app.screen.query_one("#admin-table", DataTable)
            table.move_cursor(row=i)
            await until(pilot, lambda t=table, n=i: t.cursor_row == n, f"the cursor on {first_cell!r}")
            return
    raise AssertionError(f"no row {first_cell!r}")


def department_names(engine: Engine) -> list[str]:
    with db.session_scope(engine) as s:
        return sorted(s.execute(select(Department.name)).scalars())


async def ready(pilot: Pilot) -> None:
    """Until the admin screen shows its first section's rows."""
    await section_shown(pilot, SECTIONS[0][0])


def rows_first(app: App) -> list[str]:
    return [r[0] for r in table_rows(app)]


@pilot_test
async def test_a_field_error_shows_beside_the_field_then_the_admin_creates_and_edits_a_department(desk) -> None:
    engine, actors = desk
    app = Harness(engine, actors["root"])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        assert rows_first(app) == ["Billing", "Support", "Support / Tier 2"]
        await pilot.press("n")
        form = await on_top(pilot, AdminForm)
        # a name already taken: the error beside the field, the form kept
        await type_into(pilot, "#field-name", "billing")
        await pilot.press("enter")  # Enter in a field saves, like ctrl+s
        error = form.query_one("#error-name", Static)
        await until(
            pilot,
            lambda: "a department named 'billing' already exists" in str(error.render()),
            "the error beside the field",
        )
        assert app.screen is form and error.display
        assert department_names(engine).count("Billing") == 1

        await type_into(pilot, "#field-name", "Sales", replace=True)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "Sales" in rows_first(app), "the new row")
        assert isinstance(app.screen, AdminScreen)
        assert "Sales" in department_names(engine)
        assert rows_first(app) == ["Billing", "Sales", "Support", "Support / Tier 2"]

        await cursor_to(pilot, "Sales")
        await pilot.press("e")
        form = await on_top(pilot, AdminForm)
        form.query_one("#field-email", Input).value = "sales@example.com"
        await pilot.press("ctrl+s")
        await until(
            pilot,
            lambda: any(r[0] == "Sales" and "sales@example.com" in r for r in table_rows(app)),
            "the edited row",
        )
        assert isinstance(app.screen, AdminScreen)


@pilot_test
async def test_admin_edits_a_status_then_deleting_it_in_use_is_refused_and_archive_is_offered(desk) -> None:
    engine, actors = desk

    def parked() -> Status:
        with db.session_scope(engine) as s:
            return s.execute(select(Status).where(Status.name == "Parked")).scalar_one()

    app = Harness(engine, actors["root"])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await open_section(pilot, "Statuses")
        assert [r[0].lstrip("● ") for r in table_rows(app)][:3] == ["New", "Open", "In Progress"]
        await cursor_to(pilot, "On Hold")
        await pilot.press("enter")  # enter edits, like e
        form = await on_top(pilot, AdminForm)
        form.query_one("#field-color", Input).value = "magenta"
        form.query_one("#field-name", Input).value = "Parked"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: any("Parked" in r[0] for r in table_rows(app)), "the renamed status")
        assert isinstance(app.screen, AdminScreen)
        with db.session_scope(engine) as s:
            status = s.execute(select(Status).where(Status.name == "Parked")).scalar_one()
        assert status.color == "magenta"

        # the renamed status is still used by the ticket: deleting it is refused and archiving offered
        await settled(pilot)
        await cursor_to(pilot, "Parked")
        await pilot.press("d")
        await on_top(pilot, ConfirmDialog)
        await pilot.press("y")
        refused = await on_top(pilot, RefusedDialog)
        reason = str(refused.query_one("#refused-reason", Static).render())
        assert "'Parked' is still used by tickets" in reason
        await pilot.press("a")  # archive instead
        await until(pilot, lambda: parked().archived, "the status archived")
        assert isinstance(app.screen, AdminScreen)


@pilot_test
async def test_declining_the_confirmation_deletes_nothing(desk) -> None:
    engine, actors = desk
    app = Harness(engine, actors["root"])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await cursor_to(pilot, "Billing")
        await pilot.press("d")
        confirm = await on_top(pilot, ConfirmDialog)
        await pilot.press("n")
        await until(pilot, lambda: app.screen is not confirm, "the dialog to close")
        await settle(pilot)
        assert "Billing" in department_names(engine)
        await pilot.press("d")
        await on_top(pilot, ConfirmDialog)
        await pilot.press("y")
        await until(pilot, lambda: "Billing" not in rows_first(app), "the row gone")
        assert "Billing" not in department_names(engine)


@pilot_test
async def test_filter_narrows_the_rows_and_escape_clears_it(desk) -> None:
    engine, actors = desk
    app = Harness(engine, actors["root"])
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await press_on(pilot, "#admin-table", "slash")
        await type_into(pilot, "#admin-filter", "tier")
        await until(pilot, lambda: rows_first(app) == ["Support / Tier 2"], "the narrowed rows")
        await pilot.press("escape")
        await until(pilot, lambda: len(table_rows(app)) == 3, "every row again")
        assert isinstance(app.screen, AdminScreen)


@pilot_test
async def test_a_non_admin_is_refused(desk) -> None:
    engine, actors = desk
    app = Harness(engine, actors["sam"])
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.screen.query("#admin-refused"), "the refusal")
        message = str(app.screen.query_one("#admin-refused", Static).render())
        assert "Only admins" in message
        assert not app.screen.query("#admin-table")
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, AdminScreen)  # no form opened
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, AdminScreen), "the screen to close")


# --- how it looks --------------------------------------------------------------------------------------------


def _snapshot_app(sqlite_url: str, built_once: Layers) -> Harness:
    engine, actors = filled(sqlite_url, built_once)
    return Harness(engine, actors["root"])


async def _wait(pilot: Pilot) -> None:
    await ready(pilot)
    await settle(pilot)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_snapshot_departments(snap_compare, sqlite_url: str, built_once: Layers, size: tuple[int, int]) -> None:
    assert snap_compare(_snapshot_app(sqlite_url, built_once), terminal_size=size, run_before=_wait)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_snapshot_statuses(snap_compare, sqlite_url: str, built_once: Layers, size: tuple[int, int]) -> None:
    async def statuses(pilot: Pilot) -> None:
        await ready(pilot)
        await open_section(pilot, "Statuses")
        await settle(pilot)

    assert snap_compare(_snapshot_app(sqlite_url, built_once), terminal_size=size, run_before=statuses)


def test_snapshot_form_with_an_error(snap_compare, sqlite_url: str, built_once: Layers) -> None:
    async def error(pilot: Pilot) -> None:
        await ready(pilot)
        await pilot.press("n")
        form = await on_top(pilot, AdminForm)
        for field in form.query(Input):
            field.cursor_blink = False
        await type_into(pilot, "#field-name", "support")
        await pilot.press("enter")
        error = form.query_one("#error-name", Static)
        await until(pilot, lambda: "already exists" in str(error.render()), "the error")
        await settle(pilot)

    assert snap_compare(_snapshot_app(sqlite_url, built_once), terminal_size=(80, 24), run_before=error)
