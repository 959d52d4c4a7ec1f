"""Issue 12 items 7 and 8: each view keeps its columns and sort, columns drop by a stated priority and
are not cut when there is room; at 80x24 the sidebar folds and the footer keeps to the keys that matter."""

from __future__ import annotations

import test_queue_fixtures
from sqlalchemy import update
from test_queue_fixtures import Desk, command, listed, pilot_test
from waiting import until

from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Agent, Department
from tui_helpdesk.services import tickets, views
from tui_helpdesk.services.context import transaction
from tui_helpdesk.tui.screens.queue import QueueScreen
from tui_helpdesk.tui.widgets import columns as cols
from tui_helpdesk.tui.widgets.queue_footer import NARROW_ACTIONS, QueueFooter
from tui_helpdesk.tui.widgets.ticket_list import TicketList

desk = test_queue_fixtures.desk


def lst(app) -> TicketList:
    return app.screen.query_one("#tickets", TicketList)


def header(app) -> str:
    return lst(app).render_line(0).text


def status_text(app) -> str:
    return str(app.screen.query_one("#status-line").render())


# --- the layout rule (columns.arrange) -----------------------------------------------------------


def test_every_ticked_column_fits_the_list_of_a_120_column_terminal() -> None:
    # 120 columns less the sidebar leave 97 for the list
    laid = cols.arrange(97, cols.ALL_COLUMNS, "updated")
    assert laid.hidden == ()
    assert [k for k, _ in laid.cells] == list(cols.ALL_COLUMNS)
    assert cols.PREFIX + sum(w + cols.GAP for _, w in laid.cells) <= 97


def test_columns_that_cannot_fit_drop_in_the_stated_order_and_the_sort_column_stays() -> None:
    laid = cols.arrange(60, cols.ALL_COLUMNS, "due")
    assert laid.hidden == cols.DROP_PRIORITY[: len(laid.hidden)]  # a prefix of the priority list
    shown = [k for k, _ in laid.cells]
    assert {"number", "subject", "due"} <= set(shown)
    narrow = cols.arrange(34, ("number", "subject", "updated", "due"), "updated")
    assert "due" not in dict(narrow.cells) and "updated" not in dict(narrow.cells)
    # sorted by due, Due is kept even when more important-looking columns go, and added when missing
    by_due = cols.arrange(40, ("number", "subject", "requester"), "due")
    assert "due" in dict(by_due.cells) and "requester" in by_due.hidden


def test_department_and_assignee_are_not_cut_at_200_columns() -> None:
    natural = {"number": 8, "department": 15, "assignee": 17, "requester": 16, "organization": 20}
    laid = dict(cols.arrange(177, cols.DEFAULT_COLUMNS, "updated", natural).cells)  # 200 less the sidebar
    assert laid["department"] >= 15 and laid["assignee"] >= 17 and laid["requester"] >= 16
    assert laid["subject"] >= cols.SUBJECT_WANT


# --- the queue ---------------------------------------------------------------------------------------


@pilot_test
async def test_a_view_sorted_by_due_shows_due_and_each_view_gets_its_columns_and_sort_back(desk: Desk) -> None:
    with transaction(desk.engine, desk.admin) as tx:
        # saved without columns (like the demo's shared views): it still shows what it is sorted by
        views.save_view(tx, "Due soon", "state:new,open", "due", ("number", "subject", "requester"), shared=True)
    app = desk.app()
    async with app.run_test(size=(120, 36)) as pilot:
        await listed(pilot)
        q = app.screen
        assert isinstance(q, QueueScreen)
        await until(pilot, lambda: any(e.label == "Due soon" for e in q.sidebar.entries), "the saved view")
        key = next(e.key for e in q.sidebar.entries if e.label == "Due soon")
        q.choose_view(key)
        await until(pilot, lambda: q.sort == "due" and "Due" in header(app), "the due view with Due")
        assert "Requester" in header(app) and "Status" not in header(app)
        # the Open view: columns and sort changed, then away and back
        q.choose_view("builtin:open")
        await until(pilot, lambda: q.sort == "updated" and "Status" in header(app), "the Open view's defaults")
        await command(pilot, "columns number,subject,organization")
        await command(pilot, "sort oldest")
        # (the desk's tickets have no organization: the column is at its narrowest, titled Org)
        await until(pilot, lambda: "Org" in header(app) and q.sort == "oldest", "the agent's choice")
        q.choose_view("builtin:overdue")
        await until(pilot, lambda: q.sort == "due" and "Org" not in header(app), "the Overdue view")
        assert "Due" in header(app)
        q.choose_view("builtin:open")
        await until(pilot, lambda: q.sort == "oldest" and "Org" in header(app), "Open restored")
        assert "Status" not in header(app)
        # oldest first again (the rows follow the header: a view's query needs no read to be built)
        await until(pilot, lambda: lst(app).current_row.number == desk.numbers[0], "the oldest ticket first")


