"""The home screen: a sidebar of views, the virtual ticket list, filter and command lines,
bulk actions on marked tickets, an optional preview pane and a status line.

Every database read and write runs in a thread worker through the services; results come back
to the UI thread with call_from_thread. The screen holds plain rows only.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import OptionList, Static

from tui_helpdesk import clock
from tui_helpdesk.services import (
    agent_prefs,
    arrivals,
    bulk,
    choices,
    door,
    filter_query,
    presence,
    queries,
    views,
)
from tui_helpdesk.services.context import Tx
from tui_helpdesk.services.errors import ServiceError, StaleVersion
from tui_helpdesk.services.queries import SORTS, QueueRow, TicketQuery
from tui_helpdesk.services.search import terms as search_terms
from tui_helpdesk.tui.context import AppContext
from tui_helpdesk.tui.keymap import QUEUE_BINDINGS
from tui_helpdesk.tui.screens.queue_dialogs import (
    ColumnsScreen,
    ConfirmScreen,
    PickScreen,
    PromptScreen,
)
from tui_helpdesk.tui.widgets.columns import view_defaults
from tui_helpdesk.tui.widgets.filter_line import FilterLine
from tui_helpdesk.tui.widgets.preview import Preview
from tui_helpdesk.tui.widgets.queue_footer import FULL_WIDTH, QueueFooter
from tui_helpdesk.tui.widgets.sidebar import ViewEntry, ViewSidebar, builtin_entries
from tui_helpdesk.tui.widgets.ticket_list import (
    COLUMNS,
    DEFAULT_COLUMNS,
    TicketList,
    clean_line,
    columns_from_text,
    export_text,
)

DEFAULT_VIEW = "builtin:open"
SIDEBAR_MIN_WIDTH = 100  # below this the sidebar folds away by itself (`b` shows it again)
BULK_REASON = "bulk change from the queue"
EXPORT_PAGE = 1000


def _values(engine: Any, field: str, drop: tuple[str, ...] = ()) -> Callable[[str], list[str]]:
    """Values of a filter field (statuses, agents, ...) for a picker, via the filter completion."""

    def source(prefix: str) -> list[str]:
        c = filter_query.complete(engine, f"{field}:{prefix}")
        out = []
        for cand in c.candidates:
            value = cand.split(":", 1)[1].strip('"')
            if value not in drop:
                out.append(value)
        return out

    return source


class QueueScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = list(QUEUE_BINDINGS)
    AUTO_FOCUS = "#tickets"

    def __init__(self, ctx: AppContext) -> None:
        super().__init__(id="queue")
        self.ctx = ctx
        self.view_key = DEFAULT_VIEW
        self.filter_text = ""
        self.sort = "updated"
        self.columns: tuple[str, ...] = DEFAULT_COLUMNS
        self.view_query: TicketQuery | None = None
        self.query_ready = False
        self._query_asked = 0  # apply_query calls so far
        self.task_text = ""  # long jobs (export, bulk) report here
        self._presence_note = ""
        # the sort and columns the agent gave each view this session: going back to a view restores them
        self.view_state: dict[str, tuple[str, tuple[str, ...]]] = {}
        self.sidebar_wanted: bool | None = None  # None: follow the width (SIDEBAR_MIN_WIDTH)
        self._sidebar_peek = False  # shown by tab while folded: folds again once a view is chosen
        # new work (issue 12 item 10): where the last look ended, the unseen tickets per view, the words
        self._arrival_marks: arrivals.Marks | None = None
        self.unseen: dict[str, set[int]] = {}
        self.arrival_note = ""
        self._note_about: tuple[set[str], set[int]] = (set(), set())  # views, tickets the note names
        self.bell_on = agent_prefs.DEFAULTS["bell"]

    # --- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="queue-body"):
            yield ViewSidebar(id="sidebar")
            with Vertical(id="queue-main"):
                yield FilterLine(self.ctx.engine, id="filter-line")
                yield TicketList(self.ctx.engine, self.ctx.actor, id="tickets")
                yield Preview(self.ctx.engine, self.ctx.actor, id="preview")
        yield Static("", id="status-line")
        yield QueueFooter(id="footer")

    @property
    def ticket_list(self) -> TicketList:
        return self.query_one("#tickets", TicketList)

    @property
    def sidebar(self) -> ViewSidebar:
        return self.query_one("#sidebar", ViewSidebar)

    @property
    def filter_line(self) -> FilterLine:
        return self.query_one("#filter-line", FilterLine)

    @property
    def preview(self) -> Preview:
        return self.query_one("#preview", Preview)

    def on_mount(self) -> None:
        self.fit_to_width()
        self.ticket_list.focus()
        self.preview.display = False
        self.sidebar.set_entries(builtin_entries(), self.view_key)
        self.load_sidebar(first=True)
        self.start_watching()
        interval = getattr(self.app, "poll_interval", 2.0)
        if interval:
            self.set_interval(interval, self.poll_presence)

    # --- sidebar and views ----------------------------------------------------------------------

    def load_sidebar(self, first: bool = False, apply: bool = False) -> None:
        """The departments the actor sees and their saved views, from the database."""
        ctx = self.ctx

        def work() -> None:
            try:
                depts, saved = door.read(
                    ctx.engine, ctx.actor, lambda tx: (views.department_names(tx), views.list_views(tx))
                )
            except Exception as exc:  # noqa: BLE001
                self.app.call_from_thread(self.app.notify, f"Cannot read the views: {exc}", severity="error")
                return
            self.app.call_from_thread(self._apply_sidebar, depts, saved, first or apply)

        self.run_worker(work, thread=True, group="sidebar", exit_on_error=False)

    def _apply_sidebar(self, depts: list[tuple[int, str]], saved: list[views.ViewRow], first: bool) -> None:
        entries = builtin_entries()
        entries += [ViewEntry(f"dept:{i}", name, "dept", str(i)) for i, name in depts]
        entries += [
            ViewEntry(f"view:{v.id}", v.name, "view", str(v.id), v.query, v.sort, v.columns, v.shared)
            for v in saved
        ]
        self.sidebar.set_entries(entries, self.view_key)
        if first:
            self.choose_view(self.view_key)
        self.refresh_counts()

    def choose_view(self, key: str) -> None:
        entry = self.sidebar.entry(key) if self.sidebar.entries else None
        if entry is None:
            key = DEFAULT_VIEW
            entry = self.sidebar.entry(key)
        self.view_key = key
        self.sidebar.select_key(key)
        self._seen_view(key)
        self.sort, columns = self.view_settings(entry)
        self.set_columns(columns, remember=False)
        self.filter_text = ""
        self.filter_line.filter_text = ""
        self.apply_query()

    def view_settings(self, entry: ViewEntry | None) -> tuple[str, tuple[str, ...]]:
        """(sort, columns) a view opens with: what the agent gave it this session, else what the saved
        view stores, else the built-in view's defaults (columns.BUILTIN_DEFAULTS)."""
        if entry is None:
            return view_defaults("builtin", "open")
        if entry.key in self.view_state:
            return self.view_state[entry.key]
        if entry.kind == "view":
            sort = entry.sort if entry.sort in SORTS else "updated"
            return sort, entry.columns or view_defaults("builtin", "open")[1]
        return view_defaults(entry.kind, entry.ident)

    def _remember_view(self) -> None:
        self.view_state[self.view_key] = (self.sort, self.columns)

    def _base_query(self, entry: ViewEntry | None, tx: Tx | None) -> TicketQuery:
        """The list behind a sidebar entry; the services keep it to what the actor may see. Only a saved
        view (its filter text resolved) needs `tx`."""
        actor = self.ctx.actor
        if entry is None or entry.kind == "builtin":
            name = entry.ident if entry else "open"
            if name == "mine" and actor.agent_id is None:
                name = "all"
            return queries.sidebar_query(name, actor.agent_id, self.sort)
        if entry.kind == "dept":
            return queries.department_query(int(entry.ident), self.sort)
        assert tx is not None, "a saved view's query is read in a transaction"
        base = TicketQuery(sort=self.sort)
        return filter_query.resolve_text(tx.session, entry.query_text, actor.agent_id, base)

    def apply_query(self, keep_position: bool = False) -> None:
        """Build the list's query from the view, the sort and the filter line, then show it."""
        entry = self.sidebar.entry(self.view_key)
        text, sort = self.filter_text, self.sort
        ctx = self.ctx
        self._query_asked += 1
        asked = self._query_asked  # a query built in a worker shows only if no later one was asked for
        if not text and (entry is None or entry.kind != "view"):
            # a built-in view or a department in another sort reads nothing to be built: no round trip
            # through a worker before the rows are asked for
            self._show_query(dataclasses.replace(self._base_query(entry, None), sort=sort), keep_position)
            return

        def work() -> None:
            def build(tx: Tx) -> TicketQuery:
                base = dataclasses.replace(self._base_query(entry, tx), sort=sort)
                return filter_query.resolve_text(tx.session, text, ctx.actor.agent_id, base) if text else base

            try:
                query = door.read(ctx.engine, ctx.actor, build)
            except filter_query.FilterError as exc:
                self.app.call_from_thread(self._filter_failed, exc)
                return
            except Exception as exc:  # noqa: BLE001
                self.app.call_from_thread(self.app.notify, f"Cannot build the list: {exc}", severity="error")
                return
            self.app.call_from_thread(self._show_query, query, keep_position, asked)

        self.run_worker(work, thread=True, group="query", exclusive=True, exit_on_error=False)

    def _filter_failed(self, exc: filter_query.FilterError) -> None:
        self.filter_line.open("filter", self.filter_text)
        self.filter_line.show_error(str(exc))

    def _show_query(self, query: TicketQuery, keep_position: bool, asked: int | None = None) -> None:
        if asked is not None and asked != self._query_asked:
            return
        self.view_query = query
        if query.sort != self.sort:
            self.sort = query.sort  # a `sort:` in the filter line
            self._remember_view()
        self.query_ready = True
        for preview in self.query(Preview):
            preview.set_terms(search_terms(query.text))
        self.ticket_list.set_query(query, keep_position=keep_position)
        self.refresh_status()

    def refresh_counts(self) -> None:
        ctx = self.ctx
        saved = [e for e in self.sidebar.entries if e.kind == "view"]

        def work() -> None:
            def count_all(tx: Tx) -> dict[str, int | None]:
                c = queries.sidebar_counts(tx)
                counts: dict[str, int | None] = {
                    "builtin:mine": c.mine,
                    "builtin:unassigned": c.unassigned,
                    "builtin:open": c.open,
                    "builtin:pending": c.pending,
                    "builtin:overdue": c.overdue,
                    "builtin:resolved": c.resolved,
                    "builtin:all": c.all,
                }
                counts.update({f"dept:{k}": v for k, v in c.departments.items()})
                for e in saved:
                    try:
                        counts[e.key] = queries.count(tx, self._base_query(e, tx))
                    except Exception:  # noqa: BLE001 - a view naming a deleted status counts as unknown
                        counts[e.key] = None
                return counts

            try:
                counts = door.read(ctx.engine, ctx.actor, count_all)
            except Exception as exc:  # noqa: BLE001
                self.app.call_from_thread(self.app.notify, f"Cannot count: {exc}", severity="error")
                return
            self.app.call_from_thread(self.sidebar.set_counts, counts)

        self.run_worker(work, thread=True, group="counts", exclusive=True, exit_on_error=False)

    @on(OptionList.OptionSelected, "#sidebar")
    def _sidebar_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.choose_view(event.option.id)
            self.ticket_list.focus()
            self._end_peek()

    def _step_view(self, step: int) -> None:
        keys = [e.key for e in self.sidebar.entries]
        if not keys:
            return
        i = keys.index(self.view_key) if self.view_key in keys else 0
        self.choose_view(keys[(i + step) % len(keys)])

    def action_next_view(self) -> None:
        self._step_view(1)

    def action_prev_view(self) -> None:
        self._step_view(-1)

    def action_focus_sidebar(self) -> None:
        if self.sidebar.has_focus:
            self.ticket_list.focus()
            self._end_peek()
        else:
            if not self.sidebar.display:
                self._sidebar_peek = True
                self.sidebar.display = True
            self.sidebar.focus()

    def _end_peek(self) -> None:
        if self._sidebar_peek:
            self._sidebar_peek = False
            self.fit_to_width()

    def action_toggle_sidebar(self) -> None:
        """`b`: fold the sidebar away or show it; the choice holds at any width until the app closes."""
        self._sidebar_peek = False
        self.sidebar_wanted = not self.sidebar.display
        self.fit_to_width()

    def fit_to_width(self) -> None:
        """The sidebar folds below SIDEBAR_MIN_WIDTH unless the agent said otherwise; the footer keeps to
        the keys that matter below FULL_WIDTH."""
        width = self.size.width or self.app.size.width
        if not self._sidebar_peek:
            show = self.sidebar_wanted if self.sidebar_wanted is not None else width >= SIDEBAR_MIN_WIDTH
            if self.sidebar.display != show:
                self.sidebar.display = show
                if not show and self.sidebar.has_focus:
                    self.ticket_list.focus()
        self.query_one(QueueFooter).narrow = width < FULL_WIDTH

    def _screen_resized(self, size: Size) -> None:
        # A screen pushed over the queue (a ticket opening) is sent a Resize as it mounts, and Textual lays
        # out every screen beneath it again, at the size it already has and with nothing changed: ~2-5 ms
        # CPU of each ticket's open. A real resize, or a layout the queue still owes, goes ahead.
        if not self.is_active and size == self._compositor.size and not self._layout_required:
            return
        super()._screen_resized(size)

    def on_resize(self, event: events.Resize) -> None:
        self.fit_to_width()
        self.refresh_status()  # what fits on the status line depends on the width

    # --- changes from elsewhere -----------------------------------------------------------------

    def data_changed(self) -> None:
        """The change counter moved (another agent, the worker): re-read what is on screen."""
        if self.query_ready:
            self.ticket_list.reload()
        self.refresh_counts()
        self.look_for_arrivals()
        if self.preview.display:
            self.preview.show_ticket(self.preview.ticket_id)

    def poll_presence(self) -> None:
        rows = self.ticket_list.visible_rows()
        if not rows or not self.is_current:
            return
        ids = [r.id for r in rows]
        ctx = self.ctx

        def work() -> None:
            try:
                seen = door.read(ctx.engine, ctx.actor, presence.on_tickets, ids)
            except Exception:  # noqa: BLE001 - presence is a hint; a failed read changes nothing
                return
            self.app.call_from_thread(self._apply_presence, seen)

        self.run_worker(work, thread=True, group="presence", exclusive=True, exit_on_error=False)

    def _apply_presence(self, seen: dict[int, presence.Seen]) -> None:
        self.ticket_list.set_presence(seen)
        self.refresh_status()

    # --- new work -------------------------------------------------------------------------------

    def start_watching(self) -> None:
        """Where "new since now" starts, and whether this agent wants the bell."""
        ctx = self.ctx

        def work() -> None:
            def read(tx: Tx) -> tuple[arrivals.Marks, bool]:
                return arrivals.marks(tx), agent_prefs.get(tx, "bell")

            try:
                marks, bell = door.read(ctx.engine, ctx.actor, read)
            except Exception:  # noqa: BLE001 - without marks the queue simply stays quiet
                return
            self.app.call_from_thread(self._watching, marks, bell)

        self.run_worker(work, thread=True, group="arrivals-start", exit_on_error=False)

    def _watching(self, marks: arrivals.Marks, bell: bool) -> None:
        self._arrival_marks = marks
        self.bell_on = bell

    def look_for_arrivals(self) -> None:
        """Something changed: did tickets arrive in the agent's views, or a customer reply on theirs?"""
        marks = self._arrival_marks
        if marks is None:
            return
        ctx = self.ctx
        entries = list(self.sidebar.entries)

        def work() -> None:
            def look(tx: Tx) -> arrivals.News:
                lists: dict[str, TicketQuery] = {}
                for e in entries:
                    try:
                        lists[e.key] = self._base_query(e, tx)
                    except Exception:  # noqa: BLE001 - a saved view naming a deleted status: no news for it
                        continue
                return arrivals.since(tx, marks, lists)

            try:
                news = door.read(ctx.engine, ctx.actor, look)
            except Exception:  # noqa: BLE001 - the next change looks again
                return
            self.app.call_from_thread(self._apply_arrivals, marks, news)

        self.run_worker(work, thread=True, group="arrivals", exit_on_error=False)

    def _apply_arrivals(self, looked_from: arrivals.Marks, news: arrivals.News) -> None:
        if self._arrival_marks != looked_from:
            return  # another look already moved on from these marks: its news holds these
        self._arrival_marks = news.marks
        labels = {e.key: clean_line(e.label) for e in self.sidebar.entries}
        fresh: list[tuple[int, str]] = []  # (ticket id, view key) of tickets not heard of yet
        for key in sorted(news.in_views, key=_specific_first):
            for ticket_id in news.in_views[key]:
                if key != self.view_key:
                    self.unseen.setdefault(key, set()).add(ticket_id)
                if all(t != ticket_id for t, _ in fresh):
                    fresh.append((ticket_id, key))
        self.sidebar.set_unseen({k for k, v in self.unseen.items() if v})
        words: list[str] = []
        if fresh:
            ticket_id, key = fresh[0]
            number = news.numbers.get(ticket_id, "")
            more = f" and {len(fresh) - 1} more" if len(fresh) > 1 else ""
            words.append(f"arrived: {number} in {labels.get(key, '')}{more}")
        if news.replies:
            noun = "reply" if len(news.replies) == 1 else "replies"
            words.append(f"{noun} on your {', '.join(news.replies[:3])}")
        if not words:
            return
        self.arrival_note = " · ".join(words)
        self._note_about = ({k for _, k in fresh}, {t for t, _ in fresh} | _ids_of(news, news.replies))
        self.refresh_status()
        if self.bell_on:
            self.app.bell()

    def _seen_view(self, key: str) -> None:
        if self.unseen.pop(key, None):
            self.sidebar.set_unseen({k for k, v in self.unseen.items() if v})
        if key in self._note_about[0]:
            self._clear_note()

    def _clear_note(self) -> None:
        self.arrival_note = ""
        self._note_about = (set(), set())
        self.refresh_status()

    def set_bell(self, on: bool) -> None:
        ctx = self.ctx

        def work() -> None:
            try:
                value = door.write(ctx.engine, ctx.actor, agent_prefs.put, "bell", on)
            except ServiceError as exc:
                self.app.call_from_thread(self.notify, str(exc), severity="error")
                return
            self.app.call_from_thread(self._bell_set, value)

        self.run_worker(work, thread=True, group="prefs", exit_on_error=False)

    def _bell_set(self, on: bool) -> None:
        self.bell_on = on
        self.notify(f"The bell rings on new work: {'on' if on else 'off'}", timeout=2)

    def action_refresh(self) -> None:
        self._clear_note()
        self.data_changed()
        self.poll_presence()
        self.notify("Refreshed", timeout=1.5)

    # --- status line ----------------------------------------------------------------------------

    def refresh_status(self) -> None:
        tl = self.ticket_list
        entry = self.sidebar.entry(self.view_key)
        parts = Text()
        parts.append(clean_line(entry.label) if entry else "", style="bold")
        total = f"{tl.total:,}" if tl.total_known else "…"
        parts.append(f"  {total} tickets  sort:{self.sort}")
        if self.filter_text:
            parts.append(f"  /{self.filter_text}", style="italic")
        if tl.hidden_columns:
            # a ticked column that cannot fit is said, never silently gone
            names = ", ".join(COLUMNS[c].title for c in tl.hidden_columns)
            parts.append(f"  no room for {names}", style="yellow")
        if tl.marked:
            parts.append(f"  {len(tl.marked)} marked", style="bold yellow")
        row = tl.current_row
        seen = tl.presence.get(row.id) if row else None
        if seen is not None and row is not None:
            verb = "is replying to" if seen.activity != "viewing" else "is viewing"
            parts.append(f"  ● {clean_line(seen.agent_name)} {verb} {row.number}", style="bold red")
        if self.arrival_note:
            parts.append(f"  ✉ {self.arrival_note}", style="bold cyan")
        line = self.query_one("#status-line", Static)
        worker = getattr(self.app, "worker_status", "")
        right = " ".join(t for t in (self.task_text, worker) if t)
        if right:
            room = max(0, (line.size.width or self.app.size.width) - 2)
            trouble = bool(worker) and not worker.startswith(("worker: ok", "worker: standby"))
            if parts.cell_len + 3 + len(right) > room:
                if not trouble and not self.task_text:
                    right = ""  # "worker: ok" is worth showing only where there is room for it
                else:
                    # what is wrong is said whole (without its time and "worker:" when narrow); the
                    # left-hand details give way
                    right = _shortest_fitting(right, room - 23)
                    parts.truncate(max(20, room - len(right) - 3), overflow="ellipsis")
            if right:
                parts.append(f"  │ {right}", style="dim" if not trouble else "bold yellow")
        line.update(parts)

    @on(TicketList.Changed)
    def _list_changed(self, event: TicketList.Changed) -> None:
        self.refresh_status()

    @on(TicketList.Failed)
    def _list_failed(self, event: TicketList.Failed) -> None:
        self.notify(f"Cannot read the queue: {event.error}", severity="error")

    @on(TicketList.Highlighted)
    def _highlighted(self, event: TicketList.Highlighted) -> None:
        self.refresh_status()
        if self.preview.display:
            self.preview.show_ticket(event.row.id if event.row else None)

    # --- filter and command lines ---------------------------------------------------------------

    def action_filter(self) -> None:
        self.filter_line.open("filter")

    def action_command(self) -> None:
        self.filter_line.open("command", "")

    @on(FilterLine.Cancelled)
    def _line_cancelled(self, event: FilterLine.Cancelled) -> None:
        self.filter_line.close()
        self.ticket_list.focus()
        if event.mode == "filter" and self.filter_text:
            self.filter_text = ""
            self.filter_line.filter_text = ""
            self.apply_query()

    @on(FilterLine.Submitted)
    def _line_submitted(self, event: FilterLine.Submitted) -> None:
        if event.mode == "filter":
            self.filter_line.close()
            self.ticket_list.focus()
            self.filter_text = event.value
            self.filter_line.filter_text = event.value
            self.apply_query()
            return
        self.filter_line.close()
        self.ticket_list.focus()
        self.run_command(event.value)

    def run_command(self, text: str) -> None:
        """`:1042`, `:TCK-1042`, `:sort due`, `:save NAME`, `:share NAME`, `:unsave NAME`,
        `:columns a,b`, `:export PATH [a,b]`, `:refresh`, `:admin`, `:help`, `:drafts`, `:q`."""
        text = text.strip().lstrip(":").strip()
        if not text:
            return
        name, _, arg = text.partition(" ")
        arg = arg.strip()
        low = name.lower()
        if low in ("q", "quit"):
            self.app.exit()
        elif low == "sort":
            if arg not in SORTS:
                self.notify(f"Sorts: {', '.join(SORTS)}", severity="warning")
            else:
                self.set_sort(arg)
        elif low in ("save", "share"):
            self.save_view(arg, shared=low == "share")
        elif low == "unsave":
            self.delete_view(arg)
        elif low == "columns":
            if not arg:
                self.action_pick_columns()
                return
            cols, unknown = columns_from_text(arg)
            if unknown:
                self.notify(
                    f"Unknown columns: {', '.join(unknown)} (known: {', '.join(COLUMNS)})", severity="error"
                )
            elif cols:
                self.set_columns(cols)
        elif low == "export":
            self.export(arg)
        elif low == "refresh":
            self.action_refresh()
        elif low == "bell":
            if arg.lower() not in ("on", "off"):
                self.notify(f"The bell is {'on' if self.bell_on else 'off'}: :bell on or :bell off", severity="warning")
            else:
                self.set_bell(arg.lower() == "on")
        elif low == "admin":
            self.app.action_admin()  # type: ignore[attr-defined]
        elif low == "help":
            self.app.action_help()  # type: ignore[attr-defined]
        elif low == "drafts":
            from tui_helpdesk.tui.screens.drafts import open_drafts

            open_drafts(self.app)
        elif low[:1].isdigit() or "-" in low:
            self.open_ref(text)
        else:
            self.notify(
                f"Unknown command {name!r}. Try :1042, :sort due, :save NAME, :export PATH", severity="error"
            )

    # --- sort and columns -----------------------------------------------------------------------

    def set_sort(self, sort: str) -> None:
        self.sort = sort
        self._remember_view()
        self.apply_query()

    def action_cycle_sort(self) -> None:
        # no toast: the status line says sort:NAME already
        i = SORTS.index(self.sort) if self.sort in SORTS else 0
        self.set_sort(SORTS[(i + 1) % len(SORTS)])

    def action_pick_sort(self) -> None:
        def chosen(value: str | None) -> None:
            if value:
                self.set_sort(value)

        self.app.push_screen(PickScreen("Sort by", list(SORTS)), chosen)

    def set_columns(self, columns: tuple[str, ...], remember: bool = True) -> None:
        self.columns = columns
        self.ticket_list.set_columns(columns)
        if remember:
            self._remember_view()

    def action_pick_columns(self) -> None:
        def chosen(value: tuple[str, ...] | None) -> None:
            if value:
                self.set_columns(value)

        self.app.push_screen(
            ColumnsScreen([(k, c.title) for k, c in COLUMNS.items()], self.ticket_list.columns), chosen
        )

    # --- saved views ----------------------------------------------------------------------------

    def action_save_view(self) -> None:
        self.filter_line.open("command", "save ")

    def save_view(self, name: str, shared: bool) -> None:
        if not name:
            self.notify("Give the view a name: :save NAME", severity="warning")
            return
        query_text = self.filter_text
        entry = self.sidebar.entry(self.view_key)
        if entry is not None and entry.kind == "view" and entry.query_text:
            query_text = f"{entry.query_text} {query_text}".strip()
        elif entry is not None and entry.kind != "view":
            query_text = f"{_builtin_filter(entry)} {query_text}".strip()
        ctx, sort, cols = self.ctx, self.sort, self.ticket_list.columns

        def work() -> None:
            try:
                row = door.write(ctx.engine, ctx.actor, views.save_view, name, query_text, sort, cols, shared=shared)
            except ServiceError as exc:
                self.app.call_from_thread(self.notify, str(exc), severity="error")
                return
            self.app.call_from_thread(self._view_saved, row)

        self.run_worker(work, thread=True, group="save", exit_on_error=False)

    def _view_saved(self, row: views.ViewRow) -> None:
        self.view_key = f"view:{row.id}"
        self.view_state.pop(self.view_key, None)  # the view now stores what the agent chose
        self.notify(f"Saved {'shared ' if row.shared else ''}view {row.name!r}")
        self.load_sidebar(apply=True)

    def delete_view(self, name: str) -> None:
        entry = next((e for e in self.sidebar.entries if e.kind == "view" and e.label == name), None)
        if entry is None:
            self.notify(f"No saved view called {name!r}", severity="error")
            return
        ctx = self.ctx

        def go(yes: bool | None) -> None:
            if not yes:
                return

            def work() -> None:
                try:
                    door.write(ctx.engine, ctx.actor, views.delete_view, int(entry.ident))
                except ServiceError as exc:
                    self.app.call_from_thread(self.notify, str(exc), severity="error")
                    return
                self.app.call_from_thread(self._view_deleted, entry)

            self.run_worker(work, thread=True, group="save", exit_on_error=False)

        self.app.push_screen(ConfirmScreen(f"Delete the view {name!r}?", default_no=True), go)

    def _view_deleted(self, entry: ViewEntry) -> None:
        self.notify(f"Deleted view {entry.label!r}")
        self.view_state.pop(entry.key, None)
        self.unseen.pop(entry.key, None)
        current = self.view_key == entry.key
        if current:
            self.view_key = DEFAULT_VIEW
        self.load_sidebar(apply=current)

    # --- export ---------------------------------------------------------------------------------

    def action_export(self) -> None:
        self.filter_line.open("command", "export ")

    def export(self, arg: str) -> None:
        path_text, _, cols_text = arg.partition(" ")
        if not path_text:
            self.notify("Say where: :export PATH [columns]", severity="warning")
            return
        columns = self.ticket_list.columns
        if cols_text.strip():
            columns, unknown = columns_from_text(cols_text)
            if unknown:
                self.notify(f"Unknown columns: {', '.join(unknown)}", severity="error")
                return
        query = self.view_query
        if query is None:
            return
        path = Path(path_text).expanduser()
        if not path.parent.is_dir():
            # a typo in the path must not leave a tree of new directories behind
            self.notify(
                f"Export refused: the directory {clean_line(str(path.parent))} does not exist; create it first",
                severity="error",
            )
            return
        if path.is_dir():
            self.notify(f"Export refused: {clean_line(str(path))} is a directory; name a file", severity="error")
            return
        engine, actor = self.ctx.engine, self.ctx.actor
        self.task_text = "exporting…"
        self.refresh_status()

        def work() -> None:
            written = 0
            now = clock.now()
            try:
                with path.open("w", newline="", encoding="utf-8") as fh:
                    out = csv.writer(fh)
                    out.writerow([COLUMNS[c].title if c != "number" else "Number" for c in columns])
                    after = None
                    while True:
                        page = door.read(engine, actor, queries.fetch_page, query, after, EXPORT_PAGE)
                        for row in page.rows:
                            out.writerow([_csv_safe(export_text(row, c, now)) for c in columns])
                        written += len(page.rows)
                        self.app.call_from_thread(self._set_task, f"exported {written:,}…")
                        if page.at_end or page.next is None:
                            break
                        after = page.next
            except Exception as exc:  # noqa: BLE001
                self.app.call_from_thread(self._set_task, "")
                self.app.call_from_thread(self.notify, f"Export failed: {exc}", severity="error")
                return
            self.app.call_from_thread(self._set_task, "")
            self.app.call_from_thread(self.notify, f"Exported {written:,} tickets to {path}")

        self.run_worker(work, thread=True, group="export", exit_on_error=False)

    def _set_task(self, text: str) -> None:
        self.task_text = text
        self.refresh_status()

    # --- preview --------------------------------------------------------------------------------

    def action_toggle_preview(self) -> None:
        self.preview.display = not self.preview.display
        if self.preview.display:
            row = self.ticket_list.current_row
            self.preview.show_ticket(row.id if row else None)

    def action_preview_down(self) -> None:
        if self.preview.display:
            self.preview.scroll_relative(y=max(1, self.preview.size.height // 2), animate=False)

    def action_preview_up(self) -> None:
        if self.preview.display:
            self.preview.scroll_relative(y=-max(1, self.preview.size.height // 2), animate=False)

    # --- opening tickets ------------------------------------------------------------------------

    @on(TicketList.Opened)
    def _opened(self, event: TicketList.Opened) -> None:
        self.open_ticket(event.row.id, self.ticket_list.loaded_ids())

    def action_triage(self) -> None:
        """Triage mode: the cursor's ticket opens, and each action that finishes with it opens the next."""
        row = self.ticket_list.current_row
        if row is None:
            self.notify("No ticket here.", severity="warning")
            return
        self.open_ticket(row.id, self.ticket_list.loaded_ids(), triage=True)

    def open_ticket(self, ticket_id: int, queue_ids: list[int] | None = None, triage: bool = False) -> None:
        """`queue_ids` is the list's order as shown (the whole loaded window, so `[` can walk back
        from any row); the ticket screen moves through it and names the id to open next."""
        # imported here, not at the top: start-up paints the queue without loading the ticket screen
        from tui_helpdesk.tui.screens.ticket import TicketScreen

        if ticket_id in self._note_about[1]:
            self._clear_note()

        def closed(result: Any) -> None:
            if isinstance(result, tuple) and len(result) == 2 and result[0] == "next":
                self._open_next(result[1], queue_ids or [], triage)
            self.data_changed()

        terms = search_terms(self.view_query.text) if self.view_query is not None else ()
        self.app.push_screen(TicketScreen(ticket_id, queue_ids=queue_ids, triage=triage, terms=terms), closed)

    def action_new_ticket(self) -> None:
        from tui_helpdesk.tui.screens.new_ticket import NewTicketScreen

        def created(ticket_id: int | None) -> None:
            self.data_changed()
            if ticket_id is not None:
                self.open_ticket(ticket_id)

        self.app.push_screen(NewTicketScreen(), created)

    def _open_next(self, ticket_id: int, queue_ids: list[int], triage: bool) -> None:
        """`]`, `[` or triage on the ticket screen named the ticket to open: open it in the same order,
        and put the list's cursor on it so going back lands where the agent is."""
        tl = self.ticket_list
        for offset, row in enumerate(tl.loaded_rows()):
            if row.id == ticket_id:
                tl.move_to(tl._win_start + offset)
                break
        self.open_ticket(ticket_id, queue_ids, triage)

    def open_ref(self, ref: str) -> None:
        ctx = self.ctx

        def work() -> None:
            try:
                ticket_id, _number = door.read(ctx.engine, ctx.actor, views.find_ticket, ref)
            except ServiceError as exc:
                self.app.call_from_thread(self.notify, str(exc), severity="error")
                return
            self.app.call_from_thread(self.open_ticket, ticket_id, None)

        self.run_worker(work, thread=True, group="open", exit_on_error=False)

    def action_copy_number(self) -> None:
        row = self.ticket_list.current_row
        if row is None:
            return
        self.app.copy_to_clipboard(row.number)
        self.notify(f"Copied {row.number}", timeout=1.5)

    def action_quit(self) -> None:
        self.app.exit()

    # --- bulk actions ---------------------------------------------------------------------------

    def _targets(self) -> dict[int, QueueRow]:
        targets = self.ticket_list.marked_or_current()
        if not targets:
            self.notify("No ticket here.", severity="warning")
        return targets

    def bulk(
        self,
        question: str,
        targets: dict[int, QueueRow],
        each: bulk.Each,
        done: str,
        confirm: bool = True,
        default_no: bool = False,
    ) -> None:
        """Ask (stating the count), then run `each(tx, ticket_id, version)` per ticket, one transaction
        each, at the version the row was seen at. `default_no` focuses "No" (closing, deleting)."""
        if not targets:
            return

        def go(yes: bool | None) -> None:
            if yes:
                self._run_bulk(list(targets.values()), each, done)

        if confirm:
            self.app.push_screen(ConfirmScreen(question, _list_numbers(targets), default_no=default_no), go)
        else:
            go(True)

    def _run_bulk(self, rows: list[QueueRow], each: bulk.Each, done: str) -> None:
        ctx = self.ctx
        self._set_task(f"{done.lower()} {len(rows)}…")

        def work() -> None:
            try:
                result = bulk.run(ctx.engine, ctx.actor, rows, each)
            except Exception as exc:  # noqa: BLE001 - the database went away: say so
                self.app.call_from_thread(self._bulk_done, done, bulk.BulkResult((), (), (str(exc),)))
                return
            self.app.call_from_thread(self._bulk_done, done, result)

        self.run_worker(work, thread=True, group="bulk", exit_on_error=False)

    def _bulk_done(self, done: str, result: bulk.BulkResult) -> None:
        self._set_task("")
        ok = len(result.done)
        noun = "ticket" if ok == 1 else "tickets"
        if result.refused:
            parts = []
            if result.skipped:
                parts.append(f"skipped {len(result.skipped)} changed since you saw them")
            if result.failed:
                parts.append(f"{len(result.failed)} refused")
            shown = list(result.refused[:5])
            if len(result.refused) > 5:
                shown.append(f"and {len(result.refused) - 5} more")
            self.notify(
                f"{done} {ok} {noun}; {', '.join(parts)}:\n" + "\n".join(clean_line(t) for t in shown),
                severity="error" if not ok else "warning",
                timeout=10,
            )
        else:
            self.notify(f"{done} {ok} {noun}")
        self.ticket_list.clear_marks()
        self.data_changed()

    def _count_words(self, targets: dict[int, QueueRow]) -> str:
        if len(targets) == 1:
            return next(iter(targets.values())).number
        return f"{len(targets)} tickets"

    def action_assign(self) -> None:
        from tui_helpdesk.services import tickets  # the write services load on first use, not at start

        targets = self._targets()
        if not targets:
            return

        def chosen(agent: str | None) -> None:
            if agent:
                self.bulk(
                    f"Assign {self._count_words(targets)} to {agent}?",
                    targets,
                    lambda tx, tid, v: tickets.assign(tx, tid, agent, expected_version=v),
                    "Assigned",
                )

        source = _values(self.ctx.engine, "assignee", drop=("me", "none"))
        self.app.push_screen(PickScreen("Assign to agent", source), chosen)

    def action_assign_me(self) -> None:
        from tui_helpdesk.services import tickets  # the write services load on first use, not at start

        targets = self._targets()
        self.bulk(
            f"Assign {self._count_words(targets)} to you?",
            targets,
            lambda tx, tid, v: tickets.assign_to_me(tx, tid, expected_version=v),
            "Assigned",
            confirm=len(targets) > 1,
        )

    def action_set_status(self) -> None:
        from tui_helpdesk.services import tickets  # the write services load on first use, not at start

        targets = self._targets()
        if not targets:
            return

        def chosen(status: str | None) -> None:
            if status:
                self.bulk(
                    f"Set {self._count_words(targets)} to {status}?",
                    targets,
                    lambda tx, tid, v: tickets.set_status(tx, tid, status, expected_version=v),
                    f"Set to {status}:",
                )

        self.app.push_screen(PickScreen("Set status", _values(self.ctx.engine, "status")), chosen)

    def action_resolve(self) -> None:
        from tui_helpdesk.services import tickets  # the write services load on first use, not at start

        targets = self._targets()
        self.bulk(
            f"Resolve {self._count_words(targets)}?",
            targets,
            lambda tx, tid, v: tickets.resolve(tx, tid, expected_version=v),
            "Resolved",
        )

    def action_close(self) -> None:
        from tui_helpdesk.services import tickets  # the write services load on first use, not at start

        targets = self._targets()
        self.bulk(
            f"Close {self._count_words(targets)}?",
            targets,
            lambda tx, tid, v: tickets.set_status(tx, tid, "closed", expected_version=v),
            "Closed",
            default_no=True,
        )

    def action_set_priority(self) -> None:
        from tui_helpdesk.services import tickets  # the write services load on first use, not at start

        targets = self._targets()
        if not targets:
            return

        def chosen(prio: str | None) -> None:
            if prio:
                self.bulk(
                    f"Set the priority of {self._count_words(targets)} to {prio}?",
                    targets,
                    lambda tx, tid, v: tickets.update_fields(
                        tx, tid, {"priority": prio}, reason=BULK_REASON, expected_version=v
                    ),
                    f"Priority {prio}:",
                )

        self.app.push_screen(PickScreen("Set priority", _values(self.ctx.engine, "prio")), chosen)

    def action_transfer(self) -> None:
        from tui_helpdesk.services import tickets  # the write services load on first use, not at start

        targets = self._targets()
        if not targets:
            return

        def chosen(dept: str | None) -> None:
            if dept:
                self.bulk(
                    f"Move {self._count_words(targets)} to {dept}?",
                    targets,
                    lambda tx, tid, v: tickets.transfer(tx, tid, dept, reason=BULK_REASON, expected_version=v),
                    f"Moved to {dept}:",
                )

        engine = self.ctx.engine

        def active(prefix: str) -> list[str]:
            # a ticket moves to an active department only: archived ones stay filterable, not offered here
            return [c.name for c in choices.departments(engine) if prefix.lower() in c.name.lower()]

        self.app.push_screen(PickScreen("Move to department", active), chosen)

    def action_tag(self) -> None:
        from tui_helpdesk.services import tickets  # the write services load on first use, not at start

        targets = self._targets()
        if not targets:
            return

        def each(tag: str) -> bulk.Each:
            def run(tx: Tx, tid: int, version: int) -> Any:
                current = tickets.view(tx, tid, events=False).tags
                return tickets.set_tags(tx, tid, [*current, tag], expected_version=version)

            return run

        def chosen(tag: str | None) -> None:
            if tag:
                self.bulk(
                    f"Tag {self._count_words(targets)} with {tag}?", targets, each(tag), f"Tagged {tag}:"
                )

        self.app.push_screen(PickScreen("Add tag", _values(self.ctx.engine, "tag"), free_text=True), chosen)

    def action_link(self) -> None:
        from tui_helpdesk.services import links  # loaded on first use, not at start

        targets = self._targets()
        if not targets:
            return

        def chosen(other: str | None) -> None:
            if other:
                self.bulk(
                    f"Link {self._count_words(targets)} to {other}?",
                    targets,
                    lambda tx, tid, v: links.link(tx, tid, other, expected_version=v),
                    f"Linked to {other}:",
                )

        self.app.push_screen(PromptScreen("Link to ticket (number)", placeholder="TCK-1042"), chosen)

    def action_merge(self) -> None:
        """Merge the marked tickets into the ticket under the cursor."""
        from tui_helpdesk.services import links  # loaded on first use, not at start

        tl = self.ticket_list
        parent = tl.current_row
        children = {k: v for k, v in tl.marked.items() if parent is None or k != parent.id}
        if parent is None or not children:
            self.notify(
                "Mark the tickets to merge, then put the cursor on the one they go into.", severity="warning"
            )
            return
        ctx = self.ctx

        def go(yes: bool | None) -> None:
            if not yes:
                return

            def work() -> None:
                try:
                    door.write(
                        ctx.engine, ctx.actor, links.merge, parent.id, list(children), expected_version=parent.version
                    )
                except StaleVersion as exc:
                    result = bulk.BulkResult((), (bulk.stale_reason(parent.number, exc),), ())
                    self.app.call_from_thread(self._bulk_done, "Merged", result)
                    return
                except ServiceError as exc:
                    self.app.call_from_thread(self._bulk_done, "Merged", bulk.BulkResult((), (), (str(exc),)))
                    return
                merged = tuple(r.number for r in children.values())
                self.app.call_from_thread(
                    self._bulk_done, f"Merged into {parent.number}:", bulk.BulkResult(merged, (), ())
                )

            self.run_worker(work, thread=True, group="bulk", exit_on_error=False)

        noun = "ticket" if len(children) == 1 else "tickets"
        self.app.push_screen(
            ConfirmScreen(f"Merge {len(children)} {noun} into {parent.number}?", _list_numbers(children)), go
        )

    # --- palette support ------------------------------------------------------------------------

    def palette_commands(self) -> list[tuple[str, str, Callable[[], Any]]]:
        """Commands with no key of their own (the palette lists the bound ones from the bindings)."""
        cmds: list[tuple[str, str, Callable[[], Any]]] = [
            ("Open ticket by number…", ":1042", lambda: self.filter_line.open("command", "")),
            ("Delete a saved view…", ":unsave NAME", lambda: self.filter_line.open("command", "unsave ")),
        ]
        if self.ctx.actor.is_admin:
            cmds.append(
                ("Share the view…", ":share NAME", lambda: self.filter_line.open("command", "share "))
            )
        cmds.append(
            (
                f"Bell on new work: turn {'off' if self.bell_on else 'on'}",
                ":bell on|off",
                lambda: self.set_bell(not self.bell_on),
            )
        )
        for sort in SORTS:
            cmds.append((f"Sort by {sort}", f":sort {sort}", lambda s=sort: self.set_sort(s)))
        for e in self.sidebar.entries:
            cmds.append((f"View: {clean_line(e.label)}", "", lambda k=e.key: self.choose_view(k)))
        return cmds


def _builtin_filter(entry: ViewEntry) -> str:
    """The filter line that means the same as a built-in view (so it can be saved as a view)."""
    if entry.kind == "dept":
        return f'dept:"{entry.label}" state:new,open'
    return {
        "mine": "assignee:me state:new,open,pending",
        "unassigned": "assignee:none state:new,open",
        "open": "state:new,open",
        "pending": "state:pending",
        "overdue": "is:overdue state:new,open,pending",
        "resolved": "state:resolved",
        "all": "",
    }.get(entry.ident, "")


# The view a new ticket's words name: the most specific one it is in (the agent's own, then saved views,
# then departments), not "All", which holds every ticket.
_SPECIFIC = ("builtin:mine", "view:", "builtin:unassigned", "dept:", "builtin:overdue", "builtin:pending",
             "builtin:open", "builtin:resolved", "builtin:all")  # fmt: skip


def _specific_first(key: str) -> int:
    return next((i for i, prefix in enumerate(_SPECIFIC) if key.startswith(prefix)), len(_SPECIFIC))


def _shortest_fitting(text: str, room: int) -> str:
    """`text`, else without its "(HH:MM)" stamp, else without the "worker: " prefix too."""
    for candidate in (text, _STAMP.sub("", text), _STAMP.sub("", text).removeprefix("worker: ")):
        if len(candidate) <= room:
            return candidate
    return candidate


_STAMP = re.compile(r" \(\d\d:\d\d\)$")


def _ids_of(news: arrivals.News, numbers: tuple[str, ...]) -> set[int]:
    return {i for i, n in news.numbers.items() if n in numbers}


def _list_numbers(targets: dict[int, QueueRow], limit: int = 8) -> str:
    numbers = [r.number for r in targets.values()]
    text = ", ".join(numbers[:limit])
    if len(numbers) > limit:
        text += f" and {len(numbers) - limit} more"
    return text


def _csv_safe(value: str) -> str:
    # A cell starting with = + - @ runs as a formula in spreadsheets (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
