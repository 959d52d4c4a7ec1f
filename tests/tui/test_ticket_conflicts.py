"""Two agents on one ticket, through the app: a stale edit is refused and shows what changed, a reply
that crossed another asks before it goes out, and an entry the service will not let you edit is refused
in the service's words. Real SQLite; the other agent acts through the services, as the CLI would."""

from __future__ import annotations

from typing import Any

from test_ticket_screen import (
    Data,
    Harness,
    _plain,
    _refusal,
    answer,
    entries,
    gone,
    on_top,
    opened,
    pick,
    pilot_test,
    row,
    said,
    screen,
)
from test_ticket_screen import data as data  # noqa: F401 - the fixture
from textual.pilot import Pilot
from textual.widgets import TextArea
from waiting import notified, settled, until

from tui_helpdesk.services import drafts, tickets
from tui_helpdesk.services.context import reading, transaction
from tui_helpdesk.tui.widgets.composer import ComposerScreen
from tui_helpdesk.tui.widgets.header_fields import HeaderFields
from tui_helpdesk.tui.widgets.pickers import ChoiceScreen, ConfirmScreen, PromptScreen
from tui_helpdesk.tui.widgets.thread import ThreadView


async def seen_by_the_screen(pilot: Pilot, test: Any, what: str) -> None:
    """Until the screen's poll (what its 3-second timer does) has loaded the other agent's change."""

    def polled() -> bool:
        if test(screen(pilot.app).detail):
            return True
        screen(pilot.app)._poll()
        return False

    await until(pilot, polled, what)


def _header(app: Any) -> str:
    return _plain(app, screen(app).query_one(HeaderFields).render_detail())


# --- no lost update ---------------------------------------------------------------------------------


@pilot_test
async def test_a_stale_subject_edit_is_refused_and_shows_the_other_agents_subject(data: Data) -> None:
    app = Harness(data, data.printer)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("e")
        await pick(pilot, "subject")
        await on_top(pilot, PromptScreen)
        # meanwhile sam renames the ticket, and this screen's poll loads the new version behind the dialog
        with transaction(data.engine, data.agent) as tx:
            tickets.update_fields(tx, "TCK-1001", {"subject": "Printer: tray 2 only"}, reason="narrowed")
        await seen_by_the_screen(pilot, lambda d: d.subject == "Printer: tray 2 only", "sam's subject loaded")
        await answer(pilot, "Printer jams on every page")
        await answer(pilot, "clearer")
        confirm = await on_top(pilot, ConfirmScreen)
        # a notification is a message the app handles after the push: wait for it, as for the dialog
        await until(pilot, lambda: notified(app, "was changed by sam"), "the notice naming sam")
        assert "Subject: Printer: tray 2 only" in confirm.message
        assert "yours, not saved: Printer jams on every page" in confirm.message
        assert row(data.engine, data.printer).subject == "Printer: tray 2 only"  # nothing overwritten
        await pilot.press("y")  # reload
        await gone(pilot, confirm)
        await until(pilot, lambda: "Printer: tray 2 only" in _header(app), "the header to show sam's subject")
    assert row(data.engine, data.printer).subject == "Printer: tray 2 only"


@pilot_test
async def test_two_priority_pickers_the_second_save_is_refused(data: Data) -> None:
    app = Harness(data, data.printer)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("e")
        await pick(pilot, "priority")
        # sam's picker, open at the same time, saves first
        with transaction(data.engine, data.agent) as tx:
            tickets.update_fields(tx, "TCK-1001", {"priority": "Urgent"}, reason="floor blocked")
        await seen_by_the_screen(pilot, lambda d: d.priority == "Urgent", "sam's priority loaded")
        await pick(pilot, "low")
        await answer(pilot, "can wait")
        confirm = await on_top(pilot, ConfirmScreen)
        assert "changed by sam" in confirm.message
        assert "Priority: Urgent" in confirm.message and "yours, not saved: Low" in confirm.message
        assert row(data.engine, data.printer).priority_rank == 4  # still sam's Urgent
        await pilot.press("n")  # not now: nothing changes, the screen keeps what it shows
        await gone(pilot, confirm)
        await settled(pilot)
    assert row(data.engine, data.printer).priority_rank == 4


@pilot_test
async def test_a_stale_status_pick_is_refused(data: Data) -> None:
    app = Harness(data, data.printer)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("s")
        with transaction(data.engine, data.agent) as tx:
            tickets.set_status(tx, "TCK-1001", "Pending")
        await seen_by_the_screen(pilot, lambda d: d.state == "pending", "sam's status loaded")
        await pick(pilot, "open")
        confirm = await on_top(pilot, ConfirmScreen)
        assert "Status: Pending" in confirm.message
    assert row(data.engine, data.printer).state == "pending"


# --- replies that cross -------------------------------------------------------------------------------


async def _write_reply(pilot: Pilot, text: str) -> ComposerScreen:
    await pilot.press("r")
    composer = await on_top(pilot, ComposerScreen)
    composer.query_one("#composer-body", TextArea).text = text
    return composer


