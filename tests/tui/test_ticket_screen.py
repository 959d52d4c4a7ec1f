"""The ticket screen against a real SQLite database: each action as an agent would do it from the keyboard."""

from __future__ import annotations

import asyncio
import functools
import io
import stat
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import Engine, select
from support.snapshots import Layers
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, TextArea
from waiting import on_top, settled, type_into, until

from tui_helpdesk import clock, db
from tui_helpdesk.config import Config
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import (
    Agent,
    Attachment,
    Department,
    Organization,
    OrganizationDomain,
    Role,
    Team,
    TeamMember,
    Ticket,
    TicketEntry,
)
from tui_helpdesk.models.views import CannedResponse
from tui_helpdesk.services import presence, setup, tickets
from tui_helpdesk.services.context import Actor, reading, resolve_actor, transaction
from tui_helpdesk.services.errors import ServiceError
from tui_helpdesk.tui.context import AppContext
from tui_helpdesk.tui.screens.ticket import TicketScreen
from tui_helpdesk.tui.widgets.composer import ComposerScreen
from tui_helpdesk.tui.widgets.header_fields import HeaderFields
from tui_helpdesk.tui.widgets.pickers import (
    ChoiceScreen,
    ConfirmScreen,
    PickerScreen,
    PromptScreen,
    TextScreen,
)
from tui_helpdesk.tui.widgets.thread import ThreadView

NOW = "2026-03-02T09:00:00Z"
EVIL_SUBJECT = "Invoice \x1b]0;pwned\x07question\x1b[2J"
EVIL_BODY = "<script>alert(1)</script> <b>hi</b> [red]markup[/red] \x1b[31mred\x1b[0m \x1b]8;;http://evil\x07link\x1b]8;;\x07"


@dataclass
class Data:
    engine: Engine
    config: Config
    admin: Actor
    agent: Actor
    vpn: int  # ticket ids
    printer: int
    evil: int


def build(engine: Engine, data_dir: Path) -> Data:
    """Two departments, an admin, an agent in a team, an organization, a canned response, three tickets."""
    clock.set_now(NOW)
    with session_scope(engine) as s:
        setup.create_first_admin(s, "root", "Root Admin", "root@example.com")
        s.add(Department(name="Billing"))
        roles = {r.name: r for r in s.execute(select(Role)).scalars()}
        support = s.execute(select(Department).where(Department.name == "Support")).scalar_one()
        sam = Agent(
            username="sam",
            name="Sam Agent",
            email="sam@example.com",
            primary_department_id=support.id,
            role_id=roles["Agent"].id,
        )
        org = Organization(name="Acme Corp")
        team = Team(name="Level 2")
        s.add_all([sam, org, team])
        s.flush()
        s.add(OrganizationDomain(organization_id=org.id, domain="acme.com"))
        s.add(TeamMember(team_id=team.id, agent_id=sam.id))
        s.add(
            CannedResponse(
                title="Looking into it",
                body="Hello %{recipient.name}, about %{ticket.number}: on it. %{agent.name}",
            )
        )
    with session_scope(engine) as s:
        admin = resolve_actor(s, "root", "tui")
        agent = resolve_actor(s, "sam", "tui")
    mail = Actor(None, "mail", True, "mail")
    with transaction(engine, mail) as tx:
        vpn = tickets.create(
            tx,
            subject="VPN drops every hour",
            department="Support",
            contact_email="alice@acme.com",
            contact_name="Alice Doe",
            tags=["vpn"],
            source="email",
            priority="High",
            body="The **VPN** drops.\n\n- every hour\n- since Monday",
            full_body="The VPN drops.\n\n> quoted older mail\n> SECRET-QUOTED-LINE",
        )
    clock.advance(minutes=30)
    with transaction(engine, admin) as tx:
        tickets.reply(tx, vpn.number, "Could you send the *client log*?")
    clock.advance(minutes=5)
    with transaction(engine, admin) as tx:
        tickets.note(tx, vpn.number, "Keepalive again, I think.", time_spent=10)
    with transaction(engine, mail) as tx:
        printer = tickets.create(
            tx,
            subject="Printer jams",
            department="Support",
            contact_email="carol@acme.com",
            body="Every second page.",
            source="email",
        )
        evil = tickets.create(
            tx,
            subject=EVIL_SUBJECT,
            department="Billing",
            contact_email="bob@example.org",
            contact_name="Bob \x1b[2JRed",
            body=EVIL_BODY,
            source="email",
        )
    clock.advance(minutes=5)
    return Data(engine, _config(engine, data_dir), admin, agent, vpn.id, printer.id, evil.id)


