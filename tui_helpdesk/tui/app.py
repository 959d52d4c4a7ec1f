"""The Textual app: who is at the keyboard, which screen opens first, the change-counter poll.

`run()` is what `helpdesk` calls: it loads the config, opens (and migrates) the database and
works out the agent before the UI starts, so the first paint is the queue itself.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import Engine
from textual.app import App
from textual.binding import BindingType

from tui_helpdesk.config import Config, load_config
from tui_helpdesk.resources import styles_dir
from tui_helpdesk.services.context import Actor
from tui_helpdesk.tui.commands import ActionsProvider
from tui_helpdesk.tui.context import AppContext
from tui_helpdesk.tui.keymap import APP_BINDINGS, check_keymap
from tui_helpdesk.tui.shared_css import SharedStylesheet
from tui_helpdesk.tui.startup import gc_held, release_gc

STYLES = styles_dir()
POLL_SECONDS = 2.0
GC_HOLD_SECONDS = 5.0


def _css_paths() -> list[Path]:
    # Only what the first screen needs: the frame and the queue. Every other screen names its own
    # sheet (CSS_PATH), which Textual reads the first time that screen opens; parsing and applying
    # all of them at start cost a large part of start-up.
    return [STYLES / "app.tcss", STYLES / "queue.tcss"]


class HelpdeskApp(App[None]):
    TITLE = "tui-helpdesk"
    CSS_PATH: ClassVar[list[str | Path]] = _css_paths()  # type: ignore[assignment]
    BINDINGS: ClassVar[list[BindingType]] = list(APP_BINDINGS)
    COMMANDS = App.COMMANDS | {ActionsProvider}
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        config: Config,
        engine: Engine,
        actor: Actor | None,
        *,
        username: str = "",
        problem: str = "",
        poll_interval: float = POLL_SECONDS,
        start_worker: bool = False,
    ) -> None:
        super().__init__()
        # the parsed CSS of an earlier app in this process is reused (shared_css.py)
        self.stylesheet = SharedStylesheet(variables=self.get_css_variables())
        # The mail/timer worker runs in this process only when asked (run() follows the config);
        # tests and benchmarks keep it off so nothing changes their data behind them.
        self.start_worker = start_worker
        self.worker_handle: Any = None
        self.config = config
        self.engine = engine
        self.ctx: AppContext | None = AppContext(engine, actor, config) if actor else None
        self.username = username
        self.problem = problem
        self.poll_interval = poll_interval
        self.worker_status = ""
        self.last_counter: int | None = None
        # Over SSH every animation frame is bytes on the wire; agents asked for none.
        self.animation_level = "none"
        if config.theme:
            try:
                self.theme = config.theme
            except Exception:  # noqa: BLE001 - an unknown theme name falls back to the default
                pass
        keymap, self.unknown_keymap_ids = check_keymap(config.keymap)
        if keymap:
            self.set_keymap(keymap)

    def on_mount(self) -> None:
        if gc_held():  # `helpdesk` holds the GC while it starts (startup.py): until the first rows show
            # (on_ticket_list_changed), or a few seconds anyway (a setup screen, an empty desk)
            self.set_timer(GC_HOLD_SECONDS, release_gc)
        if self.unknown_keymap_ids:
            self.notify(
                "Unknown binding ids in the keymap: " + ", ".join(sorted(self.unknown_keymap_ids)),
                severity="warning",
                timeout=8,
            )
        if self.ctx is not None:
            self.open_queue()
        elif self.problem == "no-agents":
            from tui_helpdesk.tui.screens.setup import SetupScreen

            self.push_screen(SetupScreen(self.engine, self.username))
        else:
            from tui_helpdesk.tui.screens.setup import NotAgentScreen

            self.push_screen(NotAgentScreen(self.username, self.problem))

    def open_queue(self) -> None:
        from tui_helpdesk.tui.screens.queue import QueueScreen

        assert self.ctx is not None
        self.push_screen(QueueScreen(self.ctx))
        if self.poll_interval:
            self.set_interval(self.poll_interval, self.poll_changes)
        self.poll_changes()
        if self.start_worker and self.worker_handle is None:
            from tui_helpdesk import worker

            def report(text: str) -> None:
                try:
                    self.call_from_thread(self.set_worker_status, text)
                except RuntimeError:  # the app is shutting down
                    pass

            self.worker_handle = worker.start_thread(self.engine, report)

    def on_ticket_list_changed(self, event: Any) -> None:
        if event.ticket_list.loaded_rows():
            self.call_after_refresh(release_gc)

    def on_unmount(self) -> None:
        release_gc(freeze=False)
        if self.worker_handle is not None:
            self.worker_handle.stop(timeout=2)

    def on_setup_screen_done(self, message: Any) -> None:
        self.ctx = AppContext(self.engine, message.actor, self.config)
        self.pop_screen()
        self.open_queue()
        self.notify(f"Welcome, {message.actor.username}: you are the admin of this help desk.")

    # --- the change counter ---------------------------------------------------------------------

    def poll_changes(self) -> None:
        """Read the change counter in a thread; when it moved, the screens re-read what they show."""
        engine = self.engine

        def work() -> None:
            from tui_helpdesk.services import door, ticket_page

            try:
                value = door.read(engine, Actor.system("tui"), ticket_page.change_counter)
            except Exception:  # noqa: BLE001 - a busy or unreachable database: try again next tick
                return
            self.call_from_thread(self._counter_read, value)

        self.run_worker(work, thread=True, group="poll", exclusive=True, exit_on_error=False)

    def _counter_read(self, value: int) -> None:
        previous, self.last_counter = self.last_counter, value
        if previous is None or previous == value:
            return
        for screen in self.screen_stack:
            changed = getattr(screen, "data_changed", None)
            if callable(changed):
                changed()

    def set_worker_status(self, text: str) -> None:
        """The in-app worker reports here (e.g. "mail: 3 fetched, outbox 0"); shown in the status line."""
        self.worker_status = text
        for screen in self.screen_stack:
            refresh = getattr(screen, "refresh_status", None)
            if callable(refresh):
                refresh()

    # --- app-wide actions -----------------------------------------------------------------------

    def action_help(self) -> None:
        from tui_helpdesk.tui.screens.help import HelpScreen, bindings_of

        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        title = type(screen).__name__.removesuffix("Screen") or "App"
        notes = [
            "ctrl+p: command palette (every action, searchable)",
            'Rebind any key in the config file: [keymap] id = "key"',
        ]
        self.push_screen(HelpScreen(title, bindings_of(screen), notes))

    def action_admin(self) -> None:
        if self.ctx is None or not self.ctx.actor.is_admin:
            self.notify("Only admins can open the admin screens.", severity="warning")
            return
        from tui_helpdesk.tui.screens.admin import AdminScreen  # loaded when first opened

        self.push_screen(AdminScreen())

    def action_reports(self) -> None:
        """The dashboard: every agent's figures for the tickets they may see (services/reports.py)."""
        if self.ctx is None:
            return
        from tui_helpdesk.tui.screens.reports import ReportsScreen  # loaded when first opened

        if not isinstance(self.screen, ReportsScreen):
            self.push_screen(ReportsScreen())

    def action_kb(self) -> None:
        """The knowledge base: every agent reads it; kb.edit writes (services/kb.py)."""
        if self.ctx is None:
            return
        from tui_helpdesk.tui.screens.kb import KbScreen  # loaded when first opened

        if not isinstance(self.screen, KbScreen):
            self.push_screen(KbScreen())

    def action_my_settings(self) -> None:
        """Every agent's own settings: the sections marked personal (their API keys)."""
        if self.ctx is None:
            return
        from tui_helpdesk.tui.screens.admin import AdminScreen

        self.push_screen(AdminScreen(personal=True))


def resolve_start(config: Config, engine: Engine) -> tuple[Actor | None, str, str]:
    """(actor, login, problem): problem is "" when the login is an agent, "no-agents" on a new
    database, or a sentence saying why the login cannot work."""
    from tui_helpdesk.services import identity, setup
    from tui_helpdesk.services.errors import ServiceError

    login = identity.os_login()
    username = config.agent or login
    if setup.desk_is_new(engine):
        return None, username, "no-agents"  # the setup screen makes the first admin
    try:
        actor = identity.establish_actor(
            engine,
            login,
            config.agent,
            is_service_account=identity.is_service_account(login, config.desk_dir),
            origin="tui",
        )
    except ServiceError as exc:
        return None, username, str(exc)
    return actor, username, ""


def run(config: Config | None = None) -> int:
    """Runs the app; the process exit code: non-zero when the app crashed (Textual printed why)."""
    from tui_helpdesk.db import get_engine

    config = config or load_config()
    engine = get_engine(config.database_url)
    actor, username, problem = resolve_start(config, engine)
    app = HelpdeskApp(
        config, engine, actor, username=username, problem=problem, start_worker=config.worker_in_app
    )
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(run())
