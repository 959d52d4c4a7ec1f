"""Links lead somewhere: `l` lists a ticket's linked and merged tickets; Enter opens, `d` unlinks."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.snapshots import Layers
from test_ticket_screen import Data, Harness, _header, built, on_top, opened, pilot_test
from textual.pilot import Pilot
from waiting import notified, settled, until

from tui_helpdesk import clock
from tui_helpdesk.services import links, tickets
from tui_helpdesk.services.context import reading, transaction
from tui_helpdesk.tui.screens.ticket import TicketScreen
from tui_helpdesk.tui.screens.ticket_links import LinksScreen
from tui_helpdesk.tui.widgets.pickers import ConfirmScreen


@pytest.fixture
def data(sqlite_url: str, tmp_path: Path, built_once: Layers) -> Data:
    return built(sqlite_url, tmp_path / "data", built_once, ("tui-links-view", _links))


def _links(d: Data) -> None:
    with transaction(d.engine, d.admin) as tx:
        links.link(tx, "TCK-1000", "TCK-1001", "parent_of")
        links.link(tx, "TCK-1000", "TCK-1002", "parent_of")
        tickets.resolve(tx, "TCK-1002", "done")


@pytest.fixture(autouse=True)
def _unpin_clock():
    yield
    clock.set_now(None)


def links_of(data: Data, ref: str) -> list[tuple[str, str]]:
    with reading(data.engine, data.admin) as tx:
        return [(x.kind, x.number) for x in tickets.view(tx, ref).links]


def top_ticket(pilot: Pilot) -> TicketScreen | None:
    screen = pilot.app.screen
    return screen if isinstance(screen, TicketScreen) else None


@pilot_test
async def test_a_parent_shows_its_children_enter_opens_one_and_esc_follows_back(data: Data) -> None:
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 36)) as pilot:
        await opened(pilot)
        header = _header(app)
        assert "parent of TCK-1001 new" in header and "parent of TCK-1002 resolved" in header
        await pilot.press("l")
        dialog = await on_top(pilot, LinksScreen)
        assert [(r.relation, r.number, r.state) for r in dialog.rows] == [
            ("parent of", "TCK-1001", "new"),
            ("parent of", "TCK-1002", "resolved"),
        ]
        assert "parent of 2: 1 open, 1 resolved or closed" in str(dialog.query_one("#links-title").render())
        await pilot.press("enter")
        await until(pilot, lambda: top_ticket(pilot) is not None and top_ticket(pilot).detail is not None
                    and top_ticket(pilot).detail.number == "TCK-1001", "the child open")
        child = top_ticket(pilot)
        # the child links back to its parent
        await pilot.press("l")
        back = await on_top(pilot, LinksScreen)
        assert [(r.relation, r.number) for r in back.rows] == [("child of", "TCK-1000")]
        await pilot.press("escape")
        await on_top(pilot, TicketScreen)
        await pilot.press("escape")
        await until(pilot, lambda: top_ticket(pilot) is not None and top_ticket(pilot) is not child
                    and top_ticket(pilot).detail.number == "TCK-1000", "back on the parent")


@pilot_test
async def test_d_unlinks_after_asking(data: Data) -> None:
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 36)) as pilot:
        await opened(pilot)
        await pilot.press("l")
        await on_top(pilot, LinksScreen)
        await pilot.press("down", "d")
        await on_top(pilot, ConfirmScreen)
        await pilot.press("n")
        await settled(pilot)
        assert len(links_of(data, "TCK-1000")) == 2
        await pilot.press("l")
        await on_top(pilot, LinksScreen)
        await pilot.press("down", "d")
        await on_top(pilot, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: links_of(data, "TCK-1000") == [("parent_of", "TCK-1001")], "the unlink")
        assert links_of(data, "TCK-1002") == []  # both directions
        await until(pilot, lambda: "TCK-1002" not in _header(app), "the header without it")


@pilot_test
async def test_a_merged_child_leads_to_its_parent_and_the_merge_is_not_unlinked(data: Data) -> None:
    with transaction(data.engine, data.admin) as tx:
        links.merge(tx, "TCK-1000", ["TCK-1002"])
    app = Harness(data, data.evil)  # TCK-1002
    async with app.run_test(size=(120, 36)) as pilot:
        await opened(pilot)
        await pilot.press("l")
        dialog = await on_top(pilot, LinksScreen)
        assert [(r.relation, r.number) for r in dialog.rows][0] == ("merged into", "TCK-1000")
        await pilot.press("d")
        await until(pilot, lambda: notified(app, "cannot be undone"), "the refusal")
        await pilot.press("enter")
        await until(pilot, lambda: top_ticket(pilot) is not None and top_ticket(pilot).detail is not None
                    and top_ticket(pilot).detail.number == "TCK-1000", "the parent open")
        await pilot.press("l")
        dialog = await on_top(pilot, LinksScreen)
        assert ("merged here", "TCK-1002") in [(r.relation, r.number) for r in dialog.rows]


def test_links_dialog_80x24(data: Data, snap_compare) -> None:
    async def ready(pilot: Pilot) -> None:
        await opened(pilot)
        await pilot.press("l")
        await on_top(pilot, LinksScreen)
        await settled(pilot)

    clock.set_now("2026-03-02T09:45:00Z")
    assert snap_compare(Harness(data, data.vpn), terminal_size=(80, 24), run_before=ready)
