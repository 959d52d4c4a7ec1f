"""F5: the knowledge base. Articles on the left (newest change first), the one under the cursor on the right.

`/` searches (the queue's words: phrases, -word, word*), `n` new, `e` edit (ctrl+g there opens $EDITOR),
`p` publishes or unpublishes, `r` refreshes, esc goes back. services/kb.py decides who may write; every read
and write runs in a thread worker, and a write carries the version the agent saw.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Input, Label, Static

from tui_helpdesk.resources import stylesheet
from tui_helpdesk.services import door, kb
from tui_helpdesk.services.errors import ServiceError
from tui_helpdesk.tui.context import ctx_of
from tui_helpdesk.tui.widgets.footer import Footer
from tui_helpdesk.untrusted import clean_line

from .kb_editor import KbEditorScreen


def article_text(row: kb.ArticleRow) -> Text:
    """An article as the reader shows it: title, what it is, then the rendered Markdown."""
    from tui_helpdesk.tui.markdown import render

    out = Text(clean_line(row.title), style="bold")
    state = "published" if row.published else "internal"
    out.append(f"\n{clean_line(row.category)} · {state} · v{row.version} · "
               f"{row.updated_at:%Y-%m-%d %H:%M} by {clean_line(row.updated_by)}", style="dim")
    if row.tags:
        out.append("\ntags: " + ", ".join(clean_line(t) for t in row.tags), style="dim")
    if row.url:
        out.append(f"\n{clean_line(row.url)}", style="dim underline")
    for a in row.attachments:
        out.append(f"\n📎 {clean_line(a.filename)} ({a.size:,} bytes)", style="dim")
    out.append("\n\n")
    out.append(render(row.body))
    return out


class KbScreen(Screen[None]):
    CSS_PATH = stylesheet("kb.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "back", "Back", id="kb.back"),
        Binding("slash", "search", "Search", id="kb.search"),
        Binding("n", "new", "New", id="kb.new"),
        Binding("e", "edit", "Edit", id="kb.edit"),
        Binding("p", "toggle_published", "Publish/unpublish", id="kb.publish"),
        Binding("r", "refresh", "Refresh", id="kb.refresh", show=False),
        Binding("g", "move(-1000000)", "First", id="kb.first", show=False),
        Binding("G", "move(1000000)", "Last", id="kb.last", show=False),
        Binding("j", "move(1)", "Down", id="kb.down", show=False),
        Binding("k", "move(-1)", "Up", id="kb.up", show=False),
        Binding("J", "scroll_reader(1)", "Scroll article down", id="kb.reader_down", show=False),
        Binding("K", "scroll_reader(-1)", "Scroll article up", id="kb.reader_up", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="kb")
        self.rows: list[kb.ArticleRow] = []
        self.current: kb.ArticleRow | None = None
        self.words = ""
        self.editable = False

    def compose(self) -> ComposeResult:
        yield Label("Knowledge base", id="kb-title", markup=False)
        yield Input(placeholder='search: words, "a phrase", -word, word* (esc closes)', id="kb-search",
                    compact=True)
        with Horizontal(id="kb-body"):
            yield DataTable(id="kb-list", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="kb-reader-box"):
                yield Static("", id="kb-reader")
        yield Static("", id="kb-message", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#kb-list", DataTable)
        self.query_one("#kb-search", Input).display = False
        table.focus()
        self.load()

    # --- reading -----------------------------------------------------------------------------------

    def load(self, select_id: int | None = None) -> None:
        self._message("Loading…")
        self._load(self.words, select_id)

    @work(thread=True, exclusive=True, group="kb-load")
    def _load(self, words: str, select_id: int | None) -> None:
        ctx = ctx_of(self)

        def both(tx: Any) -> tuple[list[kb.ArticleRow], bool]:
            return kb.list_articles(tx, words=words), kb.can_edit(tx)

        try:
            rows, editable = door.read(ctx.engine, ctx.actor, both)
        except ServiceError as exc:
            self.app.call_from_thread(self._message, str(exc), True)
            return
        self.app.call_from_thread(self._loaded, words, rows, editable, select_id)

    def _loaded(self, words: str, rows: list[kb.ArticleRow], editable: bool, select_id: int | None) -> None:
        if words != self.words:
            return  # a newer search is on its way
        keep = select_id if select_id is not None else (self.current.id if self.current else None)
        self.rows, self.editable = rows, editable
        table = self.query_one("#kb-list", DataTable)
        self._fill(rows)
        index = next((i for i, r in enumerate(rows) if r.id == keep), 0)
        if rows:
            table.move_cursor(row=index)
            self._open(rows[index].id)
        else:
            self.current = None
            self.query_one("#kb-reader", Static).update(
                Text("No articles match." if words else "No articles yet." + ("  n writes one." if editable else ""))
            )
        self._title()
        self._message("")

    def _fill(self, rows: list[kb.ArticleRow]) -> None:
        """The rows, titles cut to the list's width (the reader shows the whole title): no sideways scroll."""
        table = self.query_one("#kb-list", DataTable)
        cursor = table.cursor_row
        category_width = min(14, max([8, *(len(r.category) for r in rows)]))
        title_width = max(8, table.size.width - category_width - 8)
        table.clear(columns=True)
        table.add_column(" ", width=1)
        table.add_column("Title", width=title_width)
        table.add_column("Category", width=category_width)
        for r in rows:
            # the state first: at 80 columns the list is narrow and the title is cut, never the state
            state = Text("●", style="green") if r.published else Text("○", style="yellow")
            title = Text(clean_line(r.title), no_wrap=True, overflow="ellipsis")
            title.truncate(title_width, overflow="ellipsis")
            category = Text(clean_line(r.category))
            category.truncate(category_width, overflow="ellipsis")
            table.add_row(state, title, category, key=str(r.id))
        if rows and 0 <= cursor < len(rows):
            table.move_cursor(row=cursor)

    def on_resize(self) -> None:
        if self.rows:
            self.call_after_refresh(self._fill, self.rows)

    def _title(self) -> None:
        text = Text("Knowledge base", style="bold")
        text.append(f"  {len(self.rows)} article{'s' if len(self.rows) != 1 else ''}", style="dim")
        if self.words:
            text.append(f"  · matching {clean_line(self.words)!r}", style="dim")
        text.append("  ● published  ○ internal", style="dim")
        if not self.editable:
            text.append("  · read only (kb.edit writes)", style="dim")
        self.query_one("#kb-title", Label).update(text)

    def _open(self, article_id: int) -> None:
        self._read_one(article_id)

    @work(thread=True, exclusive=True, group="kb-read")
    def _read_one(self, article_id: int) -> None:
        ctx = ctx_of(self)
        try:
            row = door.read(ctx.engine, ctx.actor, kb.get, article_id)
        except ServiceError as exc:
            self.app.call_from_thread(self._message, str(exc), True)
            return
        self.app.call_from_thread(self._show, row)

    def _show(self, row: kb.ArticleRow) -> None:
        selected = self._selected()
        if selected is not None and selected.id != row.id:
            return  # the cursor moved on
        self.current = row
        self.query_one("#kb-reader", Static).update(article_text(row))
        self.query_one("#kb-reader-box", VerticalScroll).scroll_home(animate=False)

    def _selected(self) -> kb.ArticleRow | None:
        table = self.query_one("#kb-list", DataTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.rows[table.cursor_row]

    @on(DataTable.RowHighlighted, "#kb-list")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        row = self._selected()
        if row is not None and (self.current is None or self.current.id != row.id):
            self._open(row.id)

    def data_changed(self) -> None:
        self.load()

    def _message(self, text: str, error: bool = False) -> None:
        box = self.query_one("#kb-message", Static)
        box.update(Text(clean_line(text), style="red" if error else ""))
        if error:
            self.notify(clean_line(text), severity="error", timeout=6)

    # --- actions -----------------------------------------------------------------------------------

    def action_back(self) -> None:
        search = self.query_one("#kb-search", Input)
        if search.display and search.has_focus:
            search.display = False
            self.query_one("#kb-list", DataTable).focus()
            return
        self.app.pop_screen()

    def action_search(self) -> None:
        search = self.query_one("#kb-search", Input)
        search.display = True
        search.focus()

    @on(Input.Changed, "#kb-search")
    def _words(self, event: Input.Changed) -> None:
        self.words = event.value.strip()
        self.load()

    @on(Input.Submitted, "#kb-search")
    def _words_done(self) -> None:
        self.query_one("#kb-list", DataTable).focus()

    def action_move(self, step: int) -> None:
        table = self.query_one("#kb-list", DataTable)
        if self.rows:
            table.move_cursor(row=max(0, min(len(self.rows) - 1, table.cursor_row + step)))

    def action_scroll_reader(self, step: int) -> None:
        box = self.query_one("#kb-reader-box", VerticalScroll)
        box.scroll_relative(y=step * max(1, box.size.height // 2), animate=False)

    def action_refresh(self) -> None:
        self.load()

    def action_new(self) -> None:
        if not self.editable:
            self._message("you lack the permission kb.edit: ask an admin", True)
            return
        category = self.current.category if self.current else ""
        self._edit(None, {"title": "", "category": category, "tags": "", "body": ""})

    def action_edit(self) -> None:
        row = self.current
        if row is None:
            return
        if not self.editable:
            self._message("you lack the permission kb.edit: ask an admin", True)
            return
        self._edit(row, {"title": row.title, "category": row.category, "tags": ", ".join(row.tags),
                         "body": row.body, "version": row.version})

    def _edit(self, row: kb.ArticleRow | None, values: dict[str, Any], error: str = "") -> None:
        heading = f"Edit {row.slug}" if row else "New article"

        def done(typed: dict[str, Any] | None) -> None:
            if typed is not None:
                self._save(row.id if row else None, typed)

        self.app.push_screen(KbEditorScreen(heading, values, error), done)

    @work(thread=True, group="kb-write")
    def _save(self, article_id: int | None, typed: dict[str, Any]) -> None:
        ctx = ctx_of(self)
        try:
            if article_id is None:
                saved = door.write(ctx.engine, ctx.actor, kb.create, typed["title"], typed["body"],
                                   typed["category"], tags=typed["tags"], new_category=True)
            else:
                saved = door.write(ctx.engine, ctx.actor, kb.update, article_id,
                                   expected_version=typed.get("version"), title=typed["title"],
                                   body=typed["body"], category=typed["category"], tags=typed["tags"])
        except ServiceError as exc:
            self.app.call_from_thread(self._refused, article_id, typed, str(exc))
            return
        self.app.call_from_thread(self._saved, saved, "saved")

    def _refused(self, article_id: int | None, typed: dict[str, Any], reason: str) -> None:
        row = next((r for r in self.rows if r.id == article_id), None)
        self._edit(row, typed, reason)  # the editor again, with what was typed and why it was refused

    def _saved(self, row: kb.ArticleRow, what: str) -> None:
        self.notify(f"{clean_line(row.title)}: {what}", timeout=3)
        self.current = None
        self.load(select_id=row.id)

    def action_toggle_published(self) -> None:
        row = self.current
        if row is None:
            return
        if not self.editable:
            self._message("you lack the permission kb.edit: ask an admin", True)
            return
        self._publish(row.id, not row.published, row.version)

    @work(thread=True, group="kb-write")
    def _publish(self, article_id: int, on_: bool, version: int) -> None:
        ctx = ctx_of(self)
        try:
            row = door.write(ctx.engine, ctx.actor, kb.set_published, article_id, on_, expected_version=version)
        except ServiceError as exc:
            self.app.call_from_thread(self._message, str(exc), True)
            return
        self.app.call_from_thread(self._saved, row, "published" if on_ else "unpublished (internal)")
