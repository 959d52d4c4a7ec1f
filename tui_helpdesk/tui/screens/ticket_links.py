"""Where a ticket's links lead: every linked and merged ticket with its state, to open, unlink or add.

`l` on the ticket screen opens it (straight to "add a link" when there is none yet). Enter opens the
ticket under the cursor on top of this one, so Esc follows the way back; the opened ticket lists the
inverse link, so the way back is also a link. A parent shows how many of its children are still open.
Unlinking asks first and goes through services/links.unlink with the version the agent saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from tui_helpdesk.resources import stylesheet
from tui_helpdesk.services import door, links, views
from tui_helpdesk.services.errors import ServiceError
from tui_helpdesk.services.ticket_view import TicketDetail
from tui_helpdesk.tui.context import ctx_of
from tui_helpdesk.untrusted import clean_line

if TYPE_CHECKING:
    from tui_helpdesk.tui.screens.ticket import TicketScreen

DONE = ("resolved", "closed")


@dataclass(frozen=True)
class LinkRow:
    relation: str  # "parent of", "merged into", "merged here", ...
    number: str
    subject: str
    state: str
    unlinkable: bool  # a typed link (merges are undone by no one)


def rows_of(d: TicketDetail) -> list[LinkRow]:
    out: list[LinkRow] = []
    if d.merged_into:
        out.append(LinkRow("merged into", d.merged_into, "", "", False))
    order = {"child_of": 0, "parent_of": 1}
    for link in sorted(d.links, key=lambda x: (order.get(x.kind, 2), x.kind, x.number)):
        out.append(LinkRow(link.kind.replace("_", " "), link.number, link.subject, link.state, True))
    for number in d.merged_children:
        out.append(LinkRow("merged here", number, "", "closed", False))
    return out


def children_summary(d: TicketDetail) -> str:
    children = [x for x in d.links if x.kind == "parent_of"]
    if not children:
        return ""
    still = sum(1 for x in children if x.state not in DONE)
    return f"parent of {len(children)}: {still} open, {len(children) - still} resolved or closed"


class LinksScreen(ModalScreen[tuple[str, str] | None]):
    """Dismisses with ("open", number), ("unlink", number), ("add", "") or None."""

    CSS_PATH = stylesheet("client.tcss")
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="links.close"),
        Binding("down,j", "move(1)", "Next", show=False, id="links.down"),
        Binding("up,k", "move(-1)", "Previous", show=False, id="links.up"),
        Binding("enter", "choose('open')", "Open", id="links.open", priority=True),
        Binding("d", "choose('unlink')", "Unlink", id="links.unlink"),
        Binding("a", "add", "Add link", id="links.add"),
    ]

    def __init__(self, detail: TicketDetail) -> None:
        super().__init__()
        self.detail = detail
        self.rows = rows_of(detail)

    def compose(self) -> ComposeResult:
        d = self.detail
        with Vertical(id="links-box"):
            title = Text(f"Links of {clean_line(d.number)}", style="bold")
            summary = children_summary(d)
            if summary:
                title.append(f"  {summary}", style="dim")
            yield Label(title, id="links-title")
            yield OptionList(*(Option(self._line(r)) for r in self.rows), id="links-list")
            yield Static(Text("enter open · d unlink · a add a link · esc close"), id="links-keys")

    @staticmethod
    def _line(r: LinkRow) -> Text:
        out = Text(f"{r.relation:<13}", style="dim")
        out.append(f"{clean_line(r.number):<10}", style="bold")
        state = r.state or "—"
        out.append(f" {state:<9}", style="dim" if r.state in DONE else "green")
        out.append(f" {clean_line(r.subject)[:60]}")
        out.no_wrap, out.overflow = True, "ellipsis"  # one line per link at 80 columns
        return out

    def on_mount(self) -> None:
        ol = self.query_one("#links-list", OptionList)
        if self.rows:
            ol.highlighted = 0
        ol.focus()

    def action_move(self, step: int) -> None:
        ol = self.query_one("#links-list", OptionList)
        if ol.option_count:
            ol.highlighted = ((ol.highlighted or 0) + step) % ol.option_count

    def current(self) -> LinkRow | None:
        index = self.query_one("#links-list", OptionList).highlighted
        return self.rows[index] if index is not None and 0 <= index < len(self.rows) else None

    def action_choose(self, what: str) -> None:
        row = self.current()
        if row is None:
            return
        if what == "unlink" and not row.unlinkable:
            self.notify(f"{row.number} is {row.relation} {self.detail.number}: a merge cannot be undone here",
                        severity="warning")
            return
        self.dismiss((what, row.number))

    @on(OptionList.OptionSelected, "#links-list")
    def _clicked(self) -> None:
        self.action_choose("open")

    def action_add(self) -> None:
        self.dismiss(("add", ""))

    def action_close(self) -> None:
        self.dismiss(None)


def open_links(screen: TicketScreen) -> None:
    """The ticket screen's `l`: the links dialog, or the add-a-link picker when there are none."""
    d = screen.detail
    if d is None:
        return
    if not rows_of(d):
        screen.action_link()
        return

    def done(result: tuple[str, str] | None) -> None:
        if result is None:
            return
        what, number = result
        if what == "add":
            screen.action_link()
        elif what == "open":
            _open(screen, number)
        elif what == "unlink":
            ref, v = d.number, d.version
            screen.confirm(
                f"Unlink {ref} and {number}?",
                lambda: screen.act(
                    "unlink",
                    lambda tx: links.unlink(tx, ref, number, expected_version=v),
                    note=f"unlinked {number}",
                ),
                yes="Unlink",
            )

    screen.app.push_screen(LinksScreen(d), done)


def _open(screen: TicketScreen, number: str) -> None:
    from tui_helpdesk.tui.screens.ticket import TicketScreen

    ctx = ctx_of(screen)

    def find() -> None:
        try:
            ticket_id, _ = door.read(ctx.engine, ctx.actor, views.find_ticket, number)
        except ServiceError as exc:
            screen.app.call_from_thread(screen.say, str(exc), True)
            return
        screen.app.call_from_thread(push, ticket_id)

    def push(ticket_id: int) -> None:
        screen.app.push_screen(TicketScreen(ticket_id), lambda _: _reload(screen))

    screen.run_worker(find, thread=True, group="links-open")


def _reload(screen: Any) -> None:
    # the ticket opened from here may have changed this one's links
    screen.load()
