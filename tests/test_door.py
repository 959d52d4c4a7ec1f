"""The door test (issue 9 "Tests that hold the door", issue 16): every rule refused the same way by every face.

Each rule in RULES is run through the SERVICE (the function a face calls), the CLI (`cli.main`, in process,
as a script runs it) and the APP (Pilot on the real HelpdeskApp), and all three must give the same answer:
the same error text, with the exit code of its class from the CLI (3 not found, 4 permission, 5 conflict)
and as a notification in the app; a ticket left out of a list is left out of every list and every count.
The service's text is the one the rule owns; the faces only carry it.

A refusal changes nothing, so the faces run one after another on the same desk. The app part runs one
session per rule family, which keeps the file fast.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select

from tui_helpdesk import cli, clock, db
from tui_helpdesk.config import Config
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Agent, AuditLog, Department, DepartmentAccess, Role, TicketEntry
from tui_helpdesk.services import filter_query, identity, queries, settings, setup, tickets, views, visibility
from tui_helpdesk.services.admin import desk as admin_desk
from tui_helpdesk.services.admin import people
from tui_helpdesk.services.context import Actor, reading, resolve_actor, transaction
from tui_helpdesk.services.errors import Conflict, NotFound, PermissionDenied, ServiceError
from tui_helpdesk.services.queries import TicketQuery

# The Pilot helpers live beside the app tests; this file sits above them.
sys.path.insert(0, str(Path(__file__).parent / "tui"))
from waiting import notifications, notified, type_into, until  # noqa: E402

NOW = "2026-03-02T09:00:00Z"
EXIT_OF: dict[type[ServiceError], int] = {NotFound: 3, PermissionDenied: 4, Conflict: 5}
SIZE = (120, 36)
SMTP_PASSWORD = "hunter2-do-not-print"


@dataclass(frozen=True)
class Rule:
    """One row of the table: the family it belongs to (one app session each) and the answer every face
    must give: a refusal (`error` and the text it carries) or a list/count that leaves a ticket out."""

    family: str
    name: str
    error: type[ServiceError] | None = None
    message: str = ""  # formatted with the World's fields


RULES = (
    Rule("scope", "read", PermissionDenied, "olly has no access to the department of {support}"),
    Rule("scope", "list"),
    Rule("scope", "count"),
    Rule("scope", "saved view"),
    Rule("scope", "reply", PermissionDenied, "olly has no access to the department of {support}"),
    Rule("find", "find any ticket by number with ticket.view_any"),
    Rule("stale", "reply on a stale copy", Conflict, "{support}"),
    Rule("edit", "edit another's reply", PermissionDenied, "sam"),
    Rule("secret", "read a secret setting"),
    Rule("identity", "a non-admin acting --as another", PermissionDenied, "--as"),
)


def rules(family: str) -> list[Rule]:
    return [r for r in RULES if r.family == family]


@dataclass
class World:
    engine: Engine
    url: str
    root: Actor
    sam: Actor  # Support, role Agent
    olly: Actor  # Billing, role Agent; extended access to Support only while a test grants it
    support: str  # a Support ticket's number
    support_id: int
    billing: str  # a Billing ticket's number
    root_reply_id: int  # root's reply on the Support ticket

    def fmt(self, text: str) -> str:
        return text.format(support=self.support, billing=self.billing)

    def grant_olly_support(self) -> None:
        with session_scope(self.engine) as s:
            support = s.execute(select(Department).where(Department.name == "Support")).scalar_one()
            role = s.execute(select(Role).where(Role.name == "Agent")).scalar_one()
            s.add(DepartmentAccess(agent_id=self.olly.agent_id, department_id=support.id, role_id=role.id))

    def revoke_olly_support(self) -> None:
        with session_scope(self.engine) as s:
            s.execute(delete(DepartmentAccess).where(DepartmentAccess.agent_id == self.olly.agent_id))

    def version(self, number: str) -> int:
        with reading(self.engine, self.root) as tx:
            return tickets.view(tx, number, events=False).version

    def entries(self, number: str) -> list[tuple[str, str, int | None]]:
        with reading(self.engine, self.root) as tx:
            return [(i.kind, i.body, i.id) for i in tickets.view(tx, number).thread if i.kind != "event"]

    def app(self, actor: Actor) -> Any:
        from tui_helpdesk.tui.app import HelpdeskApp

        cfg = Config(
            database_url=self.url, data_dir=Path("/nonexistent"), config_file=Path("/nonexistent/config.toml")
        )
        return HelpdeskApp(cfg, self.engine, actor, poll_interval=0)


@pytest.fixture
def world(sqlite_url: str) -> Iterator[World]:
    clock.set_now(NOW)
    engine = db.get_engine(sqlite_url)
    with session_scope(engine) as s:
        setup.create_first_admin(s, "root", "Root Admin", "root@example.com")
        billing = Department(name="Billing")
        s.add(billing)
        s.flush()
        support = s.execute(select(Department).where(Department.name == "Support")).scalar_one()
        role = s.execute(select(Role).where(Role.name == "Agent")).scalar_one()
        s.add(Agent(username="sam", name="Sam Agent", primary_department_id=support.id, role_id=role.id))
        s.add(Agent(username="olly", name="Olly Outsider", primary_department_id=billing.id, role_id=role.id))
    with session_scope(engine) as s:
        root, sam, olly = (resolve_actor(s, name, "tui") for name in ("root", "sam", "olly"))
    with transaction(engine, root) as tx:
        settings.put(tx.session, "smtp_password", SMTP_PASSWORD)
        s_ticket = tickets.create(
            tx,
            subject="Printer on floor 3 jams",
            body="It jams.",
            contact_email="amy@acme.example",
            department="Support",
        )
        b_ticket = tickets.create(
            tx,
            subject="Invoice shows the wrong VAT",
            body="Wrong VAT.",
            contact_email="cfo@acme.example",
            department="Billing",
        )
        reply = tickets.reply(tx, s_ticket.number, "We are looking at the printer.")
    yield World(engine, sqlite_url, root, sam, olly, s_ticket.number, s_ticket.id, b_ticket.number, reply.id)
    clock.set_now(None)


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def error(self) -> str:
        return str(json.loads(self.err)["error"])


@pytest.fixture
def run(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., CliResult]:
    """run("ticket", "show", "TCK-1000", as_="olly") -> CliResult: `helpdesk --json ...` as a script runs it."""
    monkeypatch.setenv("HELPDESK_DATABASE_URL", world.url)
    monkeypatch.delenv("HELPDESK_AGENT", raising=False)

    def _run(*argv: str, as_: str = "root", stdin: str | None = None) -> CliResult:
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        capsys.readouterr()
        code = cli.main(["--json", *argv, "--as", as_])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return _run


def assert_refused_by_service(world: World, rule: Rule, call: Callable[[], Any]) -> str:
    assert rule.error is not None
    with pytest.raises(ServiceError) as err:
        call()
    assert isinstance(err.value, rule.error), (rule.name, err.value)
    assert world.fmt(rule.message) in str(err.value), rule.name
    return str(err.value)


def assert_refused_by_cli(rule: Rule, result: CliResult, message: str) -> None:
    assert rule.error is not None
    assert (result.code, result.error) == (EXIT_OF[rule.error], message), (rule.name, result)
    assert result.out == "", rule.name


def run_app(coro: Any) -> None:
    asyncio.run(coro)


async def command(pilot: Any, text: str, line: str = "colon") -> None:
    """`:text` Enter (`line="slash"`: the filter line), the text typed at once (see waiting.type_into)."""
    await pilot.press(line)
    await type_into(pilot, "#fl-input", text)
    await pilot.press("enter")


async def app_listed(pilot: Any) -> Any:
    from tui_helpdesk.tui.screens.queue import QueueScreen

    def ready() -> bool:
        screen = pilot.app.screen
        if not isinstance(screen, QueueScreen) or not screen.query_ready:
            return False
        t = screen.ticket_list
        return t.total_known and (t.total == 0 or t.current_row is not None)

    await until(pilot, ready, "the queue to show its tickets")
    return pilot.app.screen


# --- the scope: an agent outside a department reads, lists, counts, opens a view, replies ---------------


def test_an_agent_outside_a_department_is_refused_the_same_way_by_every_face(
    world: World, run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read, listed, counted, saved_view, reply = rules("scope")
    s, b = world.support, world.billing
    before = world.entries(s)

    # SERVICE
    def olly_tx() -> Any:
        return reading(world.engine, world.olly)

    def service_reply() -> None:
        with transaction(world.engine, world.olly) as tx:
            tickets.reply(tx, s, "hello from Billing")

    def service_read() -> None:
        with olly_tx() as tx:
            tickets.view(tx, s)

    message = assert_refused_by_service(world, read, service_read)
    assert assert_refused_by_service(world, reply, service_reply) == message
    with olly_tx() as tx:
        assert [r.number for r in queries.fetch_page(tx, TicketQuery()).rows] == [b]
        assert queries.count(tx, TicketQuery()) == 1
        sidebar = queries.sidebar_counts(tx)
        assert (sidebar.all, sidebar.open) == (1, 1)
        view_query = filter_query.resolve_text(tx.session, "is:all", tx.actor.agent_id)
        assert [r.number for r in queries.fetch_page(tx, view_query).rows] == [b]
        assert queries.count(tx, view_query) == 1
        with pytest.raises(PermissionDenied, match=message):
            views.find_ticket(tx, s)

    # CLI
    assert_refused_by_cli(read, run("ticket", "show", s, as_="olly"), message)
    assert_refused_by_cli(
        reply, run("ticket", "reply", s, "--body", "hello from Billing", as_="olly"), message
    )
    for extra in ((), ("--query", "is:all"), ("--department", "Support")):
        result = run("ticket", "list", *extra, as_="olly")
        assert result.code == 0, result.err
        data = json.loads(result.out)
        want = [] if extra == ("--department", "Support") else [b]
        assert [t["number"] for t in data["tickets"]] == want, (listed.name, extra)
        assert data["total"] == len(want), (counted.name, extra)
    assert json.loads(run("ticket", "list").out)["total"] == 2  # root sees both: the scope is olly's

    # APP: olly has the Support ticket open when his access to Support ends, then goes back to the queue
    world.grant_olly_support()

    async def app() -> None:
        from tui_helpdesk.tui.screens.ticket import TicketScreen
        from tui_helpdesk.tui.widgets.composer import ComposerScreen
        from tui_helpdesk.tui.widgets.pickers import ChoiceScreen

        application = world.app(world.olly)
        async with application.run_test(size=SIZE) as pilot:
            queue = await app_listed(pilot)
            assert queue.ticket_list.total == 2
            await command(pilot, s)
            await until(
                pilot,
                lambda: (
                    isinstance(application.screen, TicketScreen) and application.screen.detail is not None
                ),
                "the Support ticket open while olly may still see it",
            )
            world.revoke_olly_support()
            await pilot.press("r")
            await until(pilot, lambda: isinstance(application.screen, ComposerScreen), "the composer")
            await type_into(pilot, "#composer-body", "hello from Billing")
            await pilot.press("ctrl+s")
            await until(pilot, lambda: notified(application, message), f"the refusal of the {reply.name}")
            # the draft comes back in the composer; discard it and go back to the queue
            await until(pilot, lambda: isinstance(application.screen, ComposerScreen), "the draft kept")
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(application.screen, ChoiceScreen), "keep or discard the draft?")
            await pilot.press("d")
            await until(pilot, lambda: isinstance(application.screen, TicketScreen), "the ticket screen")
            await pilot.press("escape")
            await until(pilot, lambda: application.screen is queue, "the queue")
            # back on the queue: the list and every number leave the Support ticket out
            await until(
                pilot, lambda: queue.ticket_list.total_known and queue.ticket_list.total == 1, listed.name
            )
            assert [r.number for r in queue.ticket_list.loaded_rows()] == [b]
            await until(
                pilot,
                lambda: (
                    queue.sidebar.counts.get("builtin:all") == 1
                    and queue.sidebar.counts.get("builtin:open") == 1
                ),
                counted.name,
            )
            # a saved view is scoped too (issue 16 item 6)
            await command(pilot, "is:all", "slash")
            await command(pilot, "save Everything")
            await until(
                pilot,
                lambda: queue.view_key.startswith("view:") and queue.sidebar.counts.get(queue.view_key) == 1,
                saved_view.name,
            )
            await until(
                pilot, lambda: [r.number for r in queue.ticket_list.loaded_rows()] == [b], saved_view.name
            )
            # an export writes what the list shows (to a path relative to the working directory: each
            # key of a long temporary path costs a Pilot round trip)
            monkeypatch.chdir(tmp_path)
            export = tmp_path / "olly.csv"
            await command(pilot, "export olly.csv number,subject")
            await until(pilot, lambda: notified(application, "Exported 1 tickets"), "the export")
            assert export.read_text().splitlines() == ["Number,Subject", f"{b},Invoice shows the wrong VAT"]
            # and reading it by number is refused with the same words
            application.clear_notifications()
            await command(pilot, s)
            await until(pilot, lambda: notified(application, message), f"the refusal of the {read.name}")
            assert isinstance(application.screen, type(queue))

    run_app(app())
    assert world.entries(s) == before  # no face wrote anything


# --- ticket.view_any: found by number everywhere, listed nowhere -------------------------------------------


def test_view_any_finds_a_ticket_by_number_in_every_face_and_lists_it_in_none(world: World, run) -> None:
    (rule,) = rules("find")
    b = world.billing
    with transaction(world.engine, world.root) as tx:
        role = people.create_role(
            tx, name="Agent who finds", permissions=[*setup.AGENT_PERMISSIONS, visibility.VIEW_ANY]
        )
    with session_scope(world.engine) as s:
        s.get(Agent, world.sam.agent_id).role_id = role.id

    # SERVICE
    with reading(world.engine, world.sam) as tx:
        d = tickets.view(tx, b)
        assert (d.number, d.subject, d.department) == (b, "Invoice shows the wrong VAT", "Billing"), rule.name
        assert views.find_ticket(tx, b) == (d.id, b)
        assert b not in [r.number for r in queries.fetch_page(tx, TicketQuery()).rows]
        assert queries.count(tx, TicketQuery()) == 1
    # CLI
    shown = run("ticket", "show", b, as_="sam")
    assert shown.code == 0, shown.err
    assert (json.loads(shown.out)["number"], json.loads(shown.out)["subject"]) == (
        b,
        "Invoice shows the wrong VAT",
    )
    listed = json.loads(run("ticket", "list", as_="sam").out)
    assert [t["number"] for t in listed["tickets"]] == [world.support] and listed["total"] == 1
    # finding is reading only: the reply is refused with the scope's words
    refused = run("ticket", "reply", b, "--body", "finding is not working", as_="sam")
    assert (refused.code, refused.error) == (4, f"sam has no access to the department of {b}")

    # APP: `:TCK-1001` opens it; the queue does not list it
    async def app() -> None:
        from tui_helpdesk.tui.screens.ticket import TicketScreen

        application = world.app(world.sam)
        async with application.run_test(size=SIZE) as pilot:
            queue = await app_listed(pilot)
            assert [r.number for r in queue.ticket_list.loaded_rows()] == [world.support]
            await command(pilot, b)
            await until(
                pilot,
                lambda: (
                    isinstance(application.screen, TicketScreen)
                    and application.screen.detail is not None
                    and application.screen.detail.number == b
                ),
                rule.name,
            )

    run_app(app())


# --- a stale write ------------------------------------------------------------------------------------------


def test_a_stale_write_is_refused_the_same_way_by_every_face(world: World, run) -> None:
    (rule,) = rules("stale")
    s = world.support
    seen = world.version(s)
    shown: list[str] = []

    # APP first: sam's copy goes stale while the composer is open
    async def app() -> None:
        from tui_helpdesk.tui.screens.ticket import TicketScreen
        from tui_helpdesk.tui.widgets.composer import ComposerScreen

        application = world.app(world.sam)
        async with application.run_test(size=SIZE) as pilot:
            await app_listed(pilot)
            await command(pilot, s)
            await until(
                pilot,
                lambda: (
                    isinstance(application.screen, TicketScreen) and application.screen.detail is not None
                ),
                "the ticket open",
            )
            assert application.screen.detail.version == seen
            await pilot.press("r")
            await until(pilot, lambda: isinstance(application.screen, ComposerScreen), "the composer")
            with transaction(world.engine, world.root) as tx:
                tickets.note(tx, s, "someone else was here")
            await type_into(pilot, "#composer-body", "based on an old copy")
            await pilot.press("ctrl+s")
            await until(pilot, lambda: any("changed by" in n for n in notifications(application)), rule.name)
            shown.extend(notifications(application))

    run_app(app())
    before = world.entries(s)

    def service() -> None:
        with transaction(world.engine, world.sam) as tx:
            tickets.reply(tx, s, "based on an old copy", expected_version=seen)

    message = assert_refused_by_service(world, rule, service)
    assert any(message in n for n in shown), (message, shown)
    result = run("ticket", "reply", s, "--body", "based on an old copy", "--if-version", str(seen), as_="sam")
    assert_refused_by_cli(rule, result, message)
    assert world.entries(s) == before
    assert not any(body == "based on an old copy" for _, body, _ in before)


# --- editing another agent's reply ----------------------------------------------------------------------------


def test_editing_another_agents_reply_is_refused_the_same_way_by_every_face(world: World, run) -> None:
    (rule,) = rules("edit")
    s = world.support
    before = world.entries(s)

    def service() -> None:
        with transaction(world.engine, world.sam) as tx:
            tickets.edit_entry(tx, world.root_reply_id, "rewritten by sam")

    message = assert_refused_by_service(world, rule, service)
    # the CLI has no command that edits an entry yet: test_editing_another_agents_reply_from_the_cli

    async def app() -> None:
        from tui_helpdesk.tui.screens.ticket import TicketScreen
        from tui_helpdesk.tui.widgets.thread import ThreadView

        application = world.app(world.sam)
        async with application.run_test(size=SIZE) as pilot:
            await app_listed(pilot)
            await command(pilot, s)
            await until(
                pilot,
                lambda: (
                    isinstance(application.screen, TicketScreen)
                    and application.screen.detail is not None
                    and application.screen.query_one(ThreadView).selected_item() is not None
                ),
                "the ticket open",
            )
            thread = application.screen.query_one(ThreadView)
            await until(
                pilot, lambda: thread.selected_item().id == world.root_reply_id, "root's reply selected"
            )
            await pilot.press("ctrl+e")
            await until(pilot, lambda: notified(application, message), rule.name)

    run_app(app())
    assert world.entries(s) == before
    with session_scope(world.engine) as session:
        assert session.get(TicketEntry, world.root_reply_id).body == "We are looking at the printer."


def test_editing_another_agents_reply_from_the_cli(world: World, run) -> None:
    (rule,) = rules("edit")

    def service() -> None:
        with transaction(world.engine, world.sam) as tx:
            tickets.edit_entry(tx, world.root_reply_id, "rewritten by sam")

    message = assert_refused_by_service(world, rule, service)
    result = run("ticket", "edit-entry", str(world.root_reply_id), "--body", "rewritten by sam", as_="sam")
    assert_refused_by_cli(rule, result, message)


# --- secrets --------------------------------------------------------------------------------------------------


def test_a_secret_setting_is_never_shown_by_any_face(world: World, run) -> None:
    (rule,) = rules("secret")
    with reading(world.engine, world.root) as tx:
        (row,) = [r for r in admin_desk.list_settings(tx) if r.key == "smtp_password"]
    assert row.display == "(set)", rule.name
    for who in ("root", "sam"):
        result = run("setting", "get", "smtp_password", as_=who)
        assert SMTP_PASSWORD not in result.out + result.err, (rule.name, who)
        assert result.code == 0 and json.loads(result.out) == {"smtp_password": "(set)"}, (rule.name, who)
    result = run("setting", "get", as_="root")
    assert SMTP_PASSWORD not in result.out

    async def app() -> None:
        from textual.widgets import DataTable

        application = world.app(world.root)
        async with application.run_test(size=(160, 40)) as pilot:
            await app_listed(pilot)
            await command(pilot, "admin")
            await until(
                pilot, lambda: application.screen.__class__.__name__ == "AdminScreen", "the admin screen"
            )
            from tui_helpdesk.tui.screens.admin import SECTIONS

            table = application.screen.query_one("#admin-table", DataTable)
            await pilot.press("tab")  # to the section list
            for _ in range([t for t, _ in SECTIONS].index("Settings")):
                await pilot.press("down")
            await pilot.press("enter")

            def cells() -> list[list[str]]:
                return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]

            await until(pilot, lambda: any("smtp_password" in r[0] for r in cells()), "the settings rows")
            (shown,) = [r for r in cells() if "smtp_password" in r[0]]
            assert "(set)" in shown and not any(SMTP_PASSWORD in c for r in cells() for c in r)

    run_app(app())


# --- identity -------------------------------------------------------------------------------------------------


def test_a_non_admin_acting_as_another_is_refused_by_every_face(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (rule,) = rules("identity")

    def service() -> None:
        identity.check_claim(world.engine, "sam", "root", is_service_account=False, origin="cli")

    refused = assert_refused_by_service(world, rule, service)
    monkeypatch.setenv("HELPDESK_DATABASE_URL", world.url)
    monkeypatch.delenv("HELPDESK_AGENT", raising=False)
    # the OS account is sam's, a plain agent (identity reads the uid's account, never LOGNAME/USER)
    monkeypatch.setattr("tui_helpdesk.services.identity.os_login", lambda: "sam")
    answers = []
    # the CLI command, and the app (started by `helpdesk` with no command) refuse before acting
    for argv in (["--json", "--as", "root", "ticket", "list"], ["--json", "--as", "root"]):
        capsys.readouterr()
        code = cli.main(argv)
        captured = capsys.readouterr()
        answers.append((code, json.loads(captured.err)["error"] if captured.err else ""))
        assert captured.out == ""
    assert answers == [(EXIT_OF[PermissionDenied], refused)] * 2
    with reading(world.engine, world.root) as tx:
        rows = tx.session.execute(
            select(AuditLog.actor, AuditLog.data).where(AuditLog.action == identity.REFUSED)
        )
        assert [(actor, data["claimed"]) for actor, data in rows] == [("sam", "root")] * 3