@pilot_test
async def test_a_column_that_cannot_fit_is_named_in_the_status_line(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(120, 36)) as pilot:
        await listed(pilot)
        await command(pilot, "columns " + ",".join(cols.ALL_COLUMNS))
        await until(pilot, lambda: "Org" in header(app), "every ticked column")
        assert "no room" not in status_text(app)
        await pilot.resize_terminal(100, 36)  # the sidebar stays; the list is 78 wide
        await until(pilot, lambda: "no room for Organization" in status_text(app), "the dropped column named")
        assert "Org" not in header(app)


@pilot_test
async def test_long_department_and_agent_names_are_whole_at_200_columns(desk: Desk) -> None:
    with session_scope(desk.engine) as s:
        s.execute(update(Department).where(Department.name == "Billing").values(name="Accounts Payable"))
        s.execute(update(Agent).where(Agent.username == "sam").values(name="Samantha Agentson"))
    with transaction(desk.engine, desk.admin) as tx:
        tickets.assign(tx, desk.numbers[-1], "sam")
    app = desk.app()
    async with app.run_test(size=(200, 50)) as pilot:
        t = await listed(pilot)
        await until(pilot, lambda: "Samantha Agentson" in t.render_line(1).text, "the whole agent name")
        assert any("Accounts Payable" in t.render_line(y).text for y in range(1, 25))


@pilot_test
async def test_at_80x24_the_sidebar_folds_b_brings_it_back_and_the_footer_is_whole(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await listed(pilot)
        q = app.screen
        footer = q.query_one(QueueFooter)
        await until(pilot, lambda: not q.sidebar.display and footer.narrow, "the sidebar folded")
        keys = list(footer.query("FooterKey"))
        await until(pilot, lambda: len(list(footer.query("FooterKey"))) > 1, "the footer's keys")
        keys = list(footer.query("FooterKey"))
        actions = {k.action for k in keys if not k.has_class("-command-palette")}
        assert actions == NARROW_ACTIONS
        assert sum(k.outer_size.width for k in keys) <= 80  # every key shown whole
        assert all(k.region.right <= 80 and k.size.width > 0 for k in keys)
        await pilot.press("b")
        await until(pilot, lambda: q.sidebar.display, "the sidebar shown by b")
        await pilot.press("b")
        await until(pilot, lambda: not q.sidebar.display, "folded again by b")
        # tab peeks at the folded sidebar; choosing a view folds it again
        await pilot.press("tab")
        await until(pilot, lambda: q.sidebar.display and q.sidebar.has_focus, "the sidebar peeked")
        await pilot.press("j", "enter")
        await until(pilot, lambda: q.view_key != "builtin:open" and not q.sidebar.display, "a view, folded")
        await pilot.resize_terminal(120, 36)
        await until(pilot, lambda: not q.sidebar.display, "b's choice holds at any width")
        await pilot.press("b")
        await until(pilot, lambda: q.sidebar.display and not footer.narrow, "shown, the full footer")


@pilot_test
async def test_a_saved_view_stores_its_columns_and_sort_and_opens_with_them(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(120, 36)) as pilot:
        await listed(pilot)
        q = app.screen
        await command(pilot, "columns number,subject,organization")
        await command(pilot, "sort oldest")
        await until(pilot, lambda: q.sort == "oldest" and "Org" in header(app), "the agent's choice")
        await command(pilot, "save Oldest first")
        await until(pilot, lambda: q.view_key.startswith("view:"), "the saved view open")
        q.choose_view("builtin:pending")
        await until(pilot, lambda: "Org" not in header(app) and q.sort == "updated", "another view")
        q.choose_view(next(e.key for e in q.sidebar.entries if e.label == "Oldest first"))
        await until(pilot, lambda: q.sort == "oldest" and "Org" in header(app), "the saved view's own")
    with transaction(desk.engine, desk.admin) as tx:
        saved = next(v for v in views.list_views(tx) if v.name == "Oldest first")
    assert saved.sort == "oldest" and saved.columns == ("number", "subject", "organization")
