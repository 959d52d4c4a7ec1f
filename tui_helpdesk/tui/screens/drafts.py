"""`:drafts`: every reply and note the agent began and has not sent, newest first; open or discard one.

The drafts are kept by services/drafts as the agent types (see the composer). Enter opens the ticket
with the composer on that draft; `d` discards it (asked first). The list is the services' answer for
the actor: their own drafts, on the tickets they may still see.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from tui_helpdesk.services import door, drafts
from tui_helpdesk.services.errors import ServiceError
from tui_helpdesk.tui.context import ctx_of
from tui_helpdesk.tui.widgets.footer import Footer
from tui_helpdesk.tui.widgets.pickers import ConfirmScreen
from tui_helpdesk.untrusted import clean_line


class DraftsScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "back", "Back", id="drafts.back"),
        Binding("enter", "open", "Open", id="drafts.open"),
        Binding("d", "discard", "Discard", id="drafts.discard"),
        Binding("j", "move(1)", "Down", show=False, id="drafts.down"),
        Binding("k", "move(-1)", "Up", show=False, id="drafts.up"),
    ]
    DEFAULT_CSS = """
    DraftsScreen #drafts-title { padding: 0 1; text-style: bold; }
    DraftsScreen #drafts-list { height: 1fr; }
    DraftsScreen #drafts-empty { padding: 1 2; color: $text-muted; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[drafts.SavedDraft] = []
        self.loaded = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Drafts: replies and notes you began and have not sent", id="drafts-title")
            yield OptionList(id="drafts-list")
            yield Static("No drafts: what you write in a reply or a note is kept here until it is sent.",
                         id="drafts-empty")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#drafts-empty").display = False
        self.query_one(OptionList).focus()
        self.load()

    @work(thread=True, exclusive=True, group="drafts-load")
    def load(self) -> None:
        ctx = ctx_of(self)
        try:
            rows = door.read(ctx.engine, ctx.actor, drafts.mine)
        except ServiceError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list[drafts.SavedDraft]) -> None:
        self.rows = rows
        self.loaded = True
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        for d in rows:
            line = Text()
            line.append(f"{d.number:<10}", style="bold")
            line.append(" REPLY " if d.kind == "reply" else " NOTE  ", style="reverse green" if d.kind == "reply"
                        else "reverse yellow")
            line.append(f" {clean_line(d.subject)[:56]}")
            when = f"{d.updated_at:%Y-%m-%d %H:%M}" if d.updated_at is not None else ""
            first = next((x for x in d.body.splitlines() if x.strip()), "")
            line.append(f"\n{when:<17}{clean_line(first)[:90] or '(files only)'}", style="dim")
            options.add_option(Option(line))
        if rows:
            options.highlighted = min(highlighted or 0, len(rows) - 1)
        options.display = bool(rows)
        self.query_one("#drafts-empty").display = not rows

    def _current(self) -> drafts.SavedDraft | None:
        index = self.query_one(OptionList).highlighted
        return self.rows[index] if index is not None and 0 <= index < len(self.rows) else None

    def action_move(self, step: int) -> None:
        options = self.query_one(OptionList)
        if self.rows:
            options.highlighted = max(0, min(len(self.rows) - 1, (options.highlighted or 0) + step))

    def action_back(self) -> None:
        self.dismiss(None)

    def on_option_list_option_selected(self, _: OptionList.OptionSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        d = self._current()
        if d is None:
            return
        from tui_helpdesk.tui.screens.ticket import TicketScreen

        self.app.push_screen(TicketScreen(d.ticket_id, compose=d.kind), lambda _: self.load())

    def action_discard(self) -> None:
        d = self._current()
        if d is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._discard(d.number, d.kind)

        self.app.push_screen(
            ConfirmScreen(f"Discard your {d.kind} draft on {d.number}? Its words are lost.", yes="Discard"),
            answered,
        )

    @work(thread=True, group="drafts-discard")
    def _discard(self, number: str, kind: str) -> None:
        ctx = ctx_of(self)
        try:
            door.write(ctx.engine, ctx.actor, drafts.discard, number, kind)
        except ServiceError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self.notify, f"{kind} draft on {number} discarded", timeout=3)
        self.app.call_from_thread(self.load)


def open_drafts(app: Any) -> None:
    app.push_screen(DraftsScreen())
