"""The composer beside or below the thread (the message answered stays in view), and drafts that survive
leaving the ticket and quitting the app, listed with `:drafts` (issue 12, item 2)."""

from __future__ import annotations

import test_queue_fixtures
from test_queue_fixtures import Desk, command, listed
from test_ticket_screen import Data, Harness, on_top, opened, pilot_test, said
from test_ticket_screen import data as data  # noqa: F401 - the fixture
from textual.widgets import OptionList, TextArea
from waiting import type_into, until

from tui_helpdesk.services import drafts
from tui_helpdesk.services.context import reading, transaction
from tui_helpdesk.tui.screens.drafts import DraftsScreen
from tui_helpdesk.tui.screens.ticket import TicketScreen
from tui_helpdesk.tui.widgets.composer import ComposerScreen
from tui_helpdesk.tui.widgets.header_fields import HeaderFields
from tui_helpdesk.tui.widgets.pickers import ChoiceScreen, ConfirmScreen
from tui_helpdesk.tui.widgets.thread import ThreadView

desk = test_queue_fixtures.desk


def kept(data: Data, ref: str = "TCK-1000") -> dict[str, str]:
    with reading(data.engine, data.admin) as tx:
        return {d.kind: d.body for d in drafts.kept(tx, ref)}


async def _composer_leaves_the_thread_in_view(data: Data, size: tuple[int, int], mode: str) -> None:
    app = Harness(data, data.vpn)
    async with app.run_test(size=size) as pilot:
        ticket = await opened(pilot)
        await pilot.press("r")
        composer = await on_top(pilot, ComposerScreen)
        await until(pilot, lambda: composer.layout_mode == mode, f"the composer {mode}")
        thread, box = ticket.query_one(ThreadView), composer.query_one("#composer-box")
        await until(pilot, lambda: thread.region.height > 0 and box.region.height > 0, "both laid out")
        if mode == "side":  # the thread keeps its whole height, the header stays
            await until(pilot, lambda: thread.region.right <= box.region.x, "the thread left of the box")
            assert thread.region.width >= 55 and ticket.query_one(HeaderFields).display
        else:  # the header folds away; the thread keeps the top
            await until(pilot, lambda: thread.region.bottom <= box.region.y, "the thread above the box")
            assert thread.region.height >= 6 and thread.region.y <= 1
        # the entry being answered is drawn in the part of the thread that shows
        selected = thread.selected
        top = thread._tops[selected] - round(thread.scroll_y)
        assert 0 <= top < thread.region.height
        await type_into(pilot, "#composer-body", "ok")
        await pilot.press("ctrl+t")  # the preview still works, in the box
        await until(pilot, lambda: composer.query_one("#composer-preview").display, "the preview")
        await pilot.press("alt+up")  # walk the thread behind while writing
        await until(pilot, lambda: thread.selected < selected, "the previous entry selected")
        await pilot.press("ctrl+t")
        await until(pilot, lambda: composer.query_one("#composer-body").display, "the text again")


@pilot_test
async def test_the_composer_sits_beside_the_thread_when_wide_and_below_it_when_narrow(data: Data) -> None:
    await _composer_leaves_the_thread_in_view(data, (120, 36), "side")
    await _composer_leaves_the_thread_in_view(data, (80, 24), "below")


@pilot_test
async def test_a_draft_survives_leaving_the_ticket_and_quitting_the_app(data: Data) -> None:
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 36)) as pilot:
        await opened(pilot)
        await pilot.press("r", *"half written")
        await until(pilot, lambda: kept(data) == {"reply": "half written"}, "the draft kept as typed")
        await pilot.press("escape")
        await on_top(pilot, ChoiceScreen)
        await pilot.press("k")  # keep as a draft
        await on_top(pilot, TicketScreen)
        await pilot.press("escape")  # leaving asks nothing: the draft is in the database
        await until(pilot, lambda: app.results == [None], "the ticket left")
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 36)) as pilot:
        await opened(pilot)
        await said(pilot, "you left a reply (r) unsent here")
        await pilot.press("r")
        composer = await on_top(pilot, ComposerScreen)
        body = composer.query_one("#composer-body", TextArea)
        await until(pilot, lambda: body.text == "half written", "the draft restored")
        await type_into(pilot, body, ", and more")
        app.exit()  # quitting with the composer open, before the pause that keeps it
    assert kept(data) == {"reply": "half written, and more"}
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 36)) as pilot:
        await opened(pilot)
        await pilot.press("r")
        composer = await on_top(pilot, ComposerScreen)
        await until(pilot, lambda: composer.query_one("#composer-body", TextArea).text == "half written, and more",
                    "every word back")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: kept(data) == {}, "the draft gone once sent")


@pilot_test
async def test_drafts_command_lists_the_drafts_opens_one_and_discards_another(desk: Desk) -> None:
    first, second = desk.numbers[0], desk.numbers[1]
    with transaction(desk.engine, desk.admin) as tx:
        drafts.keep(tx, first, "reply", "Dear customer, the fix is")
        drafts.keep(tx, second, "note", "check the logs first")
    app = desk.app()
    async with app.run_test(size=(120, 36)) as pilot:
        await listed(pilot)
        await command(pilot, "drafts")
        screen = await on_top(pilot, DraftsScreen)
        await until(pilot, lambda: len(screen.rows) == 2, "both drafts listed")
        assert [(d.number, d.kind) for d in screen.rows] == [(second, "note"), (first, "reply")]
        assert screen.query_one(OptionList).option_count == 2
        await pilot.press("d")
        await on_top(pilot, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: [d.number for d in screen.rows] == [first], "the note discarded")
        await pilot.press("enter")  # opens the ticket with the composer on the draft
        composer = await on_top(pilot, ComposerScreen)
        await until(pilot, lambda: composer.query_one("#composer-body", TextArea).text == "Dear customer, the fix is",
                    "the draft in the composer")
    with reading(desk.engine, desk.admin) as tx:
        assert [(d.number, d.kind) for d in drafts.mine(tx)] == [(first, "reply")]
