"""ctrl+k in the composer: search the knowledge base and insert an article's text, or a link to its public
text, into the reply. Enter inserts the text, ctrl+l the link (published articles only; the address is
the kb_public_url setting + /api/public/kb/<slug>), esc cancels. Dismisses with the text to insert or None.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from tui_helpdesk.resources import stylesheet
from tui_helpdesk.services import door, kb
from tui_helpdesk.services.errors import ServiceError
from tui_helpdesk.tui.context import ctx_of
from tui_helpdesk.tui.widgets.footer import Footer
from tui_helpdesk.untrusted import clean_line


class KbPickerScreen(ModalScreen[str | None]):
    CSS_PATH = stylesheet("kb.tcss")
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="kb_picker.cancel"),
        Binding("enter", "insert('text')", "Insert text", id="kb_picker.text", priority=True),
        Binding("ctrl+l", "insert('link')", "Insert link", id="kb_picker.link", priority=True),
        Binding("down,ctrl+j,ctrl+n", "move(1)", "Next", show=False, priority=True),
        Binding("up", "move(-1)", "Previous", show=False, priority=True),
    ]

    class Found(Message):
        def __init__(self, words: str, rows: list[kb.ArticleRow], error: str = "") -> None:
            super().__init__()
            self.words, self.rows, self.error = words, rows, error

    class Preview(Message):
        def __init__(self, row: kb.ArticleRow) -> None:
            super().__init__()
            self.row = row

    class Made(Message):
        def __init__(self, text: str | None, error: str = "") -> None:
            super().__init__()
            self.text, self.error = text, error

    def __init__(self, words: str = "") -> None:
        super().__init__()
        self.initial = words
        self.rows: list[kb.ArticleRow] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="kb-picker-box"):
            yield Label(Text("Insert from the knowledge base", style="bold"), id="kb-picker-title")
            yield Input(self.initial, placeholder='search: words, "a phrase", -word, word*', id="kb-picker-input",
                        compact=True)
            yield OptionList(id="kb-picker-list")
            with VerticalScroll(id="kb-picker-preview"):
                yield Static("", id="kb-picker-article")
            yield Static("", id="kb-picker-msg")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#kb-picker-list", OptionList).can_focus = False
        self.query_one("#kb-picker-input", Input).focus()
        self._search(self.initial)

    @on(Input.Changed, "#kb-picker-input")
    def _typed(self, event: Input.Changed) -> None:
        self._search(event.value.strip())

    @work(thread=True, exclusive=True, group="kb-picker-search")
    def _search(self, words: str) -> None:
        ctx = ctx_of(self)
        try:
            rows = door.read(ctx.engine, ctx.actor, kb.list_articles, words=words, limit=50)
        except ServiceError as exc:
            self.post_message(self.Found(words, [], str(exc)))
            return
        self.post_message(self.Found(words, rows))

    def on_kb_picker_screen_found(self, message: Found) -> None:
        if message.words != self.query_one("#kb-picker-input", Input).value.strip():
            return  # a newer search is on its way
        self.rows = message.rows
        ol = self.query_one("#kb-picker-list", OptionList)
        ol.clear_options()
        for r in self.rows:
            label = Text(clean_line(r.title))
            label.append(f"  {clean_line(r.category)}", style="dim")
            label.append("  published" if r.published else "  internal", style="green" if r.published else "yellow")
            ol.add_option(Option(label))
        self._msg(message.error or ("" if self.rows else "no article matches"), bool(message.error))
        if self.rows:
            ol.highlighted = 0
            self._preview(self.rows[0].id)
        else:
            self.query_one("#kb-picker-article", Static).update("")

    @on(OptionList.OptionHighlighted, "#kb-picker-list")
    def _moved(self, event: OptionList.OptionHighlighted) -> None:
        if 0 <= event.option_index < len(self.rows):
            self._preview(self.rows[event.option_index].id)

    @work(thread=True, exclusive=True, group="kb-picker-preview")
    def _preview(self, article_id: int) -> None:
        ctx = ctx_of(self)
        try:
            row = door.read(ctx.engine, ctx.actor, kb.get, article_id)
        except ServiceError:
            return
        self.post_message(self.Preview(row))

    def on_kb_picker_screen_preview(self, message: Preview) -> None:
        from .kb import article_text

        chosen = self._chosen()
        if chosen is not None and chosen.id == message.row.id:
            self.query_one("#kb-picker-article", Static).update(article_text(message.row))

    def _chosen(self) -> kb.ArticleRow | None:
        ol = self.query_one("#kb-picker-list", OptionList)
        index = ol.highlighted
        return self.rows[index] if index is not None and 0 <= index < len(self.rows) else None

    def _msg(self, text: str, error: bool = False) -> None:
        self.query_one("#kb-picker-msg", Static).update(Text(clean_line(text), style="red" if error else ""))

    def action_move(self, step: int) -> None:
        ol = self.query_one("#kb-picker-list", OptionList)
        if ol.option_count:
            ol.highlighted = ((ol.highlighted or 0) + step) % ol.option_count

    def action_insert(self, mode: str) -> None:
        row = self._chosen()
        if row is None:
            self._msg("no article chosen", True)
            return
        self._make(row.id, mode)

    @work(thread=True, exclusive=True, group="kb-picker-make")
    def _make(self, article_id: int, mode: str) -> None:
        ctx = ctx_of(self)
        try:
            text = door.read(ctx.engine, ctx.actor, kb.insert_text, article_id, mode)
        except ServiceError as exc:
            self.post_message(self.Made(None, str(exc)))
            return
        self.post_message(self.Made(text))

    def on_kb_picker_screen_made(self, message: Made) -> None:
        if message.text is None:
            self._msg(message.error, True)  # the picker stays open: the agent may insert the text instead
            return
        self.dismiss(message.text)

    def action_cancel(self) -> None:
        self.dismiss(None)

