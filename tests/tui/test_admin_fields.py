"""The admin screen's custom fields section: define a field from the form; a bad definition names its field."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from support.snapshots import Layers
from test_admin_screen import Harness, filled, on_top, open_section, pilot_test, ready, settle, table_rows
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static
from waiting import until

from tui_helpdesk import db
from tui_helpdesk.services import custom_fields
from tui_helpdesk.services.context import Actor, transaction
from tui_helpdesk.tui.screens.admin import AdminScreen
from tui_helpdesk.tui.screens.admin_forms import AdminForm


@pytest.fixture
def desk(sqlite_url: str, built_once: Layers) -> tuple[Engine, dict[str, Actor]]:
    return filled(sqlite_url, built_once)


def _with_fields(engine: Engine, actors: dict[str, Actor]) -> None:
    with transaction(engine, actors["root"]) as tx:
        custom_fields.create_field(tx, name="po", label="PO number", type="number", required_at_close=True)
        custom_fields.create_field(tx, name="kind", label="Order kind", type="choice", choices="Retail, Trade",
                                   departments=["Billing"], required_at_create=True)
        custom_fields.create_field(tx, name="vip", label="VIP", type="checkbox", target="contact")


@pilot_test
async def test_admin_defines_a_field_and_a_choice_without_choices_is_refused_under_choices(desk) -> None:
    engine, actors = desk
    app = Harness(engine, actors["root"])
    async with app.run_test(size=(120, 36)) as pilot:
        await ready(pilot)
        await open_section(pilot, "Custom fields")
        assert table_rows(app) == []
        await pilot.press("n")
        form = await on_top(pilot, AdminForm)
        form.query_one("#field-name", Input).value = "kind"
        form.query_one("#field-label", Input).value = "Order kind"
        form.query_one("#field-type", Select).value = "choice"
        await pilot.press("ctrl+s")
        error = form.query_one("#error-choices", Static)
        await until(pilot, lambda: "needs its choices" in str(error.render()), "the error under Choices")
        form.query_one("#field-choices", Input).value = "Retail, Trade"
        await pilot.press("ctrl+s")
        await on_top(pilot, AdminScreen)
        await until(pilot, lambda: [r[1] for r in table_rows(app)] == ["kind"], "the new field's row")
        assert table_rows(app)[0][3] == "choice" and table_rows(app)[0][5] == "all tickets"
    with db.session_scope(engine, write=False) as s:
        [row] = custom_fields.definitions(s, "ticket")
        assert (row.name, row.choices) == ("kind", ("Retail", "Trade"))


def test_snapshot_custom_fields_section(snap_compare, sqlite_url: str, built_once: Layers) -> None:
    engine, actors = filled(sqlite_url, built_once, ("tui-admin-fields", _with_fields))

    async def shown(pilot: Pilot) -> None:
        await ready(pilot)
        await open_section(pilot, "Custom fields")
        await until(pilot, lambda: len(table_rows(pilot.app)) == 3, "the three fields")
        await settle(pilot)

    assert snap_compare(Harness(engine, actors["root"]), terminal_size=(120, 36), run_before=shown)
