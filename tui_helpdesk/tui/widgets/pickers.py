"""Reusable modal dialogs: pick one item (with search), confirm, and a text prompt with validation.

All labels are Rich `Text` built from cleaned strings, never markup, because names and subjects
come from outside. Each dialog is keyboard-only: type to narrow, arrows or ctrl+j/k to move, Enter
to choose, Esc to cancel.
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
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from tui_helpdesk.untrusted import clean_line


@dataclass(frozen=True)
class PickItem:
    value: Any
    label: str
    hint: str = ""

    def haystack(self) -> str:
        """What typing matches against: the label, the hint, and a string value (a field id)."""
        value = self.value if isinstance(self.value, str) else ""
        return f"{self.label} {self.hint} {value}".lower()

    def text(self, current: bool = False) -> Text:
        out = Text("● " if current else "  ", style="bold green" if current else "")
        out.append(clean_line(self.label))
        if self.hint:
            out.append(f"  {clean_line(self.hint)}", style="dim")
        return out


class PickerScreen(ModalScreen[Any]):
    """Choose one item. Dismisses with the item's value, or None when cancelled.

    Give `items` to filter a fixed list as the user types, or `search` (run in a thread worker,
    so it may query the database) to ask for fresh items on each change.
    """

    DEFAULT_CSS = """
    PickerScreen { align: center middle; }
    PickerScreen > #picker-box { width: 70; max-width: 95%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 0 1; }
    PickerScreen #picker-input { margin: 0 0 1 0; }
    PickerScreen #picker-list { height: auto; max-height: 16; border: none; padding: 0; }
    PickerScreen #picker-msg { color: $text-muted; height: auto; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
        Binding("down,ctrl+j,ctrl+n", "move(1)", "Next", show=False, priority=True),
        Binding("up,ctrl+k,ctrl+p", "move(-1)", "Previous", show=False, priority=True),
    ]

    class Results(Message):
        def __init__(self, query: str, items: list[PickItem], error: str = "") -> None:
            super().__init__()
            self.query = query
            self.items = items
            self.error = error

    def __init__(
        self,
        title: str,
        items: Sequence[PickItem] = (),
        *,
        search: Callable[[str], list[PickItem]] | None = None,
        current: Any = None,
        placeholder: str = "type to narrow",
        empty_text: str = "nothing matches",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.items = list(items)
        self.search = search
        self.current = current
        self.placeholder = placeholder
        self.empty_text = empty_text
        self.shown: list[PickItem] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-box"):
            yield Label(Text(self.title_text, style="bold"), id="picker-title")
            yield Input(placeholder=self.placeholder, id="picker-input", compact=True)
            yield OptionList(id="picker-list")
            yield Static("", id="picker-msg")

    def on_mount(self) -> None:
        self.query_one("#picker-list", OptionList).can_focus = False
        if self.search is None:
            self._show(self.items)
        else:
            self._show([])
            self.query_one("#picker-msg", Static).update("type a number or words of the subject")

    def _show(self, items: list[PickItem]) -> None:
        self.shown = items
        ol = self.query_one("#picker-list", OptionList)
        ol.clear_options()
        ol.add_options([Option(i.text(i.value == self.current and self.current is not None)) for i in items])
        msg = self.query_one("#picker-msg", Static)
        msg.update("" if items else self.empty_text)
        if items:
            index = next((n for n, i in enumerate(items) if i.value == self.current), 0)
            ol.highlighted = index

    @on(Input.Changed, "#picker-input")
    def _narrow(self, event: Input.Changed) -> None:
        query = event.value.strip()
        if self.search is not None:
            self._run_search(query)
            return
        words = query.lower().split()
        self._show([i for i in self.items if all(w in i.haystack() for w in words)])

    @work(thread=True, exclusive=True, group="picker-search")
    def _run_search(self, query: str) -> None:
        assert self.search is not None
        try:
            found = self.search(query)
        except Exception as exc:  # shown to the user; the dialog stays usable
            self.post_message(self.Results(query, [], str(exc)))
            return
        self.post_message(self.Results(query, found))

    def on_picker_screen_results(self, message: Results) -> None:
        if message.query != self.query_one("#picker-input", Input).value.strip():
            return  # a newer search is on its way
        self._show(message.items)
        if message.error:
            self.query_one("#picker-msg", Static).update(Text(clean_line(message.error), style="red"))

    def action_move(self, step: int) -> None:
        ol = self.query_one("#picker-list", OptionList)
        if ol.option_count:
            ol.highlighted = ((ol.highlighted or 0) + step) % ol.option_count

    @on(Input.Submitted, "#picker-input")
    def _submit(self) -> None:
        ol = self.query_one("#picker-list", OptionList)
        if ol.highlighted is not None and 0 <= ol.highlighted < len(self.shown):
            self.dismiss(self.shown[ol.highlighted].value)

    @on(OptionList.OptionSelected, "#picker-list")
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.shown[event.option_index].value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """Ask before acting: y or Enter confirms, n or Esc declines."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > #confirm-box { width: 60; max-width: 95%; height: auto; border: thick $warning;
        background: $surface; padding: 0 1; }
    ConfirmScreen #confirm-keys { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, message: str, *, yes: str = "Yes", no: str = "No") -> None:
        super().__init__()
        self.message = message
        self.yes, self.no = yes, no

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(Text(self.message), id="confirm-message")
            yield Static(Text(f"[y] {self.yes}    [n] {self.no}"), id="confirm-keys")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class ChoiceScreen(ModalScreen[str]):
    """A question with a few answers, each on its own key; Esc gives the safe answer (`cancel`)."""

    DEFAULT_CSS = """
    ChoiceScreen { align: center middle; }
    ChoiceScreen > #choice-box { width: 64; max-width: 95%; height: auto; border: thick $warning;
        background: $surface; padding: 0 1; }
    ChoiceScreen #choice-keys { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="choice.cancel")]

    def __init__(self, message: str, choices: Sequence[tuple[str, str, str]], *, cancel: str) -> None:
        """`choices`: (key, label, value); `cancel`: the value Esc answers with."""
        super().__init__()
        self.message = message
        self.choices = list(choices)
        self.cancel = cancel

    def compose(self) -> ComposeResult:
        with Vertical(id="choice-box"):
            yield Static(Text(self.message), id="choice-message")
            yield Static(Text("    ".join(f"[{k}] {label}" for k, label, _ in self.choices)), id="choice-keys")

    def on_key(self, event: Any) -> None:
        for key, _, value in self.choices:
            if event.key == key:
                event.stop()
                self.dismiss(value)
                return

    def action_cancel(self) -> None:
        self.dismiss(self.cancel)


