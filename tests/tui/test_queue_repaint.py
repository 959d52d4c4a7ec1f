"""A sort or filter change repaints the list once, with its new rows (issue 11): no frame of the emptied
list's placeholders before them, and the total is counted after the rows are painted (a first page that
holds the whole list is its total: nothing is counted)."""

from __future__ import annotations

from typing import Any

import pytest
import test_queue_fixtures
from test_queue_fixtures import Desk, listed, pilot_test
from waiting import until

from tui_helpdesk.services import queries
from tui_helpdesk.tui.widgets import ticket_list

desk = test_queue_fixtures.desk


@pilot_test
async def test_a_sort_change_paints_its_rows_first_and_counts_after(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ticket_list, "HOLD_SECONDS", 60.0)  # the repaints wait for the rows however slow the machine
    # a first page of the list's height: the 24 tickets need a count
    monkeypatch.setattr(ticket_list, "MARGIN", 0)
    monkeypatch.setattr(ticket_list, "PAGE", 5)
    events: list[str] = []
    count = queries.count

    def counting(*args: Any, **kwargs: Any) -> int:
        events.append("count")
        return count(*args, **kwargs)

    monkeypatch.setattr(queries, "count", counting)
    app = desk.app()
    async with app.run_test(size=(120, 20)) as pilot:
        t = await listed(pilot)
        screen = app.screen
        render = screen._compositor.render_update

        def rendering(*args: Any, **kwargs: Any) -> Any:
            events.append("placeholders" if t.loading_rows else "rows")
            return render(*args, **kwargs)

        screen._compositor.render_update = rendering  # type: ignore[method-assign]
        events.clear()
        screen.action_cycle_sort()  # updated -> newest
        await until(pilot, lambda: "count" in events and t.total_known and t.total == 24, "the list counted")
        assert events[0] == "rows", events
        assert events.index("count") > events.index("rows"), events

        events.clear()
        screen.filter_text = "prio:urgent"  # 6 tickets: the first page is all of them
        screen.apply_query()
        await until(pilot, lambda: t.total_known and t.total == 6 and "rows" in events, "the filtered list")
        assert events[0] == "rows" and "count" not in events, events


@pilot_test
async def test_opening_a_ticket_does_not_lay_the_queue_out_again_but_a_resize_does(desk: Desk) -> None:
    from textual.geometry import Size

    from tui_helpdesk.tui.screens.ticket import TicketScreen

    app = desk.app()
    async with app.run_test(size=(120, 36)) as pilot:
        t = await listed(pilot)
        queue = app.screen
        layouts: list[Size | None] = []
        layout = queue._refresh_layout

        def laying_out(size: Size | None = None, scroll: bool = False) -> None:
            layouts.append(size)
            layout(size, scroll)

        queue._refresh_layout = laying_out  # type: ignore[method-assign]
        queue.open_ticket(t.current_row.id)
        await until(pilot, lambda: isinstance(app.screen, TicketScreen) and app.screen.detail is not None,
                    "the ticket open")
        assert layouts == []  # the queue beneath is as it was: same size, nothing changed
        await pilot.resize_terminal(100, 30)
        await until(pilot, lambda: queue._compositor.size == Size(100, 30), "the queue laid out at the new size")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is queue and t.current_row is not None, "back on the queue")
