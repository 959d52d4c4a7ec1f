"""Opening a ticket does its work once: no frame is rendered for the empty screen while the ticket is read
(the app's display is held then and would throw it away), the ticket's stylesheet is added without
re-parsing the app's sheets or restyling the screen beneath, and the agent's presence is written once the
ticket is painted, not meanwhile. A ticket that cannot be read still paints."""

from __future__ import annotations

from typing import Any

import pytest
from test_ticket_screen import Data, pilot_test, screen
from test_ticket_screen import data as data  # noqa: F401 - the fixture
from textual.app import App, ComposeResult
from textual.geometry import Spacing
from textual.widgets import Static
from waiting import until

from tui_helpdesk.services import presence
from tui_helpdesk.tui.context import AppContext
from tui_helpdesk.tui.screens import ticket as ticket_module
from tui_helpdesk.tui.screens.ticket import TicketScreen


class Watched(App[None]):
    """Pushes one TicketScreen (as test_ticket_screen's Harness) and records what the app's stylesheet styles
    and re-parses, and each frame the ticket screen renders."""

    def __init__(self, data: Data, ticket_id: int) -> None:
        super().__init__()
        self.ctx = AppContext(data.engine, data.admin, data.config)
        self.ticket_id = ticket_id
        self.styled: list[Any] = []
        self.reparsed = 0
        self.frames: list[str] = []  # the message line's text when each frame was rendered, or "empty"

    def compose(self) -> ComposeResult:
        yield Static("the screen beneath", id="beneath")  # on the default screen, as the queue's rows are

    def open_ticket(self) -> None:
        sheet = self.stylesheet
        apply, reparse = sheet.apply, sheet.reparse

        def applying(node: Any, *args: Any, **kwargs: Any) -> None:
            self.styled.append(node)
            apply(node, *args, **kwargs)

        def reparsing() -> None:
            self.reparsed += 1
            reparse()

        sheet.apply, sheet.reparse = applying, reparsing  # type: ignore[method-assign]
        ticket = TicketScreen(self.ticket_id)
        render = ticket._compositor.render_update

        def rendering(*args: Any, **kwargs: Any) -> Any:
            found = ticket.query("#ticket-message")
            line = str(found.first().render()) if found else ""
            self.frames.append("ticket" if ticket.detail is not None else line or "empty")
            return render(*args, **kwargs)

        ticket._compositor.render_update = rendering  # type: ignore[method-assign]
        self.push_screen(ticket)


@pilot_test
async def test_the_first_frame_is_the_tickets_and_the_screen_beneath_is_not_restyled(
    data: Data, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the app's repaints wait for the read until it is here, however slow the machine
    monkeypatch.setattr(ticket_module, "HOLD_SECONDS", 60.0)
    app = Watched(data, data.vpn)
    mark = presence.mark

    def marking(*args: Any) -> None:
        app.frames.append("presence")  # on the worker thread: a list append is atomic
        mark(*args)

    monkeypatch.setattr(presence, "mark", marking)
    async with app.run_test(size=(100, 30)) as pilot:
        beneath = app.screen_stack[0].query_one("#beneath")
        await pilot.pause()  # the app started (its first screen styled), as the queue is when a ticket opens
        app.open_ticket()
        await until(pilot, lambda: "ticket" in app.frames and "presence" in app.frames, "the ticket drawn, presence")
        assert app.frames[0] == "ticket", app.frames  # and "viewing" is written after it, not meanwhile
        assert app.reparsed == 0
        assert beneath not in app.styled
        # ticket.tcss applies all the same: the thread's padding and the header's height come from it
        ticket = screen(app)
        assert ticket.query_one("#ticket-thread").styles.padding == Spacing(0, 1, 0, 1)
        assert str(ticket.query_one("#ticket-header").styles.max_height) == "50h"  # 50% of the screen


@pilot_test
async def test_a_ticket_that_cannot_be_read_still_paints_why(data: Data) -> None:
    app = Watched(data, 999_999)
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_ticket()
        await until(pilot, lambda: any("999999" in f or "not" in f.lower() for f in app.frames),
                    "the refusal drawn")
        assert screen(app).detail is None
