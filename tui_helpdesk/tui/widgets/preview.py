"""The preview pane: the highlighted ticket's latest messages, read in a worker, with the words of
the list's search marked."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from sqlalchemy import Engine
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui_helpdesk.services import door
from tui_helpdesk.services.context import Actor
from tui_helpdesk.tui.highlight import highlight_terms

try:
    from tui_helpdesk.untrusted import clean, clean_line
except ImportError:  # pragma: no cover
    from tui_helpdesk.tui.widgets.ticket_list import clean_line

    def clean(text: str) -> str:
        return "\n".join(clean_line(line) for line in (text or "").splitlines())


LATEST = 3
KIND_LABEL = {"message": "Customer", "reply": "Reply", "note": "Internal note"}
KIND_STYLE = {"message": "bold cyan", "reply": "bold green", "note": "bold yellow"}


class Preview(VerticalScroll, can_focus=False):
    """Scrolled by the queue's keys while the list keeps the focus."""

    DEFAULT_CSS = """
    Preview { height: 40%; border-top: solid $panel-lighten-2; padding: 0 1; }
    """

    def __init__(self, engine: Engine, actor: Actor, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.engine = engine
        self.actor = actor
        self.ticket_id: int | None = None
        self.terms: tuple[str, ...] = ()  # the list's search words, marked where they occur
        self.shown = Text()  # the ticket's text as last shown, marks included
        self._body = Static("", id="preview-body")
        self._detail: Any = None  # the ticket last shown, to mark again when the words change

    def compose(self):
        yield self._body

    def set_terms(self, terms: tuple[str, ...]) -> None:
        """The words to mark (services.search.terms of the list's free words). The ticket shown is marked
        again at once: the list may keep the same row under the cursor while the words change."""
        terms = tuple(terms)
        changed, self.terms = terms != self.terms, terms
        if changed and self._detail is not None and self._detail.id == self.ticket_id:
            self._show_detail(self._detail)

    def show_ticket(self, ticket_id: int | None) -> None:
        self.ticket_id = ticket_id
        if ticket_id is None:
            self._body.update(Text("No ticket selected", style="dim"))
            return
        self._body.update(Text("Loading…", style="dim"))
        engine, actor = self.engine, self.actor

        def read():
            from tui_helpdesk.services import tickets  # the pane starts hidden: not on the start path

            return door.read(engine, actor, tickets.view, ticket_id, order="DESC", events=False)

        def done(detail) -> None:
            if self.ticket_id == ticket_id:
                self._show_detail(detail)

        def work() -> None:
            try:
                detail = read()
            except Exception as exc:  # noqa: BLE001 - shown in the pane
                self.app.call_from_thread(self._body.update, Text(f"Cannot show: {exc}", style="red"))
                return
            self.app.call_from_thread(done, detail)

        self.run_worker(work, thread=True, group="preview", exclusive=True, exit_on_error=False)

    def _show_detail(self, detail) -> None:
        self._detail = detail
        text = Text()
        mark = self.terms
        text.append(highlight_terms(detail.number, mark))
        text.stylize("bold", 0, len(detail.number))
        text.append("  ")
        text.append(highlight_terms(clean_line(detail.subject), mark))
        text.append("\n")
        who = highlight_terms(f"{clean_line(detail.requester)} <{clean_line(detail.requester_email)}>", mark)
        who.stylize("dim")  # Rich refuses a style beside an appended Text
        text.append(who)
        entries = [i for i in detail.thread if i.kind in KIND_LABEL][:LATEST]
        if not entries:
            text.append("\n\nNo messages yet.", style="dim")
        for item in entries:
            text.append("\n\n")
            text.append(KIND_LABEL[item.kind], style=KIND_STYLE[item.kind])
            text.append(f" · {clean_line(item.author)} · {item.created_at:%Y-%m-%d %H:%M}\n", style="dim")
            # plain Text, never markup: a body cannot style itself or smuggle escapes
            text.append(Text("(deleted)") if item.deleted else highlight_terms(clean(item.body).strip(), mark))
        self.shown = text
        self._body.update(text)
        self.scroll_home(animate=False)
