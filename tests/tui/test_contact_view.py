"""A contact's and an organization's page: reached from the ticket (`u`, `O`) and the palette."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from support.snapshots import Layers
from test_ticket_screen import Data, Harness, answer, built, on_top, opened, pick, pilot_test
from textual.pilot import Pilot
from textual.widgets import DataTable
from waiting import settled, until

from tui_helpdesk import clock
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Contact
from tui_helpdesk.services import tickets
from tui_helpdesk.services.context import transaction
from tui_helpdesk.tui.commands import screen_commands
from tui_helpdesk.tui.screens.client import ClientScreen
from tui_helpdesk.tui.screens.ticket import TicketScreen


@pytest.fixture
def data(sqlite_url: str, tmp_path: Path, built_once: Layers) -> Data:
    return built(sqlite_url, tmp_path / "data", built_once, ("tui-contact-view", _older_ticket))


def _older_ticket(d: Data) -> None:
    with transaction(d.engine, d.admin) as tx:  # an older, finished ticket of Alice's
        old = tickets.create(tx, subject="Password reset", department="Support",
                             contact_email="alice@acme.com", body="Locked out.")
        tickets.resolve(tx, old.number, "reset")


@pytest.fixture(autouse=True)
def _unpin_clock():
    yield
    clock.set_now(None)


def plain(renderable: object) -> str:
    console = Console(width=200, record=True)
    console.print(renderable)
    return console.export_text()


def page_text(page: ClientScreen) -> str:
    assert page.page is not None
    return plain(page._head(page.page)) + plain(page._notes(page.page))


def numbers(page: ClientScreen) -> list[str]:
    table = page.query_one("#client-tickets", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def loaded(pilot: Pilot) -> ClientScreen:
    page = await on_top(pilot, ClientScreen)
    await until(pilot, lambda: page.page is not None and page.query_one(DataTable).row_count > 0, "the page")
    return page


@pilot_test
async def test_u_shows_the_requesters_tickets_open_first_time_and_notes_and_O_the_organization(data: Data) -> None:
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 36)) as pilot:
        await opened(pilot)
        await pilot.press("u")
        page = await loaded(pilot)
        text = page_text(page)
        assert "Alice Doe" in text and "alice@acme.com" in text and "Acme Corp" in text
        assert "1 open, 1 resolved or closed" in text
        assert "10m" in text  # the note's time
        assert "Keepalive again" in text
        assert numbers(page) == ["TCK-1000", "TCK-1003"]  # open first, then the resolved one
        await pilot.press("down", "enter")
        ticket = await on_top(pilot, TicketScreen)
        await until(pilot, lambda: ticket.detail is not None and ticket.detail.subject == "Password reset", "opened")
        await pilot.press("escape")
        await on_top(pilot, ClientScreen)

        # back on the ticket, O shows the organization with every contact's tickets
        await pilot.press("escape")
        await on_top(pilot, TicketScreen)
        await pilot.press("O")
        page = await loaded(pilot)
        assert page.organization_id is not None
        text = page_text(page)
        assert "ORGANIZATION" in text and "Acme Corp" in text and "acme.com" in text
        assert numbers(page) == ["TCK-1001", "TCK-1000", "TCK-1003"]  # Carol's and Alice's, open first
        assert "Carol" in text or "carol@acme.com" in text
        await pilot.press("escape")
        await on_top(pilot, TicketScreen)


@pilot_test
async def test_edit_the_contact_from_the_page_and_agents_are_refused(data: Data) -> None:
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 36)) as pilot:
        await opened(pilot)
        await pilot.press("u")
        page = await loaded(pilot)
        await pilot.press("e")
        await pick(pilot, "phone")
        await answer(pilot, "+44 20 7946 0000")
        await until(pilot, lambda: "+44 20 7946 0000" in page_text(page), "the new phone on the page")
    with session_scope(data.engine, write=False) as s:
        assert s.get(Contact, page.contact_id).phone == "+44 20 7946 0000"

    app = Harness(data, data.vpn, actor=data.agent)
    async with app.run_test(size=(120, 36)) as pilot:
        await opened(pilot)
        await pilot.press("u")
        page = await loaded(pilot)
        await pilot.press("e")
        await pick(pilot, "name")
        await answer(pilot, "Mallory")
        await until(pilot, lambda: "not saved" in plain(page.query_one("#client-message").render()), "refusal")
    with session_scope(data.engine, write=False) as s:
        assert s.get(Contact, page.contact_id).name == "Alice Doe"


@pilot_test
async def test_the_palette_opens_a_contacts_page_from_any_screen(data: Data) -> None:
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 36)) as pilot:
        ticket = await opened(pilot)
        run = next(r for t, _, r in screen_commands(ticket) if t == "Contact: open a page…")
        run()
        await pick(pilot, "carol")
        page = await loaded(pilot)
        assert numbers(page) == ["TCK-1001"]
        assert "carol@acme.com" in page_text(page)


def test_contact_page_80x24(data: Data, snap_compare) -> None:
    async def ready(pilot: Pilot) -> None:
        await opened(pilot)
        await pilot.press("u")
        await loaded(pilot)
        await settled(pilot)

    clock.set_now("2026-03-02T09:45:00Z")
    assert snap_compare(Harness(data, data.vpn), terminal_size=(80, 24), run_before=ready)
