"""`?`: every binding of the screen it was opened from, with its key, searchable as you type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from tui_helpdesk.tui.keymap import display_key


@dataclass(frozen=True)
class HelpRow:
    keys: str
    description: str
    binding_id: str


def bindings_of(screen: Screen) -> list[HelpRow]:
    """The screen's active bindings (after the user's keymap), one row per action."""
    by_action: dict[tuple[str, str], list[str]] = {}
    ids: dict[tuple[str, str], str] = {}
    for key, active in screen.active_bindings.items():
        b = active.binding
        if not b.description:
            continue
        k = (b.action, b.description)
        by_action.setdefault(k, [])
        shown = display_key(key)
        if shown not in by_action[k]:
            by_action[k].append(shown)
        ids[k] = b.id or ""
    rows = [
        HelpRow(" / ".join(keys), desc, ids[(action, desc)]) for (action, desc), keys in by_action.items()
    ]
    return sorted(rows, key=lambda r: r.description.lower())


class HelpSearch(Input):
    """The search box: `q` on an empty box leaves the help (as q leaves elsewhere); after other letters
    it is a letter of the search ("quit")."""

    def check_consume_key(self, key: str, character: str | None) -> bool:
        if key == "q" and not self.value:
            return False
        return super().check_consume_key(key, character)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="help.close"),
        # priority, so it comes before the search box; the box gives up `q` only while it is empty
        Binding("q", "close", "Close", show=False, id="help.quit", priority=True),
        Binding("down", "move(1)", "Down", show=False, id="help.down"),
        Binding("up", "move(-1)", "Up", show=False, id="help.up"),
    ]

    def __init__(self, title: str, rows: list[HelpRow], notes: list[str] | None = None) -> None:
        super().__init__(id="help")
        self.title_text = title
        self.rows = rows
        self.notes = notes or []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="help-box"):
            yield Label(f"Keys: {self.title_text}", classes="dialog-title", markup=False)
            yield HelpSearch(placeholder="search keys and actions", id="help-search")
            yield OptionList(id="help-list")
            for note in self.notes:
                yield Label(note, classes="dialog-detail", markup=False)

    def on_mount(self) -> None:
        search = self.query_one("#help-search", Input)
        search.cursor_blink = False
        search.focus()
        self._show_rows("")

    def _show_rows(self, text: str) -> None:
        low = text.lower().strip()
        rows = [r for r in self.rows if not low or low in r.description.lower() or low in r.keys.lower()]
        width = max((len(r.keys) for r in rows), default=4)
        options = []
        for r in rows:
            line = Text()
            line.append(r.keys.ljust(width + 2), style="bold")
            line.append(r.description)
            if r.binding_id:
                line.append(f"  {r.binding_id}", style="dim")
            options.append(Option(line))
        self.query_one("#help-list", OptionList).set_options(options)

    @on(Input.Changed, "#help-search")
    def _search(self, event: Input.Changed) -> None:
        self._show_rows(event.value)

    def action_move(self, step: int) -> None:
        ol = self.query_one("#help-list", OptionList)
        if ol.option_count:
            ol.highlighted = max(0, min(ol.option_count - 1, (ol.highlighted or 0) + step))

    def action_close(self) -> None:
        self.dismiss(None)
