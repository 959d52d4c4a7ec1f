"""A ticket's time entries: listed with their author, day, billable flag and invoice; corrected by their
author (or an admin) in a small form; the organization's figures for the month underneath.

`H` on the ticket screen opens it. Every read and write goes through the services in a thread worker
(services/time_entries.py decides who may correct what; an invoiced entry is locked). A correction
carries the entry's version, so one made meanwhile elsewhere is refused and the form keeps what was
typed. It dismisses with True when something was written, so the ticket screen reloads its total.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from tui_helpdesk import clock
from tui_helpdesk.resources import stylesheet
from tui_helpdesk.services import door, time_entries, time_report
from tui_helpdesk.services.errors import ServiceError
from tui_helpdesk.services.time_entries import TimeRow
from tui_helpdesk.tui.context import ctx_of
from tui_helpdesk.untrusted import clean_line

if TYPE_CHECKING:
    from tui_helpdesk.services.time_report import TimeReport
    from tui_helpdesk.tui.screens.ticket import TicketScreen


@dataclass(frozen=True)
class Loaded:
    entries: list[TimeRow]
    ticket: TimeReport  # this ticket's figures, with amounts
    month: TimeReport | None  # the organization's month so far (None: the ticket has no organization)


def load(tx: Any, ticket_ref: str, organization: str | None) -> Loaded:
    """The dialog's one read: the entries and the figures (a use case of this face, see services/door)."""
    today = tx.now.date()
    month = time_report.report(tx, organization=organization, date_from=today.replace(day=1), date_to=today) \
        if organization else None
    return Loaded(time_entries.for_ticket(tx, ticket_ref), time_report.report(tx, ticket=ticket_ref), month)


def ticket_line(rep: TimeReport) -> Text:
    t = rep.total
    out = Text(f"{t.minutes} min · {t.billable_minutes} billable = {t.amount} {rep.currency}", style="bold")
    if t.invoiced_minutes:
        out.append(f" · {t.invoiced_minutes} min invoiced", style="yellow")
    return out


def entry_line(r: TimeRow, width: int = 200) -> Text:
    out = Text(f"{r.work_date:%Y-%m-%d} ", style="dim")
    out.append(f"{clean_line(r.agent)[:10]:<10} ", style="bold")
    out.append(f"{r.minutes:>4} min ")
    out.append("billable " if r.billable else "internal ", style="green" if r.billable else "dim")
    out.append(f"{r.invoice or '':<9} ", style="yellow")  # an invoiced entry is locked
    out.append(clean_line(r.note))
    out.no_wrap, out.overflow = True, "ellipsis"
    return out


def month_lines(rep: TimeReport | None) -> Text:
    if rep is None:
        return Text("No organization: no amounts for this ticket.", style="dim")
    out = Text(f"{clean_line(rep.organization or '')} this month ({rep.date_from:%b %Y}):", style="bold")
    for a in rep.agents:
        out.append(f"\n  {clean_line(a.key)[:12]:<12} {a.minutes:>5} min  {a.billable_minutes:>5} billable"
                   f"  {a.amount:>10} {rep.currency}")
    t = rep.total
    out.append(f"\n  {'total':<12} {t.minutes:>5} min  {t.billable_minutes:>5} billable  {t.amount:>10} "
               f"{rep.currency}", style="bold")
    return out


class TimeScreen(ModalScreen[bool]):
    """The entries of one ticket; `e`/Enter corrects the one under the cursor, `a` logs new time."""

    CSS_PATH = stylesheet("ticket_time.tcss")
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="time.close"),
        Binding("down,j", "move(1)", "Next", show=False, id="time.down"),
        Binding("up,k", "move(-1)", "Previous", show=False, id="time.up"),
        Binding("enter,e", "correct", "Correct", id="time.correct", priority=True),
        Binding("a", "add", "Log time", id="time.add"),
    ]

    class Ready(Message):
        def __init__(self, loaded: Loaded | None, error: str = "") -> None:
            super().__init__()
            self.loaded, self.error = loaded, error

    def __init__(self, number: str, organization: str | None) -> None:
        super().__init__()
        self.number = number
        self.organization = organization
        self.rows: list[TimeRow] = []
        self.changed = False

    def compose(self) -> ComposeResult:
        with Vertical(id="time-box"):
            yield Label(Text(f"Time on {clean_line(self.number)}", style="bold"), id="time-title")
            yield OptionList(id="time-list")
            yield Static("", id="time-total")
            yield Static("", id="time-month")
            yield Static(Text("enter/e correct · a log time · esc close · invoiced entries are locked", style="dim"),
                         id="time-keys")

    def on_mount(self) -> None:
        self.query_one("#time-list", OptionList).focus()
        self.reload()

    @work(thread=True, group="time-load", exclusive=True)
    def reload(self) -> None:
        ctx = ctx_of(self)
        try:
            loaded = door.read(ctx.engine, ctx.actor, load, self.number, self.organization)
        except ServiceError as exc:
            self.post_message(self.Ready(None, str(exc)))
            return
        self.post_message(self.Ready(loaded))

    def on_time_screen_ready(self, message: Ready) -> None:
        if message.loaded is None:
            self.notify(message.error, severity="error")
            return
        ol = self.query_one("#time-list", OptionList)
        keep = ol.highlighted
        self.rows = message.loaded.entries
        ol.clear_options()
        ol.add_options([Option(entry_line(r)) for r in self.rows] or [Option("(no time logged)", disabled=True)])
        if self.rows:
            ol.highlighted = min(keep or 0, len(self.rows) - 1)
        line = Text(f"{len(self.rows)} entries · ", style="bold")
        self.query_one("#time-total", Static).update(line + ticket_line(message.loaded.ticket))
        self.query_one("#time-month", Static).update(month_lines(message.loaded.month))

    def current(self) -> TimeRow | None:
        index = self.query_one("#time-list", OptionList).highlighted
        return self.rows[index] if index is not None and 0 <= index < len(self.rows) else None

    def action_move(self, step: int) -> None:
        ol = self.query_one("#time-list", OptionList)
        if self.rows:
            ol.highlighted = ((ol.highlighted or 0) + step) % len(self.rows)

    def action_correct(self) -> None:
        row = self.current()
        if row is not None:
            self._ask_refusal(row)

    @work(thread=True, group="time-refusal", exclusive=True)
    def _ask_refusal(self, row: TimeRow) -> None:
        # asked first, so nobody types a correction only to be told no
        ctx = ctx_of(self)
        refusal = door.read(ctx.engine, ctx.actor, time_entries.correction_refusal, row.id)
        self.app.call_from_thread(self._open_form, row, refusal)

    def _open_form(self, row: TimeRow, refusal: str | None) -> None:
        if refusal:
            self.notify(refusal, severity="warning")
            return
        self.app.push_screen(TimeFormScreen(self.number, row), self._written)

    @on(OptionList.OptionSelected, "#time-list")
    def _clicked(self) -> None:
        self.action_correct()

    def action_add(self) -> None:
        self.app.push_screen(TimeFormScreen(self.number, None), self._written)

    def _written(self, result: TimeRow | None) -> None:
        if result is not None:
            self.changed = True
            self.notify(f"time entry {result.id}: {result.minutes} min on {result.work_date}")
            self.reload()

    def action_close(self) -> None:
        self.dismiss(self.changed)