def _config(engine: Engine, data_dir: Path) -> Config:
    return Config(database_url=str(engine.url), data_dir=data_dir, config_file=data_dir / "config.toml")


def built(
    url: str, data_dir: Path, built_once: Layers, more: tuple[str, Callable[[Data], Any]] | None = None
) -> Data:
    """build()'s desk in this test's database, built once per session and copied (tests/support/snapshots.py):
    the same rows, ids and pinned clock as building it here, for a file copy instead of ~30 service calls.
    `more` = (layer name, writes on top of the desk), likewise built once and copied."""
    engine = db.get_engine(url)

    def desk() -> dict[str, Any]:
        d = build(engine, data_dir)
        return {"admin": d.admin, "agent": d.agent, "vpn": d.vpn, "printer": d.printer, "evil": d.evil}

    data = Data(engine, _config(engine, data_dir), **built_once(url, "tui-ticket-desk", desk))
    if more is not None:
        name, write = more

        def layer() -> None:
            write(data)

        built_once(url, name, layer)
    return data


@pytest.fixture
def data(sqlite_url: str, tmp_path: Path, built_once: Layers) -> Data:
    return built(sqlite_url, tmp_path / "data", built_once)


@pytest.fixture(autouse=True)
def _unpin_clock():
    yield
    clock.set_now(None)


