"""The dialogs of the admin screens: an edit form with errors beside each field, confirmations, prompts.

The form does not know any entity: it is built from `FormField`s and handed a `save` callable that
runs in a thread worker and raises the services' errors. A `ValidationError` lands under the field it
names (or on the form's own error line when the field is not on the form); success closes the form.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, SelectionList, Static, Switch, TextArea

from tui_helpdesk.resources import stylesheet
from tui_helpdesk.services.errors import ServiceError, ValidationError
from tui_helpdesk.untrusted import clean, clean_line

Options = Sequence[tuple[str, Any]]


@dataclass(frozen=True)
class FormField:
    """One field of an admin form; `name` is the keyword the service takes."""

    name: str
    label: str
    kind: str = "text"  # text | textarea | int | bool | select | multi
    required: bool = False
    help: str = ""
    options_key: str = ""  # which loaded option list a select/multi shows (see Section.options)
    blank: str = "(none)"  # what an empty select reads as; "" means a value must be chosen


def _widget_id(name: str) -> str:
    return f"field-{name}"


class AdminForm(ModalScreen[bool]):
    """Create or edit one row. Dismisses True when saved."""

    CSS_PATH = stylesheet("admin.tcss")  # read when the admin screen first opens, not at start-up

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="admin.form.save"),
        Binding("escape", "cancel", "Cancel", id="admin.form.cancel"),
    ]

    def __init__(
        self,
        title: str,
        fields: Sequence[FormField],
        initial: dict[str, Any],
        options: dict[str, Options],
        save: Callable[[dict[str, Any]], Any],
    ) -> None:
        super().__init__(classes="admin-form-screen")
        self.form_title = title
        self.fields = list(fields)
        self.initial = initial
        self.options = options
        self._save = save
        self.saving = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog admin-form"):
            yield Label(self.form_title, classes="dialog-title")
            yield Static("", id="form-error", classes="admin-form-error")
            with VerticalScroll(id="form-fields"):
                for field in self.fields:
                    label = field.label + (" *" if field.required else "")
                    with Horizontal(classes=f"admin-field-row admin-kind-{field.kind}"):
                        yield Label(label, classes="admin-field-label")
                        yield self._input_for(field)
                    if field.help:
                        yield Static(Text(field.help), classes="admin-field-help")
                    yield Static("", id=f"error-{field.name}", classes="admin-field-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", id="form-save", variant="primary")
                yield Button("Cancel (esc)", id="form-cancel")

    def _input_for(self, field: FormField) -> Widget:
        value = self.initial.get(field.name)
        wid = _widget_id(field.name)
        if field.kind == "textarea":
            return TextArea(clean(str(value or "")), id=wid, classes="admin-textarea", compact=True)
        if field.kind == "select":
            opts = [(clean_line(str(label)), val) for label, val in self.options.get(field.options_key, [])]
            known = {val for _, val in opts}
            kwargs: dict[str, Any] = {}
            if value not in (None, "") and value in known:
                kwargs["value"] = value
            return Select(
                opts, id=wid, allow_blank=bool(field.blank), prompt=field.blank or "Select", **kwargs
            )
        if field.kind == "multi":
            chosen = set(value or ())
            opts = self.options.get(field.options_key, [])
            return SelectionList(
                *[(clean_line(str(label)), val, val in chosen) for label, val in opts],
                id=wid,
                classes="admin-multi",
            )
        if field.kind == "bool":
            return Switch(bool(value), id=wid)
        text = "" if value is None else str(value)
        return Input(
            clean_line(text), id=wid, type="integer" if field.kind == "int" else "text", compact=True
        )

    def on_mount(self) -> None:
        first = self.query(
            "#form-fields Input, #form-fields Select, #form-fields Switch, #form-fields TextArea"
        )
        if first:
            first.first().focus()

    def values(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for field in self.fields:
            widget = self.query_one(f"#{_widget_id(field.name)}")
            if isinstance(widget, Switch):
                result[field.name] = widget.value
            elif isinstance(widget, Select):
                result[field.name] = "" if widget.is_blank() else widget.value
            elif isinstance(widget, SelectionList):
                result[field.name] = list(widget.selected)
            elif isinstance(widget, TextArea):
                result[field.name] = widget.text
            elif isinstance(widget, Input):
                result[field.name] = widget.value
        return result

    def clear_errors(self) -> None:
        self.query_one("#form-error", Static).update("")
        self.query_one("#form-error", Static).remove_class("shown")
        for field in self.fields:
            error = self.query_one(f"#error-{field.name}", Static)
            error.update("")
            error.remove_class("shown")
        self.remove_class("has-error")

    def show_error(self, field: str, message: str) -> None:
        """Beside the field it concerns; on the form's error line when the form has no such field."""
        names = {f.name for f in self.fields}
        self.add_class("has-error")
        if field in names:
            error = self.query_one(f"#error-{field}", Static)
            error.update(Text(message))
            error.add_class("shown")
            widget = self.query_one(f"#{_widget_id(field)}")
            widget.focus()
            widget.scroll_visible()
        else:
            form_error = self.query_one("#form-error", Static)
            form_error.update(Text(f"{field}: {message}" if field else message))
            form_error.add_class("shown")

    @on(Button.Pressed, "#form-save")
    def action_save(self) -> None:
        if self.saving:
            return
        self.saving = True
        self.clear_errors()
        self._run_save(self.values())

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    @on(Button.Pressed, "#form-cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)

    @work(thread=True, exclusive=True, group="admin-form-save")
    def _run_save(self, values: dict[str, Any]) -> None:
        try:
            self._save(values)
        except ValidationError as exc:
            self.app.call_from_thread(self._failed, exc.field, exc.message)
        except ServiceError as exc:
            self.app.call_from_thread(self._failed, "", str(exc))
        else:
            self.app.call_from_thread(self.dismiss, True)

    def _failed(self, field: str, message: str) -> None:
        self.saving = False
        self.show_error(field, message)


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question; destructive acts ask first. y/enter confirms, n/esc declines."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="admin.confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="admin.confirm.no"),
    ]

    def __init__(self, question: str, detail: str = "", yes: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog admin-confirm"):
            yield Static(Text(self.question), classes="dialog-title")
            if self.detail:
                yield Static(Text(self.detail), classes="dialog-detail")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes} (y)", id="confirm-yes", variant="error")
                yield Button("No (n)", id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")


class RefusedDialog(ModalScreen[str]):
    """A delete the services refused: the reason, and archive as the way out when there is one."""

    BINDINGS = [
        Binding("a", "choose('archive')", "Archive instead", id="admin.refused.archive"),
        Binding("escape,enter", "choose('')", "Close", id="admin.refused.close"),
    ]

    def __init__(self, reason: str, can_archive: bool) -> None:
        super().__init__()
        self.reason = reason
        self.can_archive = can_archive

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog admin-refused"):
            yield Static("Cannot delete", classes="dialog-title")
            yield Static(Text(self.reason), id="refused-reason", classes="dialog-detail")
            with Horizontal(classes="dialog-buttons"):
                if self.can_archive:
                    yield Button("Archive instead (a)", id="refused-archive", variant="warning")
                yield Button("Close (esc)", id="refused-close")

    def on_mount(self) -> None:
        self.query_one("#refused-close", Button).focus()

    def action_choose(self, choice: str) -> None:
        if choice == "archive" and not self.can_archive:
            return
        self.dismiss(choice)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss("archive" if event.button.id == "refused-archive" else "")


class PathPrompt(ModalScreen[str]):
    """Ask for a file path (the CSV to import). Dismisses with the path, or "" when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="admin.prompt.cancel")]

    def __init__(self, title: str, detail: str = "") -> None:
        super().__init__()
        self.prompt_title = title
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog admin-prompt"):
            yield Label(self.prompt_title, classes="dialog-title")
            if self.detail:
                yield Static(Text(self.detail), classes="dialog-detail")
            yield Input(placeholder="~/contacts.csv", id="prompt-path")

    def on_mount(self) -> None:
        self.query_one("#prompt-path", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss("")


class MessageDialog(ModalScreen[None]):
    """A longer result to read (an import report); any of esc/enter/q closes it."""

    BINDINGS = [Binding("escape,enter,q", "close", "Close", id="admin.message.close")]

    def __init__(self, title: str, lines: Sequence[str]) -> None:
        super().__init__()
        self.message_title = title
        self.lines = list(lines)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog admin-message"):
            yield Label(self.message_title, classes="dialog-title")
            with VerticalScroll(classes="admin-message-body"):
                yield Static(Text("\n".join(clean_line(line) for line in self.lines)))
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close (esc)", id="message-close")

    def action_close(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed)
    def _pressed(self) -> None:
        self.dismiss(None)
