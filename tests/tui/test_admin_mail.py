"""The mail admin sections: mailboxes with a real connection test, quarantine retry, outbox retry, bans."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from test_admin_lifecycle import open_section, pilot_test, set_input, settle, table_rows
from textual.app import App
from textual.widgets import DataTable, Static

from tui_helpdesk import clock, db
from tui_helpdesk.config import load_config
from tui_helpdesk.mail import ingest
from tui_helpdesk.models import BanRule, InboundMessage
from tui_helpdesk.services import mailboxes, setup
from tui_helpdesk.services.context import Actor, reading, resolve_actor, transaction
from tui_helpdesk.tui.context import AppContext
from tui_helpdesk.tui.screens.admin import AdminScreen

STYLES = Path(__file__).resolve().parents[2] / "styles"


class Harness(App[None]):
    CSS_PATH = [STYLES / "app.tcss", STYLES / "admin.tcss"]

    def __init__(self, engine: Engine, actor: Actor) -> None:
        super().__init__()
        self.ctx = AppContext(engine=engine, actor=actor, config=load_config())

    def on_mount(self) -> None:
        self.push_screen(AdminScreen())


@pytest.fixture
def desk(sqlite_url: str) -> tuple[Engine, Actor]:
    clock.set_now("2026-03-02T09:00:00Z")
    engine = db.get_engine(sqlite_url)
    with db.session_scope(engine) as s:
        setup.create_first_admin(s, "root", "Root Admin", "root@example.com")
    with db.session_scope(engine) as s:
        return engine, resolve_actor(s, "root", "tui")


def status_text(app: App) -> str:
    return str(app.screen.query_one("#admin-status", Static).render())


@pilot_test
async def test_mailbox_form_and_connection_test_against_dovecot(desk, imap_server) -> None:
    engine, root = desk
    with transaction(engine, root) as tx:
        mailboxes.add(tx, "support@example.com", imap_host=imap_server.host, imap_port=imap_server.port,
                      imap_security="none", imap_user="support", imap_password="support-secret",
                      department="Support")
        mailboxes.add(tx, "wrong@example.com", imap_host=imap_server.host, imap_port=imap_server.port,
                      imap_security="none", imap_user="support", imap_password="not-it")
    app = Harness(engine, root)
    async with app.run_test(size=(140, 40)) as pilot:
        await open_section(pilot, "Mailboxes")
        assert [r[0] for r in table_rows(app)] == ["support@example.com", "wrong@example.com"]
        await pilot.press("t")
        await settle(pilot)
        assert status_text(app).startswith("ok"), status_text(app)
        app.screen.query_one("#admin-table", DataTable).move_cursor(row=1)
        await pilot.press("t")
        await settle(pilot)
        assert "password" in status_text(app)
        # a new mailbox whose "move" action names no folder is refused beside the field
        await pilot.press("n")
        await settle(pilot)
        await set_input(pilot, "address", "sales@example.com")
        await set_input(pilot, "imap_host", "127.0.0.1")
        from textual.widgets import Select

        app.screen.query_one("#field-after_fetch", Select).value = "move"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "folder" in str(app.screen.query_one("#error-move_to", Static).render())
        await set_input(pilot, "move_to", "Processed")
        await pilot.press("ctrl+s")
        await settle(pilot)
    with reading(engine, root) as tx:
        added = mailboxes.get(tx, "sales@example.com")
    assert added.after_fetch == "move" and added.move_to == "Processed"


@pilot_test
async def test_quarantined_mail_is_listed_and_retried(desk) -> None:
    engine, root = desk
    # journaled, then processing failed (as when the database went away mid-way)
    journal_id, _ = ingest.journal(engine, b"From: bob@acme.example\r\nSubject: \x1b]0;owned\x07Hi\r\n\r\nBody\r\n")
    with transaction(engine, root) as tx:
        row = tx.session.get(InboundMessage, journal_id)
        row.state, row.reason = "quarantined", "simulated failure"
    app = Harness(engine, root)
    async with app.run_test(size=(140, 40)) as pilot:
        await open_section(pilot, "Quarantine")
        rows = table_rows(app)
        assert len(rows) == 1 and rows[0][4] == "simulated failure"
        assert "\x1b" not in "".join(rows[0])
        await pilot.press("t")
        await settle(pilot)
        assert table_rows(app) == []
    with reading(engine) as tx:
        assert tx.session.get(InboundMessage, journal_id).state == "done"


@pilot_test
async def test_ban_list_refuses_bad_patterns_and_adds_good_ones(desk) -> None:
    engine, root = desk
    app = Harness(engine, root)
    async with app.run_test(size=(140, 40)) as pilot:
        await open_section(pilot, "Ban list")
        await pilot.press("n")
        await settle(pilot)
        await set_input(pilot, "pattern", "@nodot")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "domain" in str(app.screen.query_one("#error-pattern", Static).render())
        await set_input(pilot, "pattern", "@spam.example")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert [r[0] for r in table_rows(app)] == ["@spam.example"]
    with reading(engine) as tx:
        assert tx.session.execute(select(BanRule.pattern)).scalars().all() == ["@spam.example"]


@pilot_test
async def test_templates_list_the_built_ins_and_refuse_unknown_variables(desk) -> None:
    engine, root = desk
    app = Harness(engine, root)
    async with app.run_test(size=(140, 40)) as pilot:
        await open_section(pilot, "Templates")
        codes = [r[0] for r in table_rows(app)]
        assert "notice.closed" in codes and "autoresponse.new_ticket" in codes
        from test_admin_lifecycle import cursor_to

        await cursor_to(pilot, "notice.closed")
        await pilot.press("e")
        await settle(pilot)
        await set_input(pilot, "body", "Bye %{recipient.nmae}")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "recipient.nmae" in str(app.screen.query_one("#error-body", Static).render())
        await set_input(pilot, "body", "Bye %{recipient.name}")
        await pilot.press("ctrl+s")
        await settle(pilot)
        row = [r for r in table_rows(app) if r[0] == "notice.closed"][0]
        assert row[3] == "yes"
