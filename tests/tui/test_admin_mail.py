"""The mail admin sections driven with Pilot on a real SQLite database: mailboxes with a connection test
against a real Dovecot, templates, ticket filters, the quarantine, the outbox, the ban list; and how the
mailbox list looks at 80x24."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from support.snapshots import Layers
from test_admin_lifecycle import (
    cursor_to,
    field_refused,
    on_top,
    open_section,
    pilot_test,
    saved,
    set_input,
    table_rows,
)
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Select, Static
from waiting import settled, until

from tui_helpdesk import clock, db
from tui_helpdesk.config import load_config
from tui_helpdesk.models import BanRule, InboundMessage, Mailbox, OutboundMessage
from tui_helpdesk.services import inbound as ingest
from tui_helpdesk.services import mailboxes, setup
from tui_helpdesk.services.context import Actor, reading, resolve_actor, transaction
from tui_helpdesk.tui.context import AppContext
from tui_helpdesk.tui.screens.admin import AdminScreen
from tui_helpdesk.tui.screens.admin_forms import AdminForm, ConfirmDialog, MessageDialog

STYLES = Path(__file__).resolve().parents[2] / "styles"


class Harness(App[None]):
    CSS_PATH = [STYLES / "app.tcss", STYLES / "admin.tcss"]

    def __init__(self, engine: Engine, actor: Actor) -> None:
        super().__init__()
        self.ctx = AppContext(engine=engine, actor=actor, config=load_config())

    def on_mount(self) -> None:
        self.push_screen(AdminScreen())


@pytest.fixture
def desk(sqlite_url: str, built_once: Layers) -> tuple[Engine, Actor]:
    engine = db.get_engine(sqlite_url)

    def root() -> Actor:
        clock.set_now("2026-03-02T09:00:00Z")
        with db.session_scope(engine) as s:
            setup.create_first_admin(s, "root", "Root Admin", "root@example.com")
        with db.session_scope(engine) as s:
            return resolve_actor(s, "root", "tui")

    return engine, built_once(sqlite_url, "tui-admin-mail", root)


def status_text(app: App) -> str:
    return str(app.screen.query_one("#admin-status", Static).render())


@pilot_test
async def test_mailbox_form_and_connection_tests_against_dovecot_and_a_closed_port(desk, imap_server) -> None:
    engine, root = desk
    with transaction(engine, root) as tx:
        mailboxes.add(
            tx,
            "support@example.com",
            imap_host=imap_server.host,
            imap_port=imap_server.port,
            imap_security="none",
            imap_user="support",
            imap_password="support-secret",
            department="Support",
        )
        mailboxes.add(
            tx,
            "wrong@example.com",
            imap_host=imap_server.host,
            imap_port=imap_server.port,
            imap_security="none",
            imap_user="support",
            imap_password="not-it",
        )
        # nothing listens on port 9 of 127.0.0.1 on a test machine (discard is never enabled)
        mailboxes.add(tx, "dead@example.com", imap_host="127.0.0.1", imap_port=9, imap_security="none")
    app = Harness(engine, root)
    async with app.run_test(size=(140, 40)) as pilot:
        await open_section(pilot, "Mailboxes")
        assert sorted(r[0] for r in table_rows(app)) == [
            "dead@example.com",
            "support@example.com",
            "wrong@example.com",
        ]
        await cursor_to(pilot, "support@example.com")
        await pilot.press("t")
        await until(pilot, lambda: status_text(app).startswith("ok"), "the connection test to pass")
        await settled(pilot)  # the reload after the test puts the cursor back on its row; move it after that
        await cursor_to(pilot, "wrong@example.com")
        await pilot.press("t")
        await until(pilot, lambda: "password" in status_text(app), "the login to be refused")
        await settled(pilot)
        await cursor_to(pilot, "dead@example.com")
        await pilot.press("t")
        await until(pilot, lambda: "refused" in status_text(app).lower(), "the refused connection in words")
        assert not status_text(app).startswith("ok")
        # a new mailbox whose "move" action names no folder is refused beside the field
        await pilot.press("n")
        await on_top(pilot, AdminForm)
        await set_input(pilot, "address", "sales@example.com")
        await set_input(pilot, "imap_host", "127.0.0.1")
        app.screen.query_one("#field-after_fetch", Select).value = "move"
        await pilot.press("ctrl+s")
        await field_refused(pilot, "move_to", "folder")
        await set_input(pilot, "move_to", "Processed")
        await pilot.press("ctrl+s")
        await saved(pilot)
    with reading(engine, root) as tx:
        added = mailboxes.get(tx, "sales@example.com")
    assert added.after_fetch == "move" and added.move_to == "Processed"


@pilot_test
async def test_quarantined_mail_is_listed_its_raw_headers_shown_cleaned_and_retried(desk) -> None:
    engine, root = desk
    # journaled, then processing failed (as when the database went away mid-way)
    journal_id, _ = ingest.journal(
        engine, b"From: bob@acme.example\r\nSubject: \x1b]0;owned\x07Hi\r\nX-Trace: abc\r\n\r\nBody\r\n"
    )
    with transaction(engine, root) as tx:
        row = tx.session.get(InboundMessage, journal_id)
        row.state, row.reason = "quarantined", "simulated failure"
    app = Harness(engine, root)
    async with app.run_test(size=(140, 40)) as pilot:
        await open_section(pilot, "Quarantine")
        rows = table_rows(app)
        assert len(rows) == 1 and rows[0][4] == "simulated failure"
        assert "\x1b" not in "".join(rows[0])
        await pilot.press("v")
        await on_top(pilot, MessageDialog)
        shown = " ".join(str(w.render()) for w in app.screen.query(Static))
        assert "X-Trace: abc" in shown and "Body" not in shown
        assert "\x1b" not in shown and "\x07" not in shown
        await pilot.press("escape")
        await on_top(pilot, AdminScreen)
        await pilot.press("t")
        await until(pilot, lambda: table_rows(app) == [], "the message to leave the quarantine")
    with reading(engine) as tx:
        assert tx.session.get(InboundMessage, journal_id).state == "done"


@pilot_test
async def test_ignored_mail_is_listed_with_its_reason_and_t_makes_a_ticket(desk) -> None:
    engine, root = desk
    raw = b"From: news@vendor.example\r\nSubject: Spring \x1b[31msale\r\nPrecedence: bulk\r\n\r\nBuy\r\n"
    result = ingest.ingest_raw(engine, raw)
    assert (result.state, result.outcome) == ("ignored", "bulk")
    app = Harness(engine, root)
    async with app.run_test(size=(160, 40)) as pilot:
        await open_section(pilot, "Ignored mail")
        [row] = table_rows(app)
        assert row[2:5] == ["news@vendor.example", "Spring sale", "bulk"] and "Precedence: bulk" in row[5]
        await pilot.press("t")
        await until(pilot, lambda: table_rows(app) == [], "the message to leave the ignored list")
    with reading(engine) as tx:
        row = tx.session.get(InboundMessage, result.journal_id)
        assert (row.state, row.outcome) == ("done", "new_ticket") and row.ticket_id is not None


@pilot_test
async def test_ban_list_refuses_bad_patterns_adds_good_ones_and_lifts_one_after_confirming(desk) -> None:
    engine, root = desk
    with transaction(engine, root) as tx:
        from tui_helpdesk.services import mail_admin

        mail_admin.add_ban(tx, "eve@example.com")
    app = Harness(engine, root)
    async with app.run_test(size=(140, 40)) as pilot:
        await open_section(pilot, "Ban list")
        await pilot.press("n")
        await on_top(pilot, AdminForm)
        await set_input(pilot, "pattern", "@nodot")
        await pilot.press("ctrl+s")
        await field_refused(pilot, "pattern", "domain")
        await set_input(pilot, "pattern", "@spam.example")
        await pilot.press("ctrl+s")
        await until(
            pilot,
            lambda: sorted(r[0] for r in table_rows(app)) == ["@spam.example", "eve@example.com"],
            "the ban listed",
        )
        with reading(engine) as tx:
            assert sorted(tx.session.execute(select(BanRule.pattern)).scalars()) == [
                "@spam.example",
                "eve@example.com",
            ]
        await settled(pilot)
        await cursor_to(pilot, "@spam.example")
        await pilot.press("d")
        await on_top(pilot, ConfirmDialog)
        await pilot.press("y")
        await until(pilot, lambda: [r[0] for r in table_rows(app)] == ["eve@example.com"], "the ban lifted")
    with reading(engine) as tx:
        assert tx.session.execute(select(BanRule.pattern)).scalars().all() == ["eve@example.com"]


@pilot_test
async def test_templates_list_the_built_ins_and_refuse_unknown_variables(desk) -> None:
    engine, root = desk
    app = Harness(engine, root)
    async with app.run_test(size=(140, 40)) as pilot:
        await open_section(pilot, "Templates")
        codes = [r[0] for r in table_rows(app)]
        assert "notice.closed" in codes and "autoresponse.new_ticket" in codes
        await cursor_to(pilot, "notice.closed")
        await pilot.press("e")
        await on_top(pilot, AdminForm)
        await set_input(pilot, "body", "Bye %{recipient.nmae}")
        await pilot.press("ctrl+s")
        await field_refused(pilot, "body", "recipient.nmae")
        await set_input(pilot, "body", "Bye %{recipient.name}")
        await pilot.press("ctrl+s")
        closed = lambda: [r for r in table_rows(app) if r[0] == "notice.closed"][0]  # noqa: E731
        await until(pilot, lambda: closed()[3] == "yes", "the template marked as changed")
        assert closed()[1] == "all"
        await pilot.press("n")
        await on_top(pilot, AdminForm)
        help_text = " ".join(str(w.render()) for w in app.screen.query(".admin-field-help"))
        assert "%{ticket.number}" in help_text and "%{recipient.email}" in help_text


def _outbox(engine: Engine, state: str, error: str = "", subject: str = "Re: VPN") -> int:
    with db.session_scope(engine) as s:
        row = OutboundMessage(
            from_addr="support@example.com",
            to_addrs=["bob@acme.example"],
            subject=subject,
            body="Hello",
            message_id=f"<{subject.replace(' ', '')}.{state}@example.com>",
            state=state,
            attempts=5 if state == "failed" else 0,
            last_error=error,
        )
        s.add(row)
        s.flush()
        return int(row.id)


@pilot_test
async def test_outbox_lists_unsent_mail_and_retries_a_failed_one(desk) -> None:
    engine, root = desk
    failed = _outbox(engine, "failed", "550 5.1.1 <bob@acme.example>: mailbox unavailable", "Re: VPN")
    _outbox(engine, "queued", "", "Re: Printer")
    _outbox(engine, "sent", "", "Re: Old news")
    app = Harness(engine, root)
    async with app.run_test(size=(160, 40)) as pilot:
        await open_section(pilot, "Outbox")
        rows = table_rows(app)
        assert [(r[1], r[4]) for r in rows] == [("failed", "Re: VPN"), ("queued", "Re: Printer")]
        assert "mailbox unavailable" in rows[0][7]
        await cursor_to(pilot, str(failed))
        await pilot.press("t")
        await until(pilot, lambda: [r[1] for r in table_rows(app)] == ["queued", "queued"], "the retry queued")
        assert "next pass" in status_text(app)
    with reading(engine, root) as tx:
        assert [r.state for r in mailboxes.outbox(tx, "failed")] == []


@pilot_test
async def test_filters_are_validated_beside_the_field_and_move_up(desk) -> None:
    engine, root = desk
    app = Harness(engine, root)
    async with app.run_test(size=(160, 48)) as pilot:
        await open_section(pilot, "Ticket filters")
        for name, when, then in (
            ("Invoices", "subject regex ([", "department=Support"),
            ("VIP", "from ends @vip.example", "priority=High\ntag=vip"),
        ):
            await pilot.press("n")
            await on_top(pilot, AdminForm)
            await set_input(pilot, "name", name)
            await set_input(pilot, "conditions", when)
            await set_input(pilot, "actions", then)
            await pilot.press("ctrl+s")
            if "([" in when:
                await field_refused(pilot, "conditions", "bad regex")
                await set_input(pilot, "conditions", "subject starts invoice")
                await pilot.press("ctrl+s")
            await saved(pilot)
        assert [r[1:4] for r in table_rows(app)] == [
            ["Invoices", "subject starts invoice", "department=Support"],
            ["VIP", "from ends @vip.example", "priority=High, tag=vip"],
        ]
        app.screen.query_one("#admin-table", DataTable).move_cursor(row=1)
        await pilot.press("t")
        await until(pilot, lambda: [r[1] for r in table_rows(app)] == ["VIP", "Invoices"], "the new order")
        assert "now runs 1st" in status_text(app)


def _mailbox_desk(sqlite_url: str) -> tuple[Engine, Actor]:
    clock.set_now("2026-03-02T09:00:00Z")
    engine = db.get_engine(sqlite_url)
    with db.session_scope(engine) as s:
        setup.create_first_admin(s, "root", "Root Admin", "root@example.com")
    with db.session_scope(engine) as s:
        root = resolve_actor(s, "root", "tui")
    with transaction(engine, root) as tx:
        mailboxes.add(tx, "support@example.com", imap_host="imap.example.com", imap_user="support",
                      department="Support")  # fmt: skip
        mailboxes.add(tx, "sales@example.com", imap_host="mail.example.net", imap_port=143,
                      imap_security="starttls", imap_user="sales", poll_seconds=300)  # fmt: skip
        mailboxes.add(tx, "pipe@example.com")
    with db.session_scope(engine) as s:
        for box in s.execute(select(Mailbox)).scalars():
            box.last_polled_at = datetime(2026, 3, 2, 8, 59, tzinfo=UTC)
            if box.address == "sales@example.com":
                box.last_error = "login failed: the server refused the password for sales"
    return engine, root


def test_snapshot_mailboxes_80x24(snap_compare: Any, sqlite_url: str) -> None:
    app = Harness(*_mailbox_desk(sqlite_url))

    async def mailbox_list(pilot: Pilot) -> None:
        await open_section(pilot, "Mailboxes")
        await until(pilot, lambda: len(table_rows(app)) == 3, "the three mailboxes")
        for field in app.screen.query(Input):
            field.cursor_blink = False
        await settled(pilot)  # the table sizes its columns to the rows after they arrive

    assert snap_compare(app, terminal_size=(80, 24), run_before=mailbox_list)