class TimeFormScreen(ModalScreen[TimeRow | None]):
    """Minutes, day, note, billable: a new entry (row None) or a correction of `row`."""

    CSS_PATH = stylesheet("ticket_time.tcss")
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="time_form.cancel"),
        Binding("ctrl+s", "save", "Save", id="time_form.save", priority=True),
    ]

    class Saved(Message):
        def __init__(self, row: TimeRow | None, error: str = "", field: str = "") -> None:
            super().__init__()
            self.row, self.error, self.field = row, error, field

    def __init__(self, number: str, row: TimeRow | None) -> None:
        super().__init__()
        self.number = number
        self.row = row

    def compose(self) -> ComposeResult:
        r = self.row
        title = f"Correct time entry {r.id} ({clean_line(r.agent)})" if r else f"Log time on {clean_line(self.number)}"
        today = clock.now().date()
        with Vertical(id="time-form"):
            yield Label(Text(title, style="bold"))
            with Horizontal(classes="time-field"):
                yield Label("Minutes ", classes="time-label")
                yield Input(str(r.minutes) if r else "", id="time-minutes", placeholder="e.g. 30")
            with Horizontal(classes="time-field"):
                yield Label("Day     ", classes="time-label")
                yield Input((r.work_date if r else today).isoformat(), id="time-date", placeholder="YYYY-MM-DD")
            with Horizontal(classes="time-field"):
                yield Label("Note    ", classes="time-label")
                yield Input(r.note if r else "", id="time-note")
            yield Checkbox("Billable", r.billable if r else True, id="time-billable")
            yield Static("", id="time-error")
            yield Static(Text("enter/ctrl+s save · esc cancel", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#time-minutes", Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        values = {
            "minutes": self.query_one("#time-minutes", Input).value,
            "work_date": self.query_one("#time-date", Input).value,
            "note": self.query_one("#time-note", Input).value,
            "billable": self.query_one("#time-billable", Checkbox).value,
        }
        self._save(values)

    @work(thread=True, group="time-save", exclusive=True)
    def _save(self, values: dict[str, Any]) -> None:
        ctx = ctx_of(self)
        try:
            if self.row is None:
                row = door.write(ctx.engine, ctx.actor, time_entries.add, self.number, values["minutes"],
                                 billable=values["billable"], note=values["note"], work_date=values["work_date"])
            else:
                row = door.write(ctx.engine, ctx.actor, time_entries.correct, self.row.id,
                                 expected_version=self.row.version, **values)
        except ServiceError as exc:
            self.post_message(self.Saved(None, str(exc), getattr(exc, "field", "")))
            return
        self.post_message(self.Saved(row))

    def on_time_form_screen_saved(self, message: Saved) -> None:
        if message.row is not None:
            self.dismiss(message.row)
            return
        # what was typed stays; the message names the field
        self.query_one("#time-error", Static).update(Text(clean_line(message.error), style="bold red"))
        target = {"minutes": "#time-minutes", "date": "#time-date", "note": "#time-note"}.get(message.field)
        if target:
            self.query_one(target, Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)


def open_time(screen: TicketScreen) -> None:
    """The ticket screen's `H`."""
    d = screen.detail
    if d is None:
        return

    def done(changed: bool | None) -> None:
        if changed:
            screen.load()

    screen.app.push_screen(TimeScreen(d.number, d.organization or None), done)


__all__ = ["TimeFormScreen", "TimeScreen", "open_time"]
