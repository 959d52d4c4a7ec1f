"""The new-ticket form's custom fields: those of the chosen department show; a bad or missing one is named."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.snapshots import Layers
from test_new_ticket import FormHarness, dept_id, error_of, form_ready, tickets_titled, type_into
from test_ticket_screen import Data, built, pilot_test
from textual.pilot import Pilot
from textual.widgets import Select
from waiting import settled, until

from tui_helpdesk import clock
from tui_helpdesk.services import custom_fields
from tui_helpdesk.services.admin import create_topic
from tui_helpdesk.services.context import transaction


@pytest.fixture
def data(sqlite_url: str, tmp_path: Path, built_once: Layers) -> Data:
    return built(sqlite_url, tmp_path / "data", built_once, ("tui-new-ticket-fields", _fields))


def _fields(d: Data) -> None:
    with transaction(d.engine, d.admin) as tx:
        create_topic(tx, name="Invoices", department="Billing")
        custom_fields.create_field(tx, name="po", label="PO number", type="number")
        custom_fields.create_field(tx, name="contract", label="Contract", type="choice", choices="Gold, Silver",
                                   departments=["Billing"], required_at_create=True)


@pytest.fixture(autouse=True)
def _unpin_clock():
    yield
    clock.set_now(None)


def _shown(form, name: str) -> bool:
    return bool(form.query_one(f"#nt-row-cf-{name}").display)


@pilot_test
async def test_fields_follow_the_department_and_errors_land_beside_them(data: Data) -> None:
    app = FormHarness(data)
    async with app.run_test(size=(100, 40)) as pilot:
        form = await form_ready(pilot)
        await until(pilot, lambda: bool(form.custom), "the custom fields loaded")
        assert _shown(form, "po") and not _shown(form, "contract")
        form.query_one("#nt-department", Select).value = dept_id(data, "Billing")
        await until(pilot, lambda: _shown(form, "contract"), "Billing's contract field")
        form.query_one("#nt-department", Select).clear()
        await until(pilot, lambda: not _shown(form, "contract"), "the contract field gone with Billing")
        topic = next(v for _, v in form.query_one("#nt-topic", Select)._options if isinstance(v, int))
        form.query_one("#nt-topic", Select).value = topic  # Invoices: opens in Billing
        await until(pilot, lambda: _shown(form, "contract"), "the contract field of the topic's department")
        await type_into(pilot, form, "#nt-requester", "dave@acme.com")
        await type_into(pilot, form, "#nt-subject", "Invoice copy")
        await type_into(pilot, form, "#nt-body", "Please resend it.")
        await type_into(pilot, form, "#nt-cf-po", "twelve")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "not a number" in error_of(form, "cf-po"), "the PO error beside it")
        await type_into(pilot, form, "#nt-cf-po", "12")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "Contract is required" in error_of(form, "cf-contract"), "the missing contract")
        assert form.focused is form.query_one("#nt-cf-contract")
        form.query_one("#nt-cf-contract", Select).value = "Gold"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.results, "the form to close")
    [t] = tickets_titled(data, "Invoice copy")
    assert t.custom_fields == {"po": 12, "contract": "Gold"} and t.department_id == dept_id(data, "Billing")


def test_snapshot_new_ticket_with_fields(snap_compare, data: Data) -> None:
    async def shown(pilot: Pilot) -> None:
        form = await form_ready(pilot)
        await until(pilot, lambda: bool(form.custom), "the custom fields loaded")
        form.query_one("#nt-department", Select).value = dept_id(data, "Billing")
        await until(pilot, lambda: _shown(form, "contract"), "Billing's contract field")
        form.query_one("#nt-requester").cursor_blink = False
        await settled(pilot)

    assert snap_compare(FormHarness(data), terminal_size=(100, 40), run_before=shown)
