"""Issue 12 item 10: new work is not silent. A ticket arriving in one of my views, or a customer's reply
on my ticket, shows in the status line (and rings the bell when the agent turned it on); the sidebar marks
views with unseen tickets until they are opened. Toasts do not repeat the status line (item 13)."""

from __future__ import annotations

import test_queue_fixtures
from test_queue_fixtures import Desk, command, listed, pilot_test
from waiting import notified, settled, until

from tui_helpdesk.models import Contact
from tui_helpdesk.services import agent_prefs, tickets
from tui_helpdesk.services.context import Actor, reading, transaction

desk = test_queue_fixtures.desk


def status_text(app) -> str:
    return str(app.screen.query_one("#status-line").render())


@pilot_test
async def test_a_ticket_arriving_shows_in_the_status_line_and_marks_its_views(desk: Desk) -> None:
    app = desk.app()
    bells: list[int] = []
    async with app.run_test(size=(120, 36)) as pilot:
        await listed(pilot)
        q = app.screen
        app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
        await until(pilot, lambda: q._arrival_marks is not None and app.last_counter is not None, "watching")
        with transaction(desk.engine, desk.sam) as tx:
            new = tickets.create(tx, subject="Server room is warm", body="Fans off.",
                                 contact_email="x@acme.example", department="Support")  # fmt: skip
        app.poll_changes()  # what the app's 2-second poll does (tests turn its timer off)
        await until(pilot, lambda: f"arrived: {new.number} in Unassigned" in status_text(app), "the words")
        assert "builtin:unassigned" in q.sidebar.unseen and "builtin:all" in q.sidebar.unseen
        assert "builtin:open" not in q.sidebar.unseen  # the view on screen is being looked at
        prompt = str(q.sidebar.get_option("builtin:unassigned").prompt)
        assert "●" in prompt
        assert bells == []  # the bell is off until the agent turns it on
        q.choose_view("builtin:unassigned")
        await until(pilot, lambda: "builtin:unassigned" not in q.sidebar.unseen, "the mark cleared")
        assert "●" not in str(q.sidebar.get_option("builtin:unassigned").prompt)
        assert "arrived" not in status_text(app)
        assert "builtin:all" in q.sidebar.unseen  # other views keep theirs


@pilot_test
async def test_a_reply_on_my_ticket_rings_the_bell_when_turned_on(desk: Desk) -> None:
    number = desk.numbers[5]
    with transaction(desk.engine, desk.admin) as tx:
        tickets.assign(tx, number, "root")
    app = desk.app()
    bells: list[int] = []
    async with app.run_test(size=(120, 36)) as pilot:
        await listed(pilot)
        q = app.screen
        app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
        await until(pilot, lambda: q._arrival_marks is not None and app.last_counter is not None, "watching")
        await command(pilot, "bell on")
        await until(pilot, lambda: q.bell_on, "the bell turned on")
        with reading(desk.engine, desk.admin) as tx:
            assert agent_prefs.get(tx, "bell") is True  # kept for this agent
        app.poll_changes()  # the preference's own write moves the counter: no news in it
        await settled(pilot)
        assert bells == []
        with transaction(desk.engine, Actor.system("mail")) as tx:
            ticket = tickets.load(tx, number)
            tickets.add_customer_message(tx, ticket, tx.session.get(Contact, ticket.contact_id), "Still broken.")
        app.poll_changes()
        await until(pilot, lambda: f"reply on your {number}" in status_text(app), "the reply in the status line")
        assert bells == [1]
        assert not notified(app, number)  # the status line says it; no toast repeats it


@pilot_test
async def test_marking_all_and_sorting_say_it_in_the_status_line_only(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(120, 36)) as pilot:
        await listed(pilot)
        await pilot.press("V")
        await until(pilot, lambda: "24 marked" in status_text(app), "the marks in the status line")
        await pilot.press("V")
        await until(pilot, lambda: "marked" not in status_text(app), "the marks cleared")
        await pilot.press("o")
        await until(pilot, lambda: "sort:newest" in status_text(app), "the sort in the status line")
        await settled(pilot)
        assert not app._notifications, [str(n.message) for n in app._notifications]


@pilot_test
async def test_the_workers_trouble_is_said_whole_on_a_narrow_status_line(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await listed(pilot)
        app.set_worker_status("worker: ok 09:00")
        await settled(pilot)
        assert "worker" not in status_text(app)  # all is well: no room is taken to say so at 80 columns
        app.set_worker_status("worker: 2 messages waiting: no SMTP server is configured (09:00)")
        await until(pilot, lambda: "2 messages waiting: no SMTP server is configured" in status_text(app),
                    "the trouble in words")  # fmt: skip
        assert "Open" in status_text(app)
        await pilot.resize_terminal(200, 50)
        await until(pilot, lambda: "worker: 2 messages waiting: no SMTP server is configured (09:00)"
                    in status_text(app), "the whole line when there is room")  # fmt: skip
