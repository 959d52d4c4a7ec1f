"""First run: create the first admin. And the screen for a login that is not an agent."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Engine
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static

from tui_helpdesk.services import setup
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.errors import ServiceError


class SetupScreen(Screen[None]):
    """An empty database: the person at the keyboard becomes its first admin."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+q", "app.quit", "Quit", id="setup.quit")]

    class Done(Message):
        def __init__(self, actor: Actor) -> None:
            super().__init__()
            self.actor = actor

    def __init__(self, engine: Engine, username: str) -> None:
        super().__init__(id="setup")
        self.engine = engine
        self.username = username

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="setup-box"):
            yield Label("Welcome to tui-helpdesk", classes="dialog-title")
            yield Static(
                "This help desk has no agents yet. You will be its first admin;"
                " you can add agents and departments afterwards (F2).",
                classes="dialog-detail",
            )
            yield Label("Login (your Unix user name)")
            yield Input(self.username, id="setup-username")
            yield Label("Full name")
            yield Input(id="setup-name", placeholder="Ada Lovelace")
            yield Label("Email (for replies)")
            yield Input(id="setup-email", placeholder="ada@example.com")
            yield Static("", id="setup-error")
            yield Button("Create admin and open the queue", id="setup-create", variant="primary")

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = False
        self.query_one("#setup-name", Input).focus()

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        if event.input.id == "setup-email":
            self._create()
        else:
            self.focus_next()

    @on(Button.Pressed, "#setup-create")
    def _pressed(self) -> None:
        self._create()

    def _create(self) -> None:
        username = self.query_one("#setup-username", Input).value.strip()
        name = self.query_one("#setup-name", Input).value.strip()
        email = self.query_one("#setup-email", Input).value.strip()
        engine = self.engine

        def work() -> None:
            try:
                actor = setup.start_desk(engine, username, name, email)
            except ServiceError as exc:
                self.app.call_from_thread(self._error, str(exc))
                return
            self.app.call_from_thread(self.post_message, self.Done(actor))

        self.run_worker(work, thread=True, group="setup", exit_on_error=False)

    def _error(self, message: str) -> None:
        self.query_one("#setup-error", Static).update(message)


class NotAgentScreen(Screen[None]):
    """The login is not an agent: say so, and how an admin adds it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("q,escape", "app.quit", "Quit", id="notagent.quit")]

    def __init__(self, username: str, reason: str) -> None:
        super().__init__(id="not-agent")
        self.username = username
        self.reason = reason

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="not-agent-box"):
            yield Label("You are not an agent of this help desk", classes="dialog-title")
            yield Static(self.reason, classes="dialog-detail", markup=False)
            yield Static(
                f"An admin can add you with:\n\n  helpdesk agent add {self.username} --name 'Your Name'\n\n"
                "or in the app's admin screens (F2). To sign in as another agent, set `agent` in the "
                "config file or HELPDESK_AGENT.\n\nPress q to quit.",
                markup=False,
            )
