"""Contact and organization pages show their custom fields; the organization page its assets; `e` edits a
contact's field."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.snapshots import Layers
from test_contact_view import loaded, page_text
from test_ticket_screen import Data, Harness, answer, built, opened, pick, pilot_test
from waiting import until

from tui_helpdesk import clock
from tui_helpdesk.services import assets, custom_fields
from tui_helpdesk.services.context import transaction


@pytest.fixture
def data(sqlite_url: str, tmp_path: Path, built_once: Layers) -> Data:
    return built(sqlite_url, tmp_path / "data", built_once, ("tui-client-fields", _fields))


def _fields(d: Data) -> None:
    with transaction(d.engine, d.admin) as tx:
        custom_fields.create_field(tx, name="vip", label="VIP", type="checkbox", target="contact")
        custom_fields.create_field(tx, name="contract", label="Contract", type="choice", choices="Gold, Silver",
                                   target="organization")
        assets.add_asset(tx, "Acme Corp", name="Firewall", type="appliance", serial="FW-1")


@pytest.fixture(autouse=True)
def _unpin_clock():
    yield
    clock.set_now(None)


@pilot_test
async def test_pages_show_fields_and_assets_and_e_sets_a_contacts_field(data: Data) -> None:
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 36)) as pilot:
        await opened(pilot)
        await pilot.press("u")
        page = await loaded(pilot)
        assert "VIP" in page_text(page)
        await pilot.press("e")
        await pick(pilot, "VIP")
        await answer(pilot, "maybe")
        await until(pilot, lambda: "not yes or no" in str(page.query_one("#client-message").render()), "refusal")
        await pilot.press("e")
        await pick(pilot, "VIP")
        await answer(pilot, "yes")
        await until(pilot, lambda: "VIP saved" in str(page.query_one("#client-message").render()), "saved")
        await until(pilot, lambda: any(v.text == "yes" for v in page.page.custom), "the new value shown")
        await pilot.press("O")
        org = await loaded(pilot)
        text = page_text(org)
        assert "Contract" in text and "Firewall (appliance, FW-1)" in text