class PromptScreen(ModalScreen[str | None]):
    """Ask for a line (or, with multiline, a block) of text. `validate` returns an error or None;
    the error is shown beside the field's label and the dialog stays open until it passes."""

    DEFAULT_CSS = """
    PromptScreen { align: center middle; }
    PromptScreen > #prompt-box { width: 72; max-width: 95%; height: auto; border: round $accent;
        background: $surface; padding: 0 1; }
    PromptScreen #prompt-head { height: 1; }
    PromptScreen #prompt-label { width: auto; text-style: bold; }
    PromptScreen #prompt-error { width: 1fr; color: $error; padding-left: 2; }
    PromptScreen #prompt-area { height: 8; }
    PromptScreen #prompt-keys { color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel"),
        Binding("ctrl+s", "submit", "OK", id="prompt.submit", priority=True),
    ]

    def __init__(
        self,
        title: str,
        *,
        label: str = "",
        value: str = "",
        placeholder: str = "",
        validate: Callable[[str], str | None] | None = None,
        required: bool = False,
        multiline: bool = False,
        help_text: str = "",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.label = label or title
        self.value = value
        self.placeholder = placeholder
        self.validate = validate
        self.required = required
        self.multiline = multiline
        self.help_text = help_text

    def compose(self) -> ComposeResult:
        with Vertical(id="prompt-box"):
            yield Label(Text(self.title_text, style="bold"), id="prompt-title")
            with Horizontal(id="prompt-head"):
                yield Label(Text(self.label), id="prompt-label")
                yield Static("", id="prompt-error")
            if self.multiline:
                yield TextArea(self.value, id="prompt-area", soft_wrap=True, show_line_numbers=False)
            else:
                yield Input(value=self.value, placeholder=self.placeholder, id="prompt-input", compact=True)
            keys = "ctrl+s OK · esc cancel" if self.multiline else "enter OK · esc cancel"
            yield Static(Text(f"{self.help_text}  {keys}".strip()), id="prompt-keys")

    def on_mount(self) -> None:
        if self.multiline:
            self.query_one("#prompt-area", TextArea).focus()
        else:
            self.query_one("#prompt-input", Input).focus()

    def current(self) -> str:
        if self.multiline:
            return self.query_one("#prompt-area", TextArea).text
        return self.query_one("#prompt-input", Input).value

    def show_error(self, message: str) -> None:
        self.query_one("#prompt-error", Static).update(Text(f"✗ {clean_line(message)}"))

    @on(Input.Submitted, "#prompt-input")
    def action_submit(self) -> None:
        value = self.current()
        error = None
        if self.required and not value.strip():
            error = "is required"
        elif self.validate is not None:
            error = self.validate(value)
        if error:
            self.show_error(error)
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextScreen(ModalScreen[None]):
    """Read a long text (the full original of a message): scroll with j/k, close with Esc or q."""

    DEFAULT_CSS = """
    TextScreen { align: center middle; }
    TextScreen > #text-box { width: 95%; height: 90%; border: round $accent; background: $surface; }
    TextScreen #text-body { padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="text.close"),
        Binding("j,down", "scroll(1)", "Down", show=False),
        Binding("k,up", "scroll(-1)", "Up", show=False),
    ]

    def __init__(self, title: str, body: Text) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="text-box") as box:
            box.border_title = clean_line(self.title_text)
            yield Static(self.body, id="text-body")

    def on_mount(self) -> None:
        self.query_one("#text-box").focus()

    def action_scroll(self, step: int) -> None:
        self.query_one("#text-box", VerticalScroll).scroll_relative(y=step, animate=False)

    def action_close(self) -> None:
        self.dismiss(None)