def _sam_replies(data: Data, body: str = "Sam here: restart the client.") -> None:
    with transaction(data.engine, data.agent) as tx:
        tickets.reply(tx, "TCK-1000", body)


@pilot_test
async def test_a_reply_that_crossed_another_asks_and_keep_as_draft_keeps_the_text(data: Data) -> None:
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        composer = await _write_reply(pilot, "Root here: update the client.")
        _sam_replies(data)
        await pilot.press("ctrl+s")
        await gone(pilot, composer)
        ask = await on_top(pilot, ChoiceScreen)
        assert ask.message.startswith("Sam Agent replied 0 s ago")
        assert [label for _, label, _ in ask.choices] == ["send anyway", "review", "keep as draft"]
        await pilot.press("d")
        await said(pilot, "draft kept")
        assert [e.body for e in entries(data.engine, data.vpn)][-1] == "Sam here: restart the client."
        # kept in the database too, so leaving and quitting lose nothing (services/drafts)
        with reading(data.engine, data.admin) as tx:
            assert [d.body for d in drafts.kept(tx, "TCK-1000")] == ["Root here: update the client."]
        await pilot.press("r")  # the draft comes back, every word of it
        composer = await on_top(pilot, ComposerScreen)
        assert composer.query_one("#composer-body", TextArea).text == "Root here: update the client."
        _sam_replies(data, "Sam again: it works now.")  # crosses the reopened draft too
        await pilot.press("ctrl+s")
        await on_top(pilot, ChoiceScreen)
        await pilot.press("s")  # send anyway
        await until(
            pilot,
            lambda: entries(data.engine, data.vpn)[-1].body == "Root here: update the client.",
            "the reply sent",
        )
    bodies = [e.body for e in entries(data.engine, data.vpn)]
    assert bodies[-3:] == ["Sam here: restart the client.", "Sam again: it works now.", "Root here: update the client."]


@pilot_test
async def test_a_reply_nobody_crossed_goes_out_without_a_question_and_review_shows_one_that_crossed(
    data: Data,
) -> None:
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        pushed: list[Any] = []
        original = app.push_screen
        app.push_screen = lambda s, *a, **k: (pushed.append(s), original(s, *a, **k))[1]  # type: ignore[method-assign]
        composer = await _write_reply(pilot, "Only me.")
        await pilot.press("ctrl+s")
        await gone(pilot, composer)
        await until(pilot, lambda: entries(data.engine, data.vpn)[-1].body == "Only me.", "the reply sent")
        assert [type(s).__name__ for s in pushed] == ["ComposerScreen"]
        app.push_screen = original  # type: ignore[method-assign]

        # a reply that crossed sam's: review shows sam's, then the draft goes out without asking again
        await settled(pilot)
        composer = await _write_reply(pilot, "Root here.")
        _sam_replies(data)
        await pilot.press("ctrl+s")
        await gone(pilot, composer)
        await on_top(pilot, ChoiceScreen)
        await pilot.press("r")  # review
        thread = screen(app).query_one(ThreadView)
        await until(
            pilot,
            lambda: any(i.body == "Sam here: restart the client." for i in thread.items),
            "sam's reply in the thread",
        )
        await pilot.press("r")
        composer = await on_top(pilot, ComposerScreen)
        assert composer.query_one("#composer-body", TextArea).text == "Root here."
        await pilot.press("ctrl+s")
        await until(pilot, lambda: entries(data.engine, data.vpn)[-1].body == "Root here.", "the reply sent")
        assert not isinstance(app.screen, ChoiceScreen)


# --- edit rights ------------------------------------------------------------------------------------


@pilot_test
async def test_ctrl_e_on_a_colleagues_reply_is_refused_in_the_services_words(data: Data) -> None:
    roots_reply = next(e for e in entries(data.engine, data.vpn) if e.kind == "reply")
    refusal = _refusal(data, data.agent, lambda tx: tickets.edit_entry(tx, roots_reply.id, "rewritten"))
    app = Harness(data, data.vpn, actor=data.agent)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("k")  # from root's note up to root's reply
        thread = screen(app).query_one(ThreadView)
        await until(pilot, lambda: thread.selected_item().kind == "reply", "the reply selected")
        await pilot.press("ctrl+e")
        await said(pilot, refusal)
        assert not isinstance(app.screen, PromptScreen)  # no dialog to type into, only to be told no
    assert entries(data.engine, data.vpn)[1].body == roots_reply.body


@pilot_test
async def test_ctrl_e_on_a_customer_message_is_refused_even_for_an_admin(data: Data) -> None:
    message = entries(data.engine, data.vpn)[0]
    refusal = _refusal(data, data.admin, lambda tx: tickets.edit_entry(tx, message.id, "rewritten"))
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("g")
        thread = screen(app).query_one(ThreadView)
        await until(pilot, lambda: thread.selected_item().kind == "message", "the message selected")
        await pilot.press("ctrl+e")
        await said(pilot, refusal)
        assert not isinstance(app.screen, PromptScreen)
    assert entries(data.engine, data.vpn)[0].body == message.body
