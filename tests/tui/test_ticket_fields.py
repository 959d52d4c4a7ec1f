"""The ticket header's custom fields and asset: shown with their labels, edited from `e` with a reason."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from support.snapshots import Layers
from test_ticket_screen import Data, Harness, answer, built, opened, pick, said, screen
from textual.pilot import Pilot
from waiting import settled, until

from tui_helpdesk import clock
from tui_helpdesk.services import assets, custom_fields
from tui_helpdesk.services.context import transaction
from tui_helpdesk.tui.widgets.header_fields import HeaderFields


def _fields(data: Data) -> None:
    with transaction(data.engine, data.admin) as tx:
        custom_fields.create_field(tx, name="po", label="PO number", type="number", required_at_close=True)
        custom_fields.create_field(tx, name="site", label="Site", type="choice", choices="HQ, Depot")
        assets.add_asset(tx, "Acme Corp", name="Printer P-3", type="printer", serial="SN-300")


@pytest.fixture
def data(sqlite_url: str, tmp_path: Path, built_once: Layers) -> Data:
    return built(sqlite_url, tmp_path / "data", built_once, ("tui-ticket-fields", _fields))


@pytest.fixture(autouse=True)
def _unpin_clock():
    yield
    clock.set_now(None)


def _header(app) -> str:
    console = Console(width=120, record=True, file=io.StringIO())
    console.print(screen(app).query_one(HeaderFields).render_detail())
    return console.export_text()


def test_edit_custom_fields_and_the_asset_from_the_header(data: Data) -> None:
    import asyncio

    async def run() -> None:
        app = Harness(data, data.printer)
        async with app.run_test(size=(120, 40)) as pilot:
            await opened(pilot)
            shown = _header(app)
            assert "PO number" in shown and "required to close" in shown and "Asset" not in shown
            await pilot.press("e")
            await pick(pilot, "PO number")
            await answer(pilot, "lots")
            await answer(pilot, "customer called")
            await said(pilot, "not a number")
            await pilot.press("e")
            await pick(pilot, "PO number")
            await answer(pilot, "4711")
            await answer(pilot, "customer called")
            await until(pilot, lambda: any(v.text == "4711" for v in screen(app).detail.custom), "the PO saved")
            await pilot.press("e")
            await pick(pilot, "Asset")
            await pick(pilot, "SN-300")
            await answer(pilot, "it is that printer")
            await until(pilot, lambda: screen(app).detail.asset.startswith("Printer P-3"), "the asset saved")
            assert "Printer P-3" in _header(app)

    asyncio.run(run())


def test_snapshot_header_with_fields(snap_compare, data: Data) -> None:
    with transaction(data.engine, data.admin) as tx:
        from tui_helpdesk.services import tickets

        tickets.update_fields(tx, data.printer, {"custom": {"site": "depot"}}, reason="set up")
        assets.set_ticket_asset(tx, data.printer, "SN-300")

    async def shown(pilot: Pilot) -> None:
        await opened(pilot)
        await settled(pilot)

    assert snap_compare(Harness(data, data.printer), terminal_size=(100, 30), run_before=shown)
