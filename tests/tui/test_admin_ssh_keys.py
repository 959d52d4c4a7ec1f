"""The admin screen's SSH keys section (tui/screens/admin_ssh_keys.py): an admin lists a key for an agent
and removes it; on their own settings screen (F4) an agent sees and adds only their own."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from support.snapshots import Layers
from test_admin_screen import Harness, cursor_to, filled, on_top, open_section, pilot_test, ready, rows_first
from textual.events import Mount
from textual.widgets import DataTable, Input, Select
from waiting import until

from tui_helpdesk import db
from tui_helpdesk.models import SshKey
from tui_helpdesk.services import ssh_access
from tui_helpdesk.services.context import Actor, transaction
from tui_helpdesk.tui.screens.admin import AdminScreen
from tui_helpdesk.tui.screens.admin_forms import AdminForm, ConfirmDialog


def _public(comment: str) -> str:
    import asyncssh  # here: every xdist worker collects this file; asyncssh is ~0.2 s of CPU to import

    return asyncssh.generate_private_key("ssh-ed25519", comment=comment).export_public_key("openssh").decode()


@pytest.fixture
def desk(sqlite_url: str, built_once: Layers) -> tuple[Engine, dict[str, Actor]]:
    return filled(sqlite_url, built_once)


class OwnSettings(Harness):
    def on_mount(self, event: Mount) -> None:
        event.prevent_default()  # Textual would run Harness.on_mount too, pushing the admins' screen
        self.push_screen(AdminScreen(personal=True))


@pilot_test
async def test_admin_lists_a_key_for_an_agent_and_removes_it(desk) -> None:
    engine, actors = desk
    app = Harness(engine, actors["root"])
    async with app.run_test(size=(120, 34)) as pilot:
        await ready(pilot)
        await open_section(pilot, "SSH keys")
        await pilot.press("n")
        form = await on_top(pilot, AdminForm)
        form.query_one("#field-username", Select).value = actors["sam"].agent_id
        form.query_one("#field-key", Input).value = _public("sam@laptop").strip()
        await pilot.press("ctrl+s")
        await on_top(pilot, AdminScreen)
        await until(pilot, lambda: rows_first(app) == ["sam"], "sam's key listed")
        await cursor_to(pilot, "sam")
        await pilot.press("d")
        await on_top(pilot, ConfirmDialog)
        await pilot.press("y")
        await until(pilot, lambda: rows_first(app) == [], "the key gone")
    with db.session_scope(engine, write=False) as s:
        assert s.execute(select(SshKey)).first() is None


@pilot_test
async def test_an_agent_sees_and_adds_only_their_own_keys(desk) -> None:
    engine, actors = desk
    with transaction(engine, actors["root"]) as tx:
        ssh_access.add_key(tx, "root", _public("root@desk"))
    app = OwnSettings(engine, actors["sam"])
    async with app.run_test(size=(120, 34)) as pilot:
        await until(pilot, lambda: isinstance(app.focused, DataTable), "the settings screen's rows")
        assert [s.title for s in app.screen.sections] == ["API keys", "SSH keys"]
        await pilot.press("tab", "down", "enter")  # the section list, its second section
        await until(pilot, lambda: app.screen.sections[1] is app.screen.section and isinstance(app.focused, DataTable),
                    "the SSH keys section")
        assert rows_first(app) == []  # root's key is not sam's to see
        await pilot.press("n")
        form = await on_top(pilot, AdminForm)
        form.query_one("#field-username", Select).value = actors["sam"].agent_id
        form.query_one("#field-key", Input).value = "not a key"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "not an OpenSSH public key" in str(form.query_one("#error-key").render()),
                    "the form naming the bad key")
        form.query_one("#field-key", Input).value = _public("sam@home").strip()
        await pilot.press("ctrl+s")
        await on_top(pilot, AdminScreen)
        await until(pilot, lambda: rows_first(app) == ["sam"], "sam's own key listed")