def pilot_test(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async Pilot test on a fresh event loop (the suite has no asyncio plugin)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return run


class Harness(App[None]):
    """Stands in for HelpdeskApp: holds `ctx` and pushes one TicketScreen, recording its dismiss value."""

    def __init__(self, data: Data, ticket_id: int, actor: Actor | None = None, **kwargs: Any) -> None:
        super().__init__()
        self.ctx = AppContext(data.engine, actor or data.admin, data.config)
        self.ticket_id = ticket_id
        self.kwargs = kwargs
        self.results: list[Any] = []

    def on_mount(self) -> None:
        self.push_screen(TicketScreen(self.ticket_id, **self.kwargs), self.results.append)


async def opened(pilot: Pilot, ticket_id: int | None = None) -> TicketScreen:
    """Until the ticket screen has loaded its ticket (the header and the thread are drawn)."""
    await until(
        pilot,
        lambda: screen(pilot.app).detail is not None
        and (ticket_id is None or screen(pilot.app).detail.id == ticket_id)
        and screen(pilot.app).query_one(ThreadView).selected_item() is not None,
        "the ticket screen to show its ticket (an entry selected)",
    )
    return screen(pilot.app)


async def gone(pilot: Pilot, dialog: Any) -> None:
    await until(pilot, lambda: pilot.app.screen is not dialog, f"{type(dialog).__name__} to close")


async def said(pilot: Pilot, text: str) -> None:
    """Until the ticket screen's message line says `text`."""
    await until(
        pilot,
        lambda: text in str(screen(pilot.app).query_one("#ticket-message").render()),
        f"the message line to say {text!r}",
    )


def screen(app: App) -> TicketScreen:
    s = app.screen_stack[1]
    assert isinstance(s, TicketScreen)
    return s


def _boxes(app: App) -> list[Any]:
    """The thread's entries and event lines, as it draws them."""
    return screen(app).query_one(ThreadView).boxes()


def row(engine: Engine, ticket_id: int) -> Ticket:
    with session_scope(engine, write=False) as s:
        t = s.get(Ticket, ticket_id)
        s.expunge(t)
        return t


def entries(engine: Engine, ticket_id: int) -> list[TicketEntry]:
    with session_scope(engine, write=False) as s:
        rows = list(
            s.execute(
                select(TicketEntry).where(TicketEntry.ticket_id == ticket_id).order_by(TicketEntry.id)
            ).scalars()
        )
        for r in rows:
            s.expunge(r)
        return rows


async def pick(pilot: Pilot, text: str) -> None:
    """Narrow the picker (when it is open) by typing, and choose the first match once it shows."""
    picker = await on_top(pilot, PickerScreen)
    await type_into(pilot, picker.query_one(Input), text)
    words = text.lower().split()
    await until(
        pilot,
        lambda: picker.shown
        and picker.query_one(Input).value == text
        and all(w in picker.shown[0].haystack() for w in words),
        f"the picker to offer {text!r}",
    )
    await pilot.press("enter")
    await gone(pilot, picker)


async def answer(pilot: Pilot, text: str, submit: str = "enter") -> None:
    """Fill the prompt (when it is open) and submit; returns when it closed or shows an error."""
    prompt = await on_top(pilot, PromptScreen)
    if prompt.multiline:
        prompt.query_one(TextArea).text = text
    else:
        prompt.query_one(Input).value = text
    await pilot.press(submit)
    await until(
        pilot,
        lambda: pilot.app.screen is not prompt or str(prompt.query_one("#prompt-error").render()).strip(),
        "the prompt to close or show an error",
    )


# --- reading ------------------------------------------------------------------------------------


@pilot_test
async def test_header_and_thread_show_every_kind_distinctly_and_E_toggles_the_events(data: Data) -> None:
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        header = screen(app).query_one(HeaderFields).render_detail()
        text = _plain(app, header)
        for expected in (
            "TCK-1000",
            "VPN drops every hour",
            "Alice Doe",
            "Acme Corp",
            "Support",
            "High",
            "#vpn",
            "10m",
        ):
            assert expected in text
        boxes = _boxes(app)
        kinds = [b.item.kind for b in boxes if b.item.kind != "event"]
        assert kinds == ["message", "reply", "note"]
        titles = {b.item.kind: str(b.border_title) for b in boxes if b.item.kind != "event"}
        assert (
            "CUSTOMER" in titles["message"]
            and "REPLY" in titles["reply"]
            and "INTERNAL NOTE" in titles["note"]
        )
        # Markdown rendered: the list bullet replaces the dash, emphasis markers are gone
        msg = next(b for b in boxes if b.item.kind == "message")
        assert "• every hour" in _plain(app, msg.body()) and "**" not in _plain(app, msg.body())

        # E hides the event lines and brings them back
        events = lambda: [b for b in _boxes(app) if b.item.kind == "event"]  # noqa: E731
        assert any(b.item.event_kind == "status" for b in events())
        await pilot.press("E")
        await until(pilot, lambda: events() == [], "the events to be hidden")
        await pilot.press("E")
        await until(pilot, events, "the events to show again")


def _plain(app: App, renderable: Any) -> str:
    """The text of a renderable as a colourless terminal would print it."""
    console = Console(width=160, color_system=None, file=io.StringIO(), legacy_windows=False)
    console.print(renderable)
    return console.file.getvalue()


def _header(app: App) -> str:
    return _plain(app, screen(app).query_one(HeaderFields).render_detail())


@pilot_test
async def test_escape_sequences_never_reach_the_screen_and_html_is_literal(data: Data) -> None:
    app = Harness(data, data.evil)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await settled(pilot)  # every entry drawn before the screenshot
        out = app.export_screenshot()  # every cell of the screen as drawn
        shown = _header(app)
        body = _plain(app, next(b for b in _boxes(app) if b.item.kind == "message").body())
        for text in (shown, body):
            assert "\x1b]" not in text and "\x1b[2J" not in text and "\x07" not in text
        assert "pwned" not in shown  # the OSC title payload is removed with its introducer
        assert "Invoice question" in shown
        assert "<script>alert(1)</script>" in body and "<b>hi</b>" in body
        assert "[red]markup[/red]" in body  # Rich markup is text too
        assert "\x1b" not in out and "\x07" not in out and "pwned" not in out
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out.replace("&#160;", " ")


# --- composing ---------------------------------------------------------------------------------------


def _presence(data: Data) -> dict[int, Any]:
    with reading(data.engine) as tx:
        return presence.on_tickets(tx, [data.vpn])


@pilot_test
async def test_reply_with_time_cc_and_resolve(data: Data) -> None:
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("r")
        composer = await on_top(pilot, ComposerScreen)
        await until(
            pilot,
            lambda: data.vpn in _presence(data) and _presence(data)[data.vpn].activity == "replying",
            "presence to say 'replying'",
        )
        await type_into(pilot, "#composer-body", "Fixed the **keepalive**.")
        composer.query_one("#composer-time", Input).value = "15"
        composer.query_one("#composer-cc", Input).value = "dave@acme.com"
        resolved = next(s.id for s in screen(app).statuses if s.hint == "resolved")
        composer.query_one("#composer-status").value = resolved
        await until(pilot, lambda: composer.query_one("#composer-notes", Input).display, "the notes field")
        composer.query_one("#composer-notes", Input).value = "keepalive set to 30s"
        await pilot.press("ctrl+s")
        await gone(pilot, composer)
        await until(pilot, lambda: row(data.engine, data.vpn).state == "resolved", "the ticket to be resolved")
        await said(pilot, "reply sent")
    # the app has exited: its screens unmounted, and clearing presence is part of unmounting
    assert _presence(data) == {}
    t = row(data.engine, data.vpn)
    assert t.state == "resolved" and t.resolution_notes == "keepalive set to 30s"
    last = entries(data.engine, data.vpn)[-1]
    assert (last.kind, last.body, last.time_spent) == ("reply", "Fixed the **keepalive**.", 15)
    with reading(data.engine, data.admin) as tx:
        assert "dave@acme.com" in tickets.view(tx, t.number).collaborators


@pilot_test
async def test_escape_goes_back_with_none_clears_presence_and_a_late_heartbeat_writes_nothing(
    data: Data,
) -> None:
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 40)) as pilot:
        ticket = await opened(pilot)
        await until(pilot, lambda: data.vpn in _presence(data), "presence to be recorded")
        await pilot.press("escape")
        await until(pilot, lambda: app.results == [None], "the screen to go back")
        assert _presence(data) == {}  # gone the moment the screen is: nothing left to wait for
        ticket.write_presence("replying")  # what a heartbeat worker still under way would do
        assert _presence(data) == {}


