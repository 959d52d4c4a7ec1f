"""The new-task form: title, due and assignee, each checked as it is typed with the error beside it.

The rules are the services' (tasks.form_errors, the same ones tasks.create_task applies); the form only
shows them. A refusal when saving (a stale ticket, a rule met meanwhile) is shown beside its field and
every typed character stays, so nothing is lost on an error.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tui_helpdesk.services import door, tasks
from tui_helpdesk.services.errors import ServiceError, ValidationError
from tui_helpdesk.tui.context import ctx_of
from tui_helpdesk.untrusted import clean_line

FIELDS = (("title", "Title", "what is to be done"), ("due_at", "Due", "+4h, +2d or 2026-12-01 09:00"),
          ("assignee", "Assignee", "agent login (optional)"))


class TaskFormScreen(ModalScreen[str | None]):
    """Dismisses with the new task's title once saved, or None (Esc)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="task_form.cancel"),
        Binding("ctrl+s", "save", "Save", id="task_form.save", priority=True),
    ]
    DEFAULT_CSS = """
    TaskFormScreen { align: center middle; }
    TaskFormScreen > #task-box { width: 90; max-width: 98%; height: auto; border: round $accent;
        background: $surface; padding: 0 1; }
    TaskFormScreen .task-row { height: auto; margin-top: 1; }
    TaskFormScreen .task-label { width: 10; }
    TaskFormScreen .task-input { width: 34; }
    TaskFormScreen .task-error { width: 1fr; height: auto; padding: 0 0 0 1; color: $error; }
    TaskFormScreen #task-message { margin-top: 1; }
    TaskFormScreen #task-keys { color: $text-muted; }
    """

    def __init__(self, ref: str, version: int) -> None:
        super().__init__()
        self.ref = ref
        self.version = version
        self.errors: dict[str, str] = {}
        self.checked = False  # form_errors answered for the values now in the form
        self.touched: set[str] = set()
        self.saving = False  # save was asked for: every error shows

    def compose(self) -> ComposeResult:
        with Vertical(id="task-box"):
            yield Label(Text(f"New task on {clean_line(self.ref)}", style="bold"))
            for name, label, hint in FIELDS:
                with Horizontal(classes="task-row"):
                    yield Label(label, classes="task-label")
                    yield Input(placeholder=hint, id=f"task-{name}", classes="task-input", compact=True)
                    yield Static("", id=f"task-{name}-error", classes="task-error")
            yield Static("", id="task-message")
            yield Static("enter next field · ctrl+s save · esc cancel", id="task-keys")

    def on_mount(self) -> None:
        self.query_one("#task-title", Input).focus()

    def values(self) -> dict[str, str]:
        return {name: self.query_one(f"#task-{name}", Input).value for name, _, _ in FIELDS}

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self.touched.add((event.input.id or "").removeprefix("task-"))
        self.checked = False
        self._check(self.values())

    @work(thread=True, exclusive=True, group="task-check")
    def _check(self, values: dict[str, str]) -> None:
        ctx = ctx_of(self)
        try:
            errors = door.read(ctx.engine, ctx.actor, tasks.form_errors, self.ref, values["title"],
                               values["due_at"], values["assignee"])
        except ServiceError as exc:
            self.app.call_from_thread(self._message, str(exc))
            return
        self.app.call_from_thread(self._show_errors, values, errors)

    def _show_errors(self, values: dict[str, str], errors: dict[str, str]) -> None:
        if values != self.values():
            return  # typed on meanwhile: that check is under way
        self.errors = errors
        self.checked = True
        for name, _, _ in FIELDS:
            # a field not typed in yet is not shouted at while the agent fills in the others
            shown = errors.get(name, "") if name in self.touched or self.saving else ""
            self.query_one(f"#task-{name}-error", Static).update(Text(clean_line(shown)))

    def _message(self, text: str, error: bool = True) -> None:
        self.query_one("#task-message", Static).update(Text(clean_line(text), style="bold red" if error else ""))

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        ids = [f"task-{name}" for name, _, _ in FIELDS]
        index = ids.index(event.input.id or "")
        if index + 1 < len(ids):
            self.query_one(f"#{ids[index + 1]}", Input).focus()
        else:
            self.action_save()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        self.saving = True
        self._save(self.values())

    @work(thread=True, exclusive=True, group="task-save")
    def _save(self, values: dict[str, str]) -> None:
        ctx = ctx_of(self)
        try:
            errors = door.read(ctx.engine, ctx.actor, tasks.form_errors, self.ref, values["title"],
                               values["due_at"], values["assignee"])
            if errors:
                self.app.call_from_thread(self._show_errors, values, errors)
                return
            door.write(ctx.engine, ctx.actor, _create, self.ref, values, self.version)
        except ValidationError as exc:
            self.app.call_from_thread(self._refused, exc.field, exc.message)
            return
        except ServiceError as exc:
            self.app.call_from_thread(self._message, str(exc))
            return
        self.app.call_from_thread(self.dismiss, values["title"].strip())

    def _refused(self, field: str, message: str) -> None:
        target = {"due": "due_at", "agent": "assignee"}.get(field, field)
        if self.is_mounted and target in {name for name, _, _ in FIELDS}:
            self.query_one(f"#task-{target}-error", Static).update(Text(clean_line(message)))
        else:
            self._message(f"{field}: {message}")


def _create(tx: Any, ref: str, values: dict[str, str], version: int) -> Any:
    return tasks.create_task(tx, ref, values["title"], assignee=values["assignee"].strip() or None,
                             due_at=tasks.parse_due(values["due_at"], tx.now), expected_version=version)
