"""The app shell: first run, a login that is no agent, keymap, help, palette, status line."""

from __future__ import annotations

from pathlib import Path

import test_queue_fixtures
from sqlalchemy import func, select
from test_queue_fixtures import Desk, listed, pilot_test
from waiting import on_top, settled, type_into, until

from tui_helpdesk import db
from tui_helpdesk.config import Config
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Agent
from tui_helpdesk.tui.app import HelpdeskApp, resolve_start
from tui_helpdesk.tui.commands import screen_commands
from tui_helpdesk.tui.screens.help import HelpScreen
from tui_helpdesk.tui.screens.queue import QueueScreen

desk = test_queue_fixtures.desk  # the fixture, under its own name


def _config(url: str, agent: str | None = None, keymap: dict[str, str] | None = None) -> Config:
    return Config(
        database_url=url,
        data_dir=Path("/nonexistent"),
        config_file=Path("/nonexistent/c.toml"),
        agent=agent,
        keymap=keymap or {},
    )


@pilot_test
async def test_first_run_creates_the_admin_and_opens_the_queue(sqlite_url: str) -> None:
    engine = db.get_engine(sqlite_url)
    cfg = _config(sqlite_url, agent="ada")
    actor, username, problem = resolve_start(cfg, engine)
    assert (actor, username, problem) == (None, "ada", "no-agents")
    app = HelpdeskApp(cfg, engine, None, username=username, problem=problem, poll_interval=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.screen.id == "setup", "the setup screen")
        await type_into(pilot, "#setup-name", "Ada Lovelace")
        await pilot.press("tab")
        await type_into(pilot, "#setup-email", "ada@example.com")  # once tab moved the focus there
        await pilot.press("enter")
        await on_top(pilot, QueueScreen, "the queue after setup")
        assert app.ctx is not None and app.ctx.actor.username == "ada" and app.ctx.actor.is_admin
    with session_scope(engine, write=False) as s:
        assert s.execute(select(func.count()).select_from(Agent)).scalar() == 1


@pilot_test
async def test_a_login_that_is_not_an_agent_is_told_how_to_get_in(desk: Desk) -> None:
    cfg = _config(desk.url, agent="mallory")
    actor, username, problem = resolve_start(cfg, desk.engine)
    assert actor is None and "mallory" in problem
    app = HelpdeskApp(cfg, desk.engine, None, username=username, problem=problem, poll_interval=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.screen.id == "not-agent", "the not-an-agent screen")
        text = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "helpdesk agent add mallory" in text
        await pilot.press("q")
    assert app.return_code == 0


@pilot_test
async def test_user_keymap_rebinds_by_id(desk: Desk) -> None:
    app = desk.app(keymap={"queue.sort": "ctrl+o", "queue.nonsense": "z"})
    async with app.run_test(size=(100, 30)) as pilot:
        await listed(pilot)
        screen = app.screen
        await pilot.press("o")
        await pilot.press("ctrl+o")  # keys are handled in order: o did nothing if ctrl+o alone sorts
        await until(pilot, lambda: screen.sort == "newest", "ctrl+o to sort")
        await settled(pilot)
        assert screen.sort == "newest"  # o is no longer bound (bound, it would have sorted on to oldest)
        assert any("queue.nonsense" in n.message for n in app._notifications)


@pilot_test
async def test_help_lists_the_screens_bindings_and_searches_and_the_worker_status_shows_after_it(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await listed(pilot)
        await pilot.press("question_mark")
        await on_top(pilot, HelpScreen, "the help screen")
        rows = {r.description: r.keys for r in app.screen.rows}
        assert rows["Assign"] == "a" and rows["Resolve"] == "x" and rows["Filter"] == "/"
        assert set(rows["Down"].split(" / ")) == {"j", "down"} and "q" in rows["Quit"].split(" / ")
        await type_into(pilot, "#help-search", "resol")
        await until(pilot, lambda: app.screen.query_one("#help-list").option_count == 1, "one match")
        await pilot.press("escape")
        await on_top(pilot, QueueScreen, "back on the queue")
        # what the mail worker reports shows in the queue's status line
        app.set_worker_status("mail: 2 fetched")
        status = app.screen.query_one("#status-line")
        await until(pilot, lambda: "mail: 2 fetched" in str(status.render()), "the worker's status")


@pilot_test
async def test_palette_lists_every_action_with_its_key(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await listed(pilot)
        await until(pilot, lambda: any(e.label == "Billing" for e in app.screen.sidebar.entries), "the sidebar")
        cmds = {title: key for title, key, _ in screen_commands(app.screen)}
        assert cmds["Assign to me"] == "A" and cmds["Export CSV"] == "E" and cmds["Mark"] == "v"
        assert "Sort by due" in cmds and "View: Billing" in cmds
        run = next(r for t, _, r in screen_commands(app.screen) if t == "Sort by due")
        run()
        await until(pilot, lambda: app.screen.sort == "due", "the sort by due")


@pilot_test
async def test_ctrl_q_quits_from_anywhere(desk: Desk) -> None:
    app = desk.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await listed(pilot)
        await pilot.press("question_mark")
        await on_top(pilot, HelpScreen, "the help screen")
        await pilot.press("ctrl+q")
        await until(pilot, lambda: not app.is_running, "the app to quit")
    assert not app.is_running


@pilot_test
async def test_a_plain_agent_makes_their_own_key_on_their_settings_screen(desk: Desk) -> None:
    """F4 opens the agent's own settings: only the personal sections, only their own keys, and a key
    made there acts as them."""
    from textual.widgets import DataTable, Input, Select, Static

    from tui_helpdesk.services import api_keys
    from tui_helpdesk.services.context import transaction
    from tui_helpdesk.tui.screens.admin import AdminScreen
    from tui_helpdesk.tui.screens.admin_forms import AdminForm, MessageDialog

    with transaction(desk.engine, desk.admin) as tx:
        api_keys.create(tx, "root", name="root's own")
    app = desk.app(desk.sam)

    def key_names() -> list[str]:
        table = app.screen.query_one("#admin-table", DataTable)
        return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]

    async with app.run_test(size=(120, 34)) as pilot:
        await listed(pilot)
        await pilot.press("f4")
        await on_top(pilot, AdminScreen, "the settings screen")
        assert [s.title for s in app.screen.sections] == ["API keys", "SSH keys"]
        await until(pilot, lambda: isinstance(app.focused, DataTable), "the keys table")
        assert key_names() == []  # root's key is not listed to sam
        await pilot.press("n")
        await on_top(pilot, AdminForm, "the new key form")
        form = app.screen
        form.query_one("#field-username", Select).value = desk.sam.agent_id
        form.query_one("#field-name", Input).value = "my laptop"
        await pilot.press("ctrl+s")
        await on_top(pilot, MessageDialog, "the key, shown once")
        shown = "\n".join(str(s.render()) for s in app.screen.query(Static))
        key = next(word for word in shown.split() if word.startswith("hd_"))
        assert api_keys.authenticate(desk.engine, key).username == "sam"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, AdminScreen) and key_names() == ["my laptop"],
                    "sam's key listed")
