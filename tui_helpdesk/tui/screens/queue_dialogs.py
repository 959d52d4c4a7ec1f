"""Small modal dialogs the queue uses: confirm, pick a value, type a value, choose columns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, SelectionList
from textual.widgets.option_list import Option

Source = Callable[[str], list[str]]  # prefix -> values; runs in a thread


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question; y confirms, n or Esc declines, Enter presses the focused button: "Yes", or
    "No" when `default_no` (closing, deleting: a reflexive Enter must not do what cannot be undone)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str, detail: str = "", *, default_no: bool = False) -> None:
        super().__init__()
        self.question = question
        self.detail = detail
        self.default_no = default_no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, id="confirm-question", classes="dialog-title", markup=False)
            if self.detail:
                yield Label(self.detail, classes="dialog-detail", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Yes (y)", id="yes", variant="primary")
                yield Button("No (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no" if self.default_no else "#yes", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class PickScreen(ModalScreen[str | None]):
    """Choose one value; typing narrows the list (values are read in a thread)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="pick.cancel"),
        Binding("down", "move(1)", "Down", show=False, id="pick.down"),
        Binding("up", "move(-1)", "Up", show=False, id="pick.up"),
    ]

    def __init__(self, title: str, source: Source | Sequence[str], *, free_text: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.source = source
        self.free_text = free_text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            yield Input(id="pick-input", placeholder="type to narrow, Enter picks")
            yield OptionList(id="pick-options")

    def on_mount(self) -> None:
        field = self.query_one("#pick-input", Input)
        field.cursor_blink = False
        field.focus()
        self._load("")

    def _load(self, prefix: str) -> None:
        source = self.source
        if not callable(source):
            low = prefix.lower()
            self._show_values([v for v in source if low in v.lower()])
            return

        def work() -> None:
            try:
                values = source(prefix)
            except Exception:  # noqa: BLE001 - an empty list says enough
                values = []
            self.app.call_from_thread(self._show_values, values)

        self.run_worker(work, thread=True, group="pick", exclusive=True, exit_on_error=False)

    def _show_values(self, values: list[str]) -> None:
        options = self.query_one("#pick-options", OptionList)
        options.set_options([Option(v, id=f"o{i}") for i, v in enumerate(values)])
        self.values = values
        if values:
            options.highlighted = 0

    @on(Input.Changed, "#pick-input")
    def _changed(self, event: Input.Changed) -> None:
        self._load(event.value.strip())

    def action_move(self, step: int) -> None:
        options = self.query_one("#pick-options", OptionList)
        if options.option_count:
            current = options.highlighted or 0
            options.highlighted = max(0, min(options.option_count - 1, current + step))

    @on(Input.Submitted, "#pick-input")
    def _submitted(self, event: Input.Submitted) -> None:
        options = self.query_one("#pick-options", OptionList)
        if options.highlighted is not None and options.option_count:
            self.dismiss(self.values[options.highlighted])
        elif self.free_text and event.value.strip():
            self.dismiss(event.value.strip())

    @on(OptionList.OptionSelected, "#pick-options")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.values[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)


class PromptScreen(ModalScreen[str | None]):
    """Type one value (a ticket number, a tag, a file path)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            yield Input(self.value, id="prompt-input", placeholder=self.placeholder)

    def on_mount(self) -> None:
        field = self.query_one("#prompt-input", Input)
        field.cursor_blink = False
        field.focus()

    @on(Input.Submitted, "#prompt-input")
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ColumnsScreen(ModalScreen[tuple[str, ...] | None]):
    """Tick the columns to show; Enter applies (space toggles)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="columns.cancel"),
        Binding("enter", "apply", "Apply", id="columns.apply", priority=True),
    ]

    def __init__(self, all_columns: Sequence[tuple[str, str]], chosen: Sequence[str]) -> None:
        super().__init__()
        self.all_columns = list(all_columns)
        self.chosen = set(chosen)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Columns (space toggles, Enter applies)", classes="dialog-title")
            yield SelectionList[str](
                *[(title, key, key in self.chosen) for key, title in self.all_columns], id="columns-list"
            )

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def action_apply(self) -> None:
        picked = set(self.query_one(SelectionList).selected)
        self.dismiss(tuple(k for k, _ in self.all_columns if k in picked))

    def action_cancel(self) -> None:
        self.dismiss(None)
