"""Issue 12 item 13 on the ticket screen: a canned response inserted with a blank line around it, and
the resolution notes in the header of a resolved ticket."""

from __future__ import annotations

from test_ticket_screen import Data, Harness, on_top, opened, pick, pilot_test
from test_ticket_screen import data as data  # noqa: F401 - the fixture
from textual.widgets import TextArea
from waiting import type_into, until

from tui_helpdesk.services import tickets
from tui_helpdesk.services.context import transaction
from tui_helpdesk.tui.widgets.composer import ComposerScreen
from tui_helpdesk.tui.widgets.header_fields import HeaderFields


@pilot_test
async def test_a_canned_response_goes_in_with_one_blank_line_around_it(data: Data) -> None:
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 36)) as pilot:
        await opened(pilot)
        await pilot.press("r")
        composer = await on_top(pilot, ComposerScreen)
        body = composer.query_one("#composer-body", TextArea)
        await type_into(pilot, body, "Hi,")
        await until(pilot, lambda: body.text == "Hi,", "the greeting typed")
        await pilot.press("ctrl+r")
        await pick(pilot, "looking")
        await until(pilot, lambda: "on it" in body.text, "the canned response in the body")
        assert body.text == "Hi,\n\nHello Alice Doe, about TCK-1000: on it. Root Admin"


@pilot_test
async def test_a_resolved_ticket_shows_its_resolution_notes_in_the_header(data: Data) -> None:
    with transaction(data.engine, data.admin) as tx:
        tickets.resolve(tx, "TCK-1000", "Keepalive set to 30 s on the client.\nAsked Alice to confirm.")
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 36)) as pilot:
        ticket = await opened(pilot)
        header = ticket.query_one(HeaderFields)
        text = lambda: "\n".join(strip.text for strip in header.render_lines(header.region.reset_offset))  # noqa: E731
        await until(pilot, lambda: "Keepalive set to 30 s" in text(), "the notes in the header")
        assert "Resolution" in text() and "Asked Alice to confirm." in text()
