"""The `/` filter line and the `:` command line: one input with completion under it.

Completion candidates come from services.filter_query.complete (field names, then values from
the database) in a thread, so typing never waits on the database. Tab inserts the next
candidate; Enter submits; Esc cancels (and, for the filter, clears it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from sqlalchemy import Engine
from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static

from tui_helpdesk.services import filter_query
from tui_helpdesk.services.queries import SORTS

from .ticket_list import COLUMNS

COMMANDS: tuple[str, ...] = (
    "sort",
    "columns",
    "save",
    "share",
    "unsave",
    "export",
    "bell",
    "refresh",
    "admin",
    "help",
    "drafts",
    "q",
)
MAX_SHOWN = 8


@dataclass(frozen=True)
class Candidates:
    start: int
    end: int
    items: tuple[str, ...]


def command_candidates(text: str, pos: int) -> Candidates:
    """Completion for the command line: command names, then their arguments."""
    head = text[:pos]
    if " " not in head:
        return Candidates(0, pos, tuple(c for c in COMMANDS if c.startswith(head.lower())))
    name, _, arg = head.partition(" ")
    start = len(name) + 1
    if name == "sort":
        return Candidates(start, pos, tuple(s for s in SORTS if s.startswith(arg.strip().lower())))
    if name == "columns":
        done, comma, last = arg.rpartition(",")
        prefix = done + comma
        used = {c.strip() for c in done.split(",") if c.strip()}
        items = tuple(prefix + c for c in COLUMNS if c.startswith(last.strip().lower()) and c not in used)
        return Candidates(start, pos, items)
    return Candidates(pos, pos, ())


class FilterLine(Vertical):
    """Hidden until `/` or `:`; posts Submitted or Cancelled and hides itself again."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "complete(1)", "Complete", show=False, id="filter.complete"),
        Binding("shift+tab", "complete(-1)", "Previous completion", show=False, id="filter.complete_back"),
        Binding("escape", "cancel", "Cancel", show=False, id="filter.cancel"),
    ]

    DEFAULT_CSS = """
    FilterLine { height: auto; display: none; }
    FilterLine.-active { display: block; }
    FilterLine > Horizontal { height: 1; }
    FilterLine #fl-prompt { width: 2; color: $accent; text-style: bold; }
    FilterLine Input { border: none; height: 1; padding: 0; width: 1fr; }
    FilterLine #fl-hint { height: auto; max-height: 2; color: $text-muted; }
    FilterLine #fl-error { height: auto; color: $error; display: none; }
    FilterLine #fl-error.-shown { display: block; }
    """

    class Submitted(Message):
        def __init__(self, mode: str, value: str) -> None:
            super().__init__()
            self.mode = mode
            self.value = value

    class Cancelled(Message):
        def __init__(self, mode: str) -> None:
            super().__init__()
            self.mode = mode

    def __init__(self, engine: Engine, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.engine = engine
        self.mode = "filter"
        self.candidates = Candidates(0, 0, ())
        self._cycle = -1
        self._cycle_base: tuple[str, int] | None = None
        self._inserting = False
        self.filter_text = ""  # the filter that is applied now

    def compose(self):
        with Horizontal():
            yield Label("/", id="fl-prompt")
            field = Input(
                id="fl-input", placeholder="status:open prio:high dept:… words", select_on_focus=False
            )
            # a steady cursor: no redraw every half second over SSH, and stable snapshots. Set here,
            # not on mount: a screen replaced while mounting (first-run setup) has no children then.
            field.cursor_blink = False
            yield field
        yield Static("", id="fl-hint")
        yield Static("", id="fl-error")

    @property
    def input(self) -> Input:
        return self.query_one("#fl-input", Input)

    def open(self, mode: str, text: str | None = None) -> None:
        self.mode = mode
        self.query_one("#fl-prompt", Label).update("/" if mode == "filter" else ":")
        self.input.placeholder = (
            "status:open prio:high dept:… assignee:me words"
            if mode == "filter"
            else "1042 · sort due · save NAME …"
        )
        value = self.filter_text if (mode == "filter" and text is None) else (text or "")
        self.input.value = value
        self.input.cursor_position = len(value)
        self.show_error("")
        self.add_class("-active")
        self.input.focus()
        self._refresh_candidates()

    def close(self) -> None:
        self.remove_class("-active")
        self.candidates = Candidates(0, 0, ())
        self.query_one("#fl-hint", Static).update("")

    def show_error(self, message: str) -> None:
        err = self.query_one("#fl-error", Static)
        err.update(Text(message))
        err.set_class(bool(message), "-shown")

    # --- completion ---------------------------------------------------------------------------

    @on(Input.Changed, "#fl-input")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._inserting:
            return
        self._cycle = -1
        self._cycle_base = None
        self.show_error("")
        self._refresh_candidates()

    def _refresh_candidates(self) -> None:
        text, pos, mode = self.input.value, self.input.cursor_position, self.mode
        if mode == "command":
            self._show_candidates(command_candidates(text, pos))
            return
        engine = self.engine

        def work() -> None:
            try:
                c = filter_query.complete(engine, text, pos)
                found = Candidates(c.start, c.end, tuple(c.candidates))
            except Exception:  # noqa: BLE001 - completion is a help, never an error
                found = Candidates(pos, pos, ())
            self.app.call_from_thread(self._apply_candidates, text, found)

        self.run_worker(work, thread=True, group="complete", exclusive=True, exit_on_error=False)

    def _apply_candidates(self, text: str, found: Candidates) -> None:
        if self.input.value == text:
            self._show_candidates(found)

    def _show_candidates(self, found: Candidates) -> None:
        self.candidates = found
        hint = self.query_one("#fl-hint", Static)
        if not found.items:
            hint.update("")
            return
        shown = list(found.items[:MAX_SHOWN])
        line = Text()
        for i, item in enumerate(shown):
            if i:
                line.append("  ")
            line.append(item, style="reverse" if i == self._cycle else "")
        if len(found.items) > MAX_SHOWN:
            line.append(f"  +{len(found.items) - MAX_SHOWN}", style="dim")
        line.append("   tab completes", style="dim italic")
        hint.update(line)

    def action_complete(self, step: int = 1) -> None:
        items = self.candidates.items
        if not items:
            return
        if self._cycle_base is None:
            self._cycle_base = (self.input.value, self.input.cursor_position)
        base_text, _ = self._cycle_base
        self._cycle = (self._cycle + step) % len(items)
        choice = items[self._cycle]
        start, end = self.candidates.start, self.candidates.end
        value = base_text[:start] + choice + base_text[end:]
        self._inserting = True
        try:
            self.input.value = value
            self.input.cursor_position = start + len(choice)
        finally:
            self._inserting = False
        self._show_candidates(self.candidates)
        if len(items) == 1:
            # a single candidate is taken: move on to complete the next part
            self._cycle_base = None
            self._cycle = -1
            if not choice.endswith(":") and self.mode == "filter":
                self._inserting = True
                try:
                    self.input.insert_text_at_cursor(" ")
                finally:
                    self._inserting = False
            self._refresh_candidates()

    # --- submit / cancel ----------------------------------------------------------------------

    @on(Input.Submitted, "#fl-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Submitted(self.mode, event.value.strip()))

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled(self.mode))


Validator = Callable[[str], str | None]