@pilot_test
async def test_note_and_canned_response_with_variables(data: Data) -> None:
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("n")
        composer = await on_top(pilot, ComposerScreen)
        await pilot.press("ctrl+r")
        await pick(pilot, "looking")
        body = composer.query_one("#composer-body", TextArea)
        await until(pilot, lambda: body.text, "the canned response in the body")
        assert body.text == "Hello Alice Doe, about TCK-1000: on it. Root Admin"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: entries(data.engine, data.vpn)[-1].kind == "note", "the note")
    last = entries(data.engine, data.vpn)[-1]
    assert last.kind == "note" and "TCK-1000" in last.body


@pilot_test
async def test_escape_asks_before_discarding_a_draft(data: Data) -> None:
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("r")
        composer = await on_top(pilot, ComposerScreen)
        await type_into(pilot, "#composer-body", "half written")
        await pilot.press("escape")
        choice = await on_top(pilot, ChoiceScreen)
        await pilot.press("w")  # keep writing
        await gone(pilot, choice)
        assert app.screen is composer
        assert composer.query_one("#composer-body", TextArea).text == "half written"
        await pilot.press("escape")
        await on_top(pilot, ChoiceScreen)
        await pilot.press("d")  # discard
        await on_top(pilot, TicketScreen)
        await settled(pilot)
        assert screen(app).kept_drafts == {}
    assert len(entries(data.engine, data.vpn)) == 3


