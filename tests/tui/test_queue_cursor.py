"""The highlighted row is always the row an action acts on (issue 12 item 1), and the list's scroll
position is the user's (issue 11: a far scroll or scrollbar drag is not undone)."""

from __future__ import annotations

import pytest
import test_queue_fixtures
from test_queue_fixtures import Desk, listed, pilot_test, settle
from textual.geometry import Size
from waiting import on_top, until

from tui_helpdesk.tui.screens.queue_dialogs import ConfirmScreen
from tui_helpdesk.tui.screens.ticket import TicketScreen
from tui_helpdesk.tui.widgets import ticket_list as tl_module
from tui_helpdesk.tui.widgets.ticket_list import TicketList

desk = test_queue_fixtures.desk


def highlighted(app) -> list[str]:
    """Numbers of the rows drawn with the cursor's background, read off the screen as painted."""
    tl = app.screen.query_one("#tickets", TicketList)
    bg = tl.get_component_rich_style("ticket-list--cursor").bgcolor
    region = tl.content_region
    strips = app.screen._compositor.render_strips()
    found = []
    for y in range(region.y + 1, region.bottom):
        segs = list(strips[y])
        x = 0
        text = ""
        hit = False
        for seg in segs:
            if region.x <= x < region.right:
                text += seg.text
                if seg.style is not None and seg.style.bgcolor is not None and seg.style.bgcolor == bg:
                    hit = True
            x += len(seg.text)
        if hit:
            found.append(text.split()[0] if text.split() else "")
    return found


async def _agrees(pilot, t: TicketList, preview: bool) -> None:
    """The one highlighted row on screen is the cursor's row, and the preview shows that ticket."""
    await settle(pilot)
    assert t.current_row is not None
    assert highlighted(pilot.app) == [t.current_row.number]
    if preview:
        shown = pilot.app.screen.query_one("#preview")
        await until(pilot, lambda: shown.ticket_id == t.current_row.id, "the preview on the cursor's ticket")


@pytest.mark.parametrize("preview", [False, True], ids=["list", "with-preview"])
@pilot_test
async def test_the_highlight_follows_the_cursor_and_enter_and_x_act_on_it(desk: Desk, preview: bool) -> None:
    # issue 12 item 1: Open view, g, ctrl+d, j, j left the highlight on one ticket while the preview walked on
    app = desk.app()
    async with app.run_test(size=(120, 36)) as pilot:
        t = await listed(pilot)
        if preview:
            await pilot.press("p")
        for key in ("g", "ctrl+d", "j", "j"):
            await pilot.press(key)
            await _agrees(pilot, t, preview)
        number = t.current_row.number
        await pilot.press("x")
        await on_top(pilot, ConfirmScreen, "the confirmation")
        assert app.screen.question == f"Resolve {number}?"
        await pilot.press("n")
        await until(pilot, lambda: app.screen.id == "queue", "back on the queue")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TicketScreen) and app.screen.detail is not None, "ticket")
        assert app.screen.detail.number == number


@pilot_test
async def test_a_far_scroll_stays_where_it_was_put_and_the_cursor_comes_onto_it(desk: Desk, monkeypatch) -> None:
    # issue 11: scrolling far without moving the cursor snapped back to the cursor; a far drag was undone
    monkeypatch.setattr(tl_module, "PAGE", 5)
    monkeypatch.setattr(tl_module, "MARGIN", 1)
    monkeypatch.setattr(tl_module, "WALK_PAGE", 5)
    app = desk.app()
    async with app.run_test(size=(80, 12)) as pilot:
        t = await listed(pilot)
        await settle(pilot)
        assert t.cursor == 0 and len(t.loaded_rows()) < 24
        t.scroll_to(y=10, animate=False, immediate=True)  # what a scrollbar drag does
        await until(pilot, lambda: t.row_at(10) is not None, "the rows scrolled to")
        await settle(pilot)
        assert int(t.scroll_y) == 10
        assert t.cursor == 10 and t.current_row.number == desk.numbers[-11]
        assert highlighted(app) == [t.current_row.number]
        app.screen.data_changed()  # another agent's change re-reads the rows: the view still stays
        await settle(pilot)
        assert int(t.scroll_y) == 10 and highlighted(app) == [desk.numbers[-11]]


@pilot_test
async def test_a_page_down_pressed_as_the_rows_arrive_takes_the_view_along(desk: Desk, monkeypatch) -> None:
    # the rows set the list's height; until the screen's next layout Textual refused to scroll it, so a
    # page down pressed at once moved the cursor off the screen and the rows there were never read
    monkeypatch.setattr(tl_module, "PAGE", 8)
    monkeypatch.setattr(tl_module, "MARGIN", 2)
    app = desk.app()
    async with app.run_test(size=(80, 12)) as pilot:
        t = await listed(pilot)
        await settle(pilot)
        arrived = TicketList._apply_initial

        def then_page_down(self: TicketList, *args, **kwargs) -> None:
            arrived(self, *args, **kwargs)
            self.action_page_down()  # before any layout

        monkeypatch.setattr(TicketList, "_apply_initial", then_page_down)
        t.virtual_size = Size(t.size.width, 1)  # as a list shorter than the screen had left it
        await until(pilot, lambda: not t.allow_vertical_scroll, "no scrollbar")
        t.set_query(t.query_)
        await until(pilot, lambda: t.cursor > 0, "the page down")
        await settle(pilot)
        assert int(t.scroll_y) > 0 and t.current_row is not None
        assert highlighted(app) == [t.current_row.number]
