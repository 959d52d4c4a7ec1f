"""The queue's sidebar: the built-in views, one per department, and saved views, with counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import OptionList
from textual.widgets.option_list import Option

try:
    from tui_helpdesk.untrusted import clean_line
except ImportError:  # pragma: no cover
    from tui_helpdesk.tui.widgets.ticket_list import clean_line

BUILTIN: tuple[tuple[str, str], ...] = (
    ("mine", "My tickets"),
    ("unassigned", "Unassigned"),
    ("open", "Open"),
    ("pending", "Pending"),
    ("overdue", "Overdue"),
    ("resolved", "Resolved"),
    ("all", "All"),
)


@dataclass(frozen=True)
class ViewEntry:
    """One sidebar line. `key` is `builtin:<name>`, `dept:<id>` or `view:<id>`."""

    key: str
    label: str
    kind: str  # builtin | dept | view
    ident: str  # builtin name, department id, or saved view id
    query_text: str = ""  # saved views: their filter line
    sort: str = "updated"
    columns: tuple[str, ...] = ()
    shared: bool = False


def builtin_entries() -> list[ViewEntry]:
    return [ViewEntry(f"builtin:{n}", label, "builtin", n) for n, label in BUILTIN]


class ViewSidebar(OptionList):
    """An OptionList whose options are ViewEntry keys; counts are drawn right-aligned."""

    # the list's own keys (UX.md): the sidebar moves like the ticket list beside it
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False, id="sidebar.down"),
        Binding("k", "cursor_up", "Up", show=False, id="sidebar.up"),
        Binding("g", "first", "First", show=False, id="sidebar.first"),
        Binding("G", "last", "Last", show=False, id="sidebar.last"),
    ]

    DEFAULT_CSS = """
    ViewSidebar { width: 22; border: none; padding: 0; scrollbar-size-vertical: 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.entries: list[ViewEntry] = []
        self.counts: dict[str, int | None] = {}
        self.unseen: set[str] = set()  # views with tickets that arrived since the agent last opened them

    def _prompt(self, entry: ViewEntry) -> Text:
        width = max(8, (self.size.width or 22) - 3)
        count = self.counts.get(entry.key)
        number = f"{count:,}" if count is not None else "…"
        label = clean_line(entry.label)
        if entry.kind == "dept":
            label = "  " + label
        elif entry.kind == "view":
            label = ("⇄ " if entry.shared else "★ ") + label
        mark = "● " if entry.key in self.unseen else ""
        room = max(1, width - len(number) - len(mark) - 1)
        if len(label) > room:
            label = label[: room - 1] + "…"
        text = Text(label.ljust(room) + " ", style="bold" if mark else "")
        if mark:
            text.append(mark, style="bold yellow")
        text.append(number, style="bold" if mark else "dim")
        return text

    def set_entries(self, entries: list[ViewEntry], selected_key: str | None) -> None:
        self.entries = entries
        options: list[Option | None] = []
        last_kind = None
        for e in entries:
            if last_kind is not None and e.kind != last_kind:
                options.append(None)
            options.append(Option(self._prompt(e), id=e.key))
            last_kind = e.kind
        self.set_options(options)
        if selected_key is not None:
            self.select_key(selected_key)

    def set_counts(self, counts: dict[str, int | None]) -> None:
        self.counts.update(counts)
        for e in self.entries:
            if e.key in counts:
                self.replace_option_prompt(e.key, self._prompt(e))

    def set_unseen(self, keys: set[str]) -> None:
        changed = keys ^ self.unseen
        self.unseen = set(keys)
        for e in self.entries:
            if e.key in changed:
                self.replace_option_prompt(e.key, self._prompt(e))

    def select_key(self, key: str) -> None:
        try:
            self.highlighted = self.get_option_index(key)
        except Exception:  # noqa: BLE001 - the view was deleted meanwhile
            pass

    def entry(self, key: str) -> ViewEntry | None:
        return next((e for e in self.entries if e.key == key), None)

    def on_resize(self) -> None:
        for e in self.entries:
            self.replace_option_prompt(e.key, self._prompt(e))