@pilot_test
async def test_conflicting_edit_is_refused_and_the_draft_kept(data: Data) -> None:
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("r")
        await on_top(pilot, ComposerScreen)
        await type_into(pilot, "#composer-body", "my answer")
        # someone else changes the ticket meanwhile
        with transaction(data.engine, data.agent) as tx:
            tickets.note(tx, "TCK-1000", "sam was here")
        await pilot.press("ctrl+s")
        # refused, reloaded, and the composer reopened with the draft and the reason
        await until(
            pilot,
            lambda: isinstance(app.screen, ComposerScreen)
            and "reloaded" in str(app.screen.query_one("#composer-error").render()),
            "the composer to come back with the draft",
        )
        assert app.screen.query_one("#composer-body", TextArea).text == "my answer"
        assert "changed by" in str(app.screen.query_one("#composer-error").render())
        assert [e.body for e in entries(data.engine, data.vpn)][-1] == "sam was here"
        # the screen reloaded, so sending again now works
        await pilot.press("ctrl+s")
        await until(pilot, lambda: entries(data.engine, data.vpn)[-1].body == "my answer", "the reply")
    assert [e.body for e in entries(data.engine, data.vpn)][-2:] == ["sam was here", "my answer"]


@pilot_test
async def test_editor_a_refused_attachment_type_and_an_attachment(data: Data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    editor = tmp_path / "fake-editor"
    editor.write_text('#!/bin/sh\nprintf "written in the editor\\n" > "$1"\n')
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.delenv("VISUAL", raising=False)
    log = tmp_path / "client.log"
    log.write_text("line 1\n")
    bad = tmp_path / "setup.exe"
    bad.write_bytes(b"MZ")
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("r")
        composer = await on_top(pilot, ComposerScreen)
        await pilot.press("ctrl+g")
        body = composer.query_one("#composer-body", TextArea)
        await until(pilot, lambda: body.text == "written in the editor", "the editor's text in the body")
        # a blocked type is refused with the reason, and nothing is attached
        await pilot.press("ctrl+f")
        await answer(pilot, str(bad))
        await until(
            pilot,
            lambda: "not accepted" in str(composer.query_one("#composer-error").render()),
            "the refusal beside the files",
        )
        assert composer.attachments == []
        await pilot.press("ctrl+f")
        await answer(pilot, str(log))
        await until(
            pilot,
            lambda: "client.log" in str(composer.query_one("#composer-files").render()),
            "the attachment listed",
        )
        await pilot.press("ctrl+s")
        await until(pilot, lambda: entries(data.engine, data.vpn)[-1].kind == "reply", "the reply")
        await settled(pilot)
    last = entries(data.engine, data.vpn)[-1]
    with session_scope(data.engine, write=False) as s:
        att = s.execute(select(Attachment).where(Attachment.entry_id == last.id)).scalar_one()
        assert att.filename == "client.log" and att.size == 7
        assert (data.config.attachments_dir / att.storage_name).read_text() == "line 1\n"


# --- header actions ---------------------------------------------------------------------------------


@pilot_test
async def test_assign_to_me_release_with_reason_then_to_an_agent_and_a_team_via_picker(data: Data) -> None:
    app = Harness(data, data.printer)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("A")
        await until(pilot, lambda: "Root Admin" in _header(app), "the header to show the assignee")
        assert row(data.engine, data.printer).assignee_id == data.admin.agent_id
        await pilot.press("R")
        await answer(pilot, "")  # a reason is required: the prompt stays open
        assert isinstance(app.screen, PromptScreen)
        assert "required" in str(app.screen.query_one("#prompt-error").render())
        await answer(pilot, "on leave")
        await until(pilot, lambda: row(data.engine, data.printer).assignee_id is None, "the release")

        await pilot.press("a")
        await pick(pilot, "sam")
        await until(pilot, lambda: row(data.engine, data.printer).assignee_id == data.agent.agent_id, "sam")
        await said(pilot, "assigned")
        await pilot.press("a")
        await pick(pilot, "level")
        await until(pilot, lambda: row(data.engine, data.printer).team_id is not None, "the team")


@pilot_test
async def test_status_resolve_reopen_transfer_tags(data: Data) -> None:
    def view() -> Any:
        with reading(data.engine, data.admin) as tx:
            return tickets.view(tx, row(data.engine, data.printer).number)

    app = Harness(data, data.printer)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("s")
        await pick(pilot, "pending")
        await until(pilot, lambda: screen(app).detail.state == "pending", "the screen to show Pending")
        assert row(data.engine, data.printer).state == "pending"
        await pilot.press("x")
        await answer(pilot, "replaced the roller", submit="ctrl+s")
        await until(pilot, lambda: screen(app).detail.state == "resolved", "the screen to show Resolved")
        t = row(data.engine, data.printer)
        assert (t.state, t.resolution_notes) == ("resolved", "replaced the roller")
        await pilot.press("o")
        await answer(pilot, "still jams")
        await until(pilot, lambda: screen(app).detail.state == "open", "the screen to show Open")
        await pilot.press("T")
        await pick(pilot, "billing")
        await answer(pilot, "it is about a lease")
        await until(pilot, lambda: screen(app).detail.department == "Billing", "the screen to show Billing")
        assert view().department == "Billing"
        await pilot.press("t")
        await answer(pilot, "hardware floor3")
        await until(pilot, lambda: screen(app).detail.tags == ("floor3", "hardware"), "the new tags")
        assert view().tags == ("floor3", "hardware")


@pilot_test
async def test_the_field_picker_narrows_as_you_type_and_edit_field_asks_for_a_reason(data: Data) -> None:
    app = Harness(data, data.printer)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        # the field picker narrows as you type, and escape leaves it
        await pilot.press("e")
        picker = await on_top(pilot, PickerScreen)
        options = picker.query_one(OptionList)
        total = options.option_count
        await type_into(pilot, picker.query_one(Input), "tag")
        await until(pilot, lambda: 0 < options.option_count < total, "the list to narrow")
        await pilot.press("escape")
        await on_top(pilot, TicketScreen)

        await pilot.press("e")
        await pick(pilot, "subject")
        await answer(pilot, "Printer on floor 3 jams")
        reason = await on_top(pilot, PromptScreen)
        assert "Reason" in str(reason.query_one("#prompt-label").render())
        await answer(pilot, "clearer")
        await until(pilot, lambda: screen(app).detail.subject == "Printer on floor 3 jams", "the new subject")
        await pilot.press("e")
        await pick(pilot, "priority")
        await pick(pilot, "urgent")
        await answer(pilot, "whole floor blocked")
        await until(pilot, lambda: row(data.engine, data.printer).priority_rank == 4, "the new priority")
    t = row(data.engine, data.printer)
    assert t.subject == "Printer on floor 3 jams" and t.priority_rank == 4


@pilot_test
async def test_link_by_search_and_merge_after_confirmation(data: Data) -> None:
    def links_of_vpn() -> list[str]:
        with reading(data.engine, data.admin) as tx:
            return [x.number for x in tickets.view(tx, "TCK-1000").links]

    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("l")
        await pick(pilot, "printer")  # by words of the subject
        await pick(pilot, "related")
        await until(pilot, lambda: links_of_vpn() == ["TCK-1001"], "the link")
        await pilot.press("m")
        await pick(pilot, "1001")  # by number
        confirm = await on_top(pilot, ConfirmScreen)
        await pilot.press("n")
        await gone(pilot, confirm)
        await settled(pilot)
        assert row(data.engine, data.printer).merged_into_id is None
        await pilot.press("m")
        await pick(pilot, "1001")
        await on_top(pilot, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: row(data.engine, data.printer).merged_into_id == data.vpn, "the merge")


@pilot_test
async def test_archive_asks_first_and_cc_is_added(data: Data) -> None:
    def ccs() -> tuple[str, ...]:
        with reading(data.engine, data.admin) as tx:
            return tickets.view(tx, "TCK-1001").collaborators

    app = Harness(data, data.printer)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("c")
        await answer(pilot, "not-an-address")
        assert isinstance(app.screen, PromptScreen)
        await answer(pilot, "boss@acme.com")
        await until(pilot, lambda: ccs() == ("boss@acme.com",), "the CC")
        await pilot.press("X")
        await on_top(pilot, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: row(data.engine, data.printer).archived, "the ticket archived")


# --- entries ---------------------------------------------------------------------------------------


def _refusal(data: Data, actor: Actor, write: Callable[[Any], Any]) -> str:
    """What the service says when `actor` tries `write` (the app must say the same words)."""
    with pytest.raises(ServiceError) as refused:
        with transaction(data.engine, actor) as tx:
            write(tx)
    return str(refused.value)


@pilot_test
async def test_delete_own_entry_leaves_a_placeholder_and_others_are_refused(data: Data) -> None:
    roots_note = entries(data.engine, data.vpn)[-1]
    refusal = _refusal(data, data.agent, lambda tx: tickets.delete_entry(tx, roots_note.id))
    app = Harness(data, data.vpn, actor=data.agent)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        # the newest entry (root's note) is selected: sam may not delete it, in the service's words
        await pilot.press("D")
        await on_top(pilot, ConfirmScreen)
        await pilot.press("y")
        await said(pilot, refusal)
        assert entries(data.engine, data.vpn)[-1].deleted_at is None
        await pilot.press("n")
        composer = await on_top(pilot, ComposerScreen)
        await type_into(pilot, "#composer-body", "mine")
        await pilot.press("ctrl+s")
        await gone(pilot, composer)
        await until(pilot, lambda: any(b.item.body == "mine" for b in _boxes(app)), "the note")
        await settled(pilot)  # the thread puts its selection back after drawing; G comes after that
        await pilot.press("G", "D")
        await on_top(pilot, ConfirmScreen)
        await pilot.press("y")
        deleted = lambda: [b for b in _boxes(app) if b.item.deleted]  # noqa: E731
        await until(pilot, deleted, "a deleted entry")
        assert len(deleted()) == 1 and "deleted entry" in _plain(app, deleted()[0].body())


@pilot_test
async def test_edit_entry_and_full_original(data: Data) -> None:
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("ctrl+e")  # the note is selected
        await answer(pilot, "Keepalive, confirmed.", submit="ctrl+s")
        await until(pilot, lambda: entries(data.engine, data.vpn)[2].body == "Keepalive, confirmed.", "the edit")
        await said(pilot, "entry edited")
        await pilot.press("g", "F")
        text = await on_top(pilot, TextScreen)
        assert "SECRET-QUOTED-LINE" in _plain(app, text.body)


@pilot_test
async def test_save_attachment_to_a_path(data: Data, tmp_path: Path) -> None:
    from tui_helpdesk.services import attachments

    src = tmp_path / "photo.png"
    src.write_bytes(b"\x89PNG data")
    with transaction(data.engine, data.admin) as tx:
        entry = tickets.note(tx, "TCK-1000", "photo attached")
        attachments.store(tx, "TCK-1000", src, data.config.attachments_dir, entry_id=entry.id)
    out = tmp_path / "out"
    out.mkdir()
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("S")
        await answer(pilot, str(out))
        await said(pilot, "saved to")
    assert (out / "photo.png").read_bytes() == b"\x89PNG data"


# --- triage ------------------------------------------------------------------------------------------


@pilot_test
async def test_triage_moves_to_the_next_ticket_after_an_action(data: Data) -> None:
    queue = [data.vpn, data.printer, data.evil]
    app = Harness(data, data.printer, queue_ids=queue, triage=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("A")
        await until(pilot, lambda: app.results, "the screen to move on")
        assert app.results == [("next", data.evil)]


@pilot_test
async def test_without_triage_an_action_stays_and_brackets_move(data: Data) -> None:
    queue = [data.vpn, data.printer]
    app = Harness(data, data.printer, queue_ids=queue)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("A")
        await said(pilot, "is yours")
        assert app.results == []
        await pilot.press("right_square_bracket")  # the last one: stays
        await said(pilot, "that was the last ticket")
        assert app.results == []
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: app.results, "the screen to move on")
        assert app.results == [("next", data.vpn)]


@pilot_test
async def test_other_agents_change_shows_without_a_keypress(data: Data) -> None:
    app = Harness(data, data.vpn)
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        with transaction(data.engine, data.agent) as tx:
            tickets.note(tx, "TCK-1000", "fresh from sam")
        presence.mark(data.engine, data.agent, data.vpn, "replying")

        def shown() -> bool:
            screen(app)._poll()  # what the 3-second timer does
            return any(b.item.body == "fresh from sam" for b in _boxes(app)) and (
                "Sam Agent is replying" in _header(app)
            )

        await until(pilot, shown, "sam's note and presence on the screen")
