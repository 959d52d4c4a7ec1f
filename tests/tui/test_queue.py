"""The queue screen, driven with Pilot on a real SQLite database."""

from __future__ import annotations

import csv
from pathlib import Path

import test_queue_fixtures
from test_queue_fixtures import NOW, Desk, pilot_test, settle

from tui_helpdesk import clock
from tui_helpdesk.services import presence, tickets, views
from tui_helpdesk.services.context import reading, transaction
from tui_helpdesk.tui.screens.queue import QueueScreen
from tui_helpdesk.tui.screens.queue_dialogs import ConfirmScreen, PickScreen
from tui_helpdesk.tui.widgets import ticket_list as tl_module
from tui_helpdesk.tui.widgets.ticket_list import TicketList

SIZE = (120, 36)

desk = test_queue_fixtures.desk  # the fixture, under its own name


def queue(app) -> QueueScreen:
    screen = app.screen
    assert isinstance(screen, QueueScreen), screen
    return screen


def lst(app) -> TicketList:
    return app.screen.query_one("#tickets", TicketList)


def status_text(app) -> str:
    return str(app.screen.query_one("#status-line").render())


@pilot_test
async def test_queue_opens_on_open_tickets_most_recent_first(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        t = lst(app)
        assert t.total == 24 and t.total_known
        assert t.current_row.number == desk.numbers[-1]  # the last created is the last updated
        assert "Open" in status_text(app) and "24 tickets" in status_text(app)
        counts = app.screen.query_one("#sidebar").counts
        assert counts["builtin:open"] == 24 and counts["builtin:resolved"] == 0


@pilot_test
async def test_movement_keys(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        t = lst(app)
        await pilot.press("j", "j", "down")
        assert t.cursor == 3
        await pilot.press("k")
        assert t.cursor == 2
        await pilot.press("G")
        await settle(pilot)
        assert t.cursor == 23 and t.current_row.number == desk.numbers[0]
        await pilot.press("g")
        await settle(pilot)
        assert t.cursor == 0
        await pilot.press("ctrl+d")
        assert t.cursor == (t.size.height - 1) // 2
        await pilot.press("ctrl+u")
        assert t.cursor == 0
        await pilot.press("pagedown")
        assert t.cursor == t.size.height - 1


@pilot_test
async def test_paging_loads_windows_and_end_jumps_with_one_read(desk: Desk, monkeypatch) -> None:
    monkeypatch.setattr(tl_module, "PAGE", 5)
    monkeypatch.setattr(tl_module, "MARGIN", 3)
    app = desk.app()
    async with app.run_test(size=(80, 12)) as pilot:
        await settle(pilot)
        t = lst(app)
        first_load = len(t.loaded_rows())
        assert first_load < 24  # only a window is read, not the list
        reads = t.fetch_count
        await pilot.press("G")
        await settle(pilot)
        assert t.current_row.number == desk.numbers[0]
        assert t.fetch_count - reads <= 3  # the last page directly (plus its edge), never a walk
        for _ in range(30):
            await pilot.press("k")
        await settle(pilot)
        assert t.current_row is not None
        assert t.current_row.number == desk.numbers[30 - 7]  # row 23 - 30 -> clamped walk upward
        await pilot.press("g")
        await settle(pilot)
        assert t.current_row.number == desk.numbers[-1]


@pilot_test
async def test_filter_line_narrows_and_escape_clears(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"prio:high", "enter")
        await settle(pilot)
        t = lst(app)
        high = [n for i, n in enumerate(desk.numbers) if i % 4 == 1]
        assert t.total == len(high)
        assert {r.number for r in t.loaded_rows()} == set(high)
        assert "/prio:high" in status_text(app)
        await pilot.press("slash", "escape")
        await settle(pilot)
        assert t.total == 24


@pilot_test
async def test_filter_error_is_shown_beside_the_line(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"prio:nosuch", "enter")
        await settle(pilot)
        error = str(app.screen.query_one("#fl-error").render())
        assert "no priority called 'nosuch'" in error
        assert lst(app).total == 24  # the list is unchanged


@pilot_test
async def test_filter_completion_of_fields_and_values(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", "p", "r")
        await settle(pilot)
        field = app.screen.query_one("#fl-input")
        assert "prio:" in str(app.screen.query_one("#fl-hint").render())
        await pilot.press("tab")
        await settle(pilot)
        assert field.value == "prio:"
        await pilot.press("u")
        await settle(pilot)
        await pilot.press("tab")
        assert field.value.startswith("prio:Urgent")


@pilot_test
async def test_sort_key_cycles_the_order(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("o")  # updated -> newest
        await settle(pilot)
        assert queue(app).sort == "newest"
        await pilot.press("o")  # -> oldest
        await settle(pilot)
        assert lst(app).current_row.number == desk.numbers[0]
        await pilot.press("colon", *"sort priority", "enter")
        await settle(pilot)
        assert lst(app).current_row.priority_name == "Urgent"


@pilot_test
async def test_views_in_the_sidebar_switch_the_list(desk: Desk) -> None:
    with transaction(desk.engine, desk.admin) as tx:
        tickets.assign(tx, desk.numbers[0], "root")
        tickets.resolve(tx, desk.numbers[1])
    app = desk.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        q = queue(app)
        q.choose_view("builtin:mine")
        await settle(pilot)
        assert [r.number for r in lst(app).loaded_rows()] == [desk.numbers[0]]
        await pilot.press("right_square_bracket")  # next: Unassigned
        await settle(pilot)
        assert q.view_key == "builtin:unassigned" and lst(app).total == 22
        q.choose_view("builtin:resolved")
        await settle(pilot)
        assert [r.number for r in lst(app).loaded_rows()] == [desk.numbers[1]]
        dept_keys = [e.label for e in q.sidebar.entries if e.kind == "dept"]
        assert dept_keys == ["Billing", "Support"]


@pilot_test
async def test_bulk_assign_states_the_count_and_assigns(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("v", "v")
        t = lst(app)
        assert len(t.marked) == 2 and "2 marked" in status_text(app)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, PickScreen)
        await pilot.press(*"sam", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question == "Assign 2 tickets to sam?"
        await pilot.press("y")
        await settle(pilot, rounds=6)
        assert desk.detail(desk.numbers[-1]).assignee_username == "sam"
        assert desk.detail(desk.numbers[-2]).assignee_username == "sam"
        assert desk.detail(desk.numbers[-3]).assignee_username == ""
        assert not t.marked


@pilot_test
async def test_declining_the_confirmation_changes_nothing(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question == f"Resolve {desk.numbers[-1]}?"
        await pilot.press("n")
        await settle(pilot)
        assert desk.detail(desk.numbers[-1]).state == "new"
        await pilot.press("x", "y")
        await settle(pilot, rounds=6)
        assert desk.detail(desk.numbers[-1]).state == "resolved"
        assert lst(app).total == 23  # gone from the Open view


@pilot_test
async def test_mark_all_range_and_status(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        t = lst(app)
        await pilot.press("V")
        await settle(pilot)
        assert len(t.marked) == 24
        await pilot.press("V")
        assert not t.marked
        await pilot.press("v", "j", "j", "ctrl+v")  # v moves down: the anchor is row 0
        assert len(t.marked) == 4
        await pilot.press("escape")
        await pilot.press("shift+down", "shift+down")
        assert len(t.marked) == 3
        await pilot.press("s")
        await settle(pilot)
        await pilot.press(*"Pend", "enter")
        await settle(pilot)
        assert app.screen.question == "Set 3 tickets to Pending?"
        await pilot.press("y")
        await settle(pilot, rounds=6)
        pending = [n for n in desk.numbers if desk.detail(n).state == "pending"]
        assert len(pending) == 3


@pilot_test
async def test_assign_to_me_on_one_ticket_needs_no_confirmation(desk: Desk) -> None:
    app = desk.app(desk.sam)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # sam sees Support only: tickets 2, 3, 5, 6, ... (every third is Billing)
        assert lst(app).total == 16
        await pilot.press("A")
        await settle(pilot, rounds=6)
        assert desk.detail(desk.numbers[-1]).assignee_username == "sam"


@pilot_test
async def test_preview_pane_shows_latest_message(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        body = str(app.screen.query_one("#preview-body").render())
        assert desk.numbers[-1] in body and "Body of ticket 24." in body
        await pilot.press("j")
        await settle(pilot)
        body = str(app.screen.query_one("#preview-body").render())
        assert "Body of ticket 23." in body
        await pilot.press("p")
        assert not app.screen.query_one("#preview").display


@pilot_test
async def test_other_agents_changes_appear_without_a_keypress(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.poll_changes()
        await settle(pilot)
        with transaction(desk.engine, desk.sam) as tx:
            tickets.create(
                tx,
                subject="Brand new from sam",
                body="x",
                contact_email="z@acme.example",
                department="Support",
            )
        app.poll_changes()  # what the 2-second timer does
        await settle(pilot, rounds=6)
        t = lst(app)
        assert t.total == 25
        assert t.loaded_rows()[0].subject == "Brand new from sam"
        assert app.screen.query_one("#sidebar").counts["builtin:open"] == 25


@pilot_test
async def test_presence_of_another_agent_is_shown(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        presence.mark(desk.engine, desk.sam.agent_id, desk.ids[desk.numbers[-1]], "replying")
        queue(app).poll_presence()
        await settle(pilot)
        assert lst(app).presence[desk.ids[desk.numbers[-1]]].agent_name == "Sam Agent"
        assert f"Sam Agent is replying to {desk.numbers[-1]}" in status_text(app)
        line = lst(app).render_line(1).text
        assert "●" in line
        clock.set_now("2026-03-02T09:05:00Z")  # the heartbeat went stale
        queue(app).poll_presence()
        await settle(pilot)
        assert not lst(app).presence


@pilot_test
async def test_save_view_and_open_it(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"prio:urgent", "enter")
        await settle(pilot)
        await pilot.press("colon", *"save Urgent ones", "enter")
        await settle(pilot, rounds=6)
        with reading(desk.engine, desk.admin) as tx:
            saved = views.list_views(tx)
        assert [(v.name, v.query) for v in saved] == [("Urgent ones", "state:new,open prio:urgent")]
        q = queue(app)
        assert q.view_key == f"view:{saved[0].id}"
        assert lst(app).total == 6
        assert q.sidebar.counts[q.view_key] == 6


@pilot_test
async def test_share_view_is_refused_for_an_agent(desk: Desk) -> None:
    app = desk.app(desk.sam)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("colon", *"share Team view", "enter")
        await settle(pilot)
        assert any("not an admin" in n.message for n in app._notifications)
        with reading(desk.engine, desk.sam) as tx:
            assert views.list_views(tx) == []


@pilot_test
async def test_export_writes_the_view_as_csv(desk: Desk, tmp_path: Path) -> None:
    target = tmp_path / "out" / "queue.csv"
    app = desk.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("colon", *f"export {target} number,priority,subject", "enter")
        await settle(pilot, rounds=6)
    with target.open() as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["Number", "Prio", "Subject"]
    assert len(rows) == 25
    assert rows[1][0] == desk.numbers[-1] and rows[1][1] == "Urgent"


@pilot_test
async def test_columns_command_and_untrusted_subjects(desk: Desk) -> None:
    with transaction(desk.engine, desk.admin) as tx:
        tickets.create(
            tx,
            subject="Evil \x1b]0;pwned\x07 title \x1b[31mred",
            body="x",
            contact_email="e@acme.example",
            department="Support",
        )
    app = desk.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("colon", *"columns number,subject,priority", "enter")
        await settle(pilot)
        header = lst(app).render_line(0).text
        assert "Subject" in header and "Prio" in header and "Status" not in header
        line = lst(app).render_line(1).text
        assert "\x1b" not in line and "Evil title red" in line


@pilot_test
async def test_jump_to_a_ticket_by_number(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        number = desk.numbers[3]
        await pilot.press("colon", *number, "enter")
        await settle(pilot)
        try:
            from tui_helpdesk.tui.screens.ticket import TicketScreen  # noqa: F401
        except ImportError:
            assert any("not installed" in n.message for n in app._notifications)
        else:
            assert type(app.screen).__name__ == "TicketScreen"
            assert app.screen.ticket_id == desk.ids[number]


@pilot_test
async def test_copy_number(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("y")
        assert app.clipboard == desk.numbers[-1]


def test_layout_drops_columns_to_fit_80_columns() -> None:
    cols = dict(tl_module.layout(57, tl_module.DEFAULT_COLUMNS))
    assert {"number", "subject", "priority", "status"} <= set(cols)
    assert "organization" not in cols and "requester" not in cols
    assert sum(w + tl_module.GAP for w in cols.values()) + tl_module.PREFIX <= 57 + tl_module.GAP
    wide = dict(tl_module.layout(140, tl_module.DEFAULT_COLUMNS))
    assert set(wide) == set(tl_module.DEFAULT_COLUMNS)


def test_now_is_pinned_for_the_fixture(desk: Desk) -> None:
    assert clock.now().isoformat().startswith(NOW[:16])
