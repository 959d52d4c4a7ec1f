"""The ticket: header fields, the thread, the composer, and every action on a ticket from the keyboard.

Contract with whoever pushes this screen (the queue):
- `TicketScreen(ticket_id, queue_ids=None, triage=False, terms=())`; ids are ticket ids, not numbers;
  `terms` are the queue's search words (services.search.terms), marked in the thread.
- It dismisses with None when the agent goes back (Esc / q), and with `("next", ticket_id)` when
  the agent moves on in `queue_ids`: in triage mode after an action that finishes with a ticket
  (reply sent, status set, resolved, reopened, assigned, released, transferred, merged, archived),
  and in any mode with `]` (next) or `[` (previous; the value is still ("next", id): "open this
  id now"). The pusher opens a new TicketScreen for that id with the same queue_ids and triage.
  At the end of queue_ids it stays on the ticket and says so.

Every database call runs in a thread worker with its own session; results come back as messages.
Writes pass the version the agent saw, so a change made meanwhile by someone else is refused
(Conflict) instead of overwritten; the agent is offered a reload and keeps any draft.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import events, work
from textual._context import NoActiveAppError
from textual.app import ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from tui_helpdesk import clock
from tui_helpdesk.resources import stylesheet
from tui_helpdesk.services import (
    attachments,
    choices,
    door,
    drafts,
    links,
    presence,
    tasks,
    ticket_page,
    tickets,
)
from tui_helpdesk.services.choices import Choice
from tui_helpdesk.services.context import Actor, Tx
from tui_helpdesk.services.errors import Conflict, ServiceError
from tui_helpdesk.services.links import LINK_KINDS
from tui_helpdesk.services.lookup import EMAIL_RE
from tui_helpdesk.services.presence import Seen
from tui_helpdesk.services.ticket_view import Cursor, ThreadItem, ThreadPage, TicketDetail, cursor_of
from tui_helpdesk.tui import markdown
from tui_helpdesk.tui.context import AppContext, ctx_of
from tui_helpdesk.tui.paint_hold import PaintHold
from tui_helpdesk.tui.widgets.composer import ComposerScreen, Draft
from tui_helpdesk.tui.widgets.header_fields import HeaderFields, edit_custom, edit_items
from tui_helpdesk.tui.widgets.key_footer import KeyFooter
from tui_helpdesk.tui.widgets.pickers import (
    ChoiceScreen,
    ConfirmScreen,
    PickerScreen,
    PickItem,
    PromptScreen,
    TextScreen,
)
from tui_helpdesk.tui.widgets.thread import ThreadView
from tui_helpdesk.untrusted import clean_line

STYLES = stylesheet("ticket.tcss")
POLL_SECONDS = 3.0
# how long the app's repaints wait for a ticket being opened: longer reads show the screen loading
HOLD_SECONDS = 0.15
HEARTBEAT_SECONDS = 30.0
NONE = object()  # the "(none)" choice in pickers of optional fields


def _b(key: str, action: str, description: str, bid: str, show: bool = True) -> Binding:
    return Binding(key, action, description, show=show, id=f"ticket.{bid}")


TICKET_BINDINGS: list[Binding] = [
    _b("escape,q", "back", "Back", "back"),
    _b("r", "compose('reply')", "Reply", "reply"),
    _b("n", "compose('note')", "Note", "note"),
    _b("e", "edit_field", "Edit", "edit"),
    _b("s", "set_status", "Status", "status"),
    _b("x", "resolve", "Resolve", "resolve"),
    _b("a", "assign", "Assign", "assign"),
    _b("A", "assign_me", "Take", "assign_me"),
    _b("E", "toggle_events", "Events", "events"),
    _b("R", "release", "Release", "release", show=False),
    _b("T", "transfer", "Transfer", "transfer", show=False),
    _b("l", "links", "Links", "link", show=False),
    _b("u", "requester_page", "Requester's page", "requester", show=False),
    _b("O", "organization_page", "Organization's page", "organization", show=False),
    _b("m", "merge", "Merge", "merge", show=False),
    _b("t", "tags", "Tags", "tags", show=False),
    _b("o", "reopen", "Reopen", "reopen", show=False),
    _b("X", "archive", "Archive/restore", "archive", show=False),
    _b("c", "add_cc", "Add CC", "cc", show=False),
    _b("L", "log_time", "Log time", "time", show=False),
    _b("H", "time_entries", "Time entries", "time_entries", show=False),
    _b("w", "tasks", "Tasks", "tasks", show=False),
    _b("D", "delete_entry", "Delete entry", "delete_entry", show=False),
    _b("ctrl+e", "edit_entry", "Edit entry", "edit_entry", show=False),
    _b("F", "full_original", "Full original", "full", show=False),
    _b("S", "save_attachment", "Save attachment", "save_attachment", show=False),
    _b("enter", "view_attachment", "View attachment", "view_attachment", show=False),
    _b("y", "copy_number", "Copy number", "copy", show=False),
    _b("right_square_bracket", "step(1)", "Next ticket", "next", show=False),
    _b("left_square_bracket", "step(-1)", "Previous ticket", "prev", show=False),
    _b("f5,ctrl+l", "reload", "Reload", "reload", show=False),
]


class TicketCommands(Provider):
    """Every ticket action in the command palette, with its key beside it."""

    def _commands(self) -> list[tuple[str, str, str]]:
        out = []
        for b in TICKET_BINDINGS:
            key = b.key.split(",")[0].replace("right_square_bracket", "]").replace("left_square_bracket", "[")
            out.append((f"Ticket: {b.description}", b.action, key))
        return out

    async def discover(self) -> Hits:
        for title, action, key in self._commands():
            yield DiscoveryHit(f"{title}  ({key})", self._runner(action))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action, key in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(f"{title}  ({key})"), self._runner(action))

    def _runner(self, action: str) -> Callable[[], Any]:
        screen = self.screen

        async def run() -> None:
            await screen.run_action(action)

        return run


class TicketScreen(Screen[tuple[str, int] | None]):
    """One ticket. See the module docstring for the dismiss contract."""

    BINDINGS = TICKET_BINDINGS
    COMMANDS = {TicketCommands}
    CSS_PATH = STYLES

    class Loaded(Message):
        def __init__(
            self,
            detail: TicketDetail,
            seen: list[Seen],
            statuses: list[Choice],
            counter: int,
            thread: ThreadPage | None = None,
            drafts: Sequence[Any] | None = None,
            drafts_error: str = "",
        ) -> None:
            super().__init__()
            self.detail = detail
            self.thread = thread or ThreadPage(detail.thread, 0)
            self.seen = seen
            self.statuses = statuses
            self.counter = counter
            self.drafts = drafts  # the kept drafts, read with the ticket the first time (None: not read)
            self.drafts_error = drafts_error

    class EarlierLoaded(Message):
        def __init__(self, ticket_id: int, page: ThreadPage) -> None:
            super().__init__()
            self.ticket_id = ticket_id
            self.page = page

    class LoadFailed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    class Done(Message):
        """A write committed."""

        def __init__(self, label: str, note: str, advance: bool) -> None:
            super().__init__()
            self.label = label
            self.note = note
            self.advance = advance

    class Failed(Message):
        """A write was refused; nothing changed."""

        def __init__(
            self,
            label: str,
            error: str,
            conflict: bool,
            draft: Draft | None = None,
            shows: tuple[tuple[str, str], ...] = (),
            attempted: str = "",
        ) -> None:
            super().__init__()
            self.label = label
            self.error = error
            self.conflict = conflict
            self.draft = draft
            self.shows = shows
            self.attempted = attempted

    class PresenceSeen(Message):
        def __init__(self, seen: list[Seen]) -> None:
            super().__init__()
            self.seen = seen

    def __init__(
        self,
        ticket_id: int,
        queue_ids: list[int] | None = None,
        triage: bool = False,
        terms: Sequence[str] = (),
        compose: str | None = None,
    ) -> None:
        super().__init__()
        self.compose_on_load = compose  # "reply" | "note": open the composer (with its kept draft) once loaded
        self.ticket_id = ticket_id
        self.terms = tuple(terms)  # the queue's search words, marked in the thread
        self.queue_ids = list(queue_ids or [])
        self.triage = triage
        self.detail: TicketDetail | None = None
        self.seen: list[Seen] = []
        self.statuses: list[Choice] = []
        self.show_events = True
        # the thread as loaded so far: the newest pages; `earlier` items before them are not read yet
        self.thread_items: list[ThreadItem] = []
        self.earlier = 0
        self.counter = -1
        self.activity = "viewing"
        self._pending_draft: tuple[Draft, str] | None = None
        # kind -> the agent's unsent draft here (services/drafts keeps it; read when the ticket opens)
        self.kept_drafts: dict[str, Draft] = {}
        self._drafts_read = False  # asked for
        self._drafts_known = False  # answered: before that, r / n wait rather than open an empty composer
        # Presence writes run on worker threads; this lock orders them against the clearing in
        # on_unmount, and `_left` turns any mark that arrives after the clearing into nothing.
        self._presence_lock = threading.Lock()
        self._left = False
        self._presence_of: tuple[Any, Actor] | None = None  # (engine, actor), set on mount
        self._hold: PaintHold | None = None  # the app's repaints wait for the ticket (see _load_early)
        self._skipped_paint = False  # a frame was not rendered while held (see _compositor_refresh)
        self._presence_started = False  # see _first_presence
        self._resumed = False  # see _on_screen_resume
        self._loading_early = self._load_early()

    def _load_early(self) -> bool:
        """Read the ticket now, while Textual reads the stylesheet and mounts the screen, and hold the
        app's repaints until it is here (HOLD_SECONDS at most): the first layout and paint are then the
        ticket's, not an empty screen's laid out and painted only to be done again a moment later."""
        try:
            app, ctx = self.app, self._ctx
        except NoActiveAppError:  # made outside a running app: on_mount reads it
            return False
        self._load(ctx, None, ticket_page.PAGE)
        _add_stylesheet(app)
        self._hold = PaintHold(self, HOLD_SECONDS)
        return True

    def _release(self) -> None:
        """Let the app repaint again (the ticket arrived, failed to, or the screen is gone); once. When the
        wait is long enough, the hold ends by itself and the screen paints what it has."""
        if self._hold is not None and self._hold.release() and self._skipped_paint:
            self._skipped_paint = False
            self.refresh()  # the frame skipped while held; usually the ticket's own layout paints first

    def _compositor_refresh(self) -> None:
        # Textual's layout under a held batch still renders the whole screen a tick later, and the app
        # then throws that frame away (its display is held too): the empty screen's, before the ticket
        # came, cost ~15 ms CPU of an open. The dirty regions stay with the compositor for the next frame.
        if self._hold is not None and self._hold.held:
            self._skipped_paint = True
            return
        super()._compositor_refresh()

    # --- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield HeaderFields(id="ticket-header")
        yield ThreadView(id="ticket-thread")
        yield Static("", id="ticket-message")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#ticket-message", Static).display = False
        thread = self.query_one(ThreadView)
        if self.terms:
            thread.set_terms(self.terms)
        thread.focus()
        ctx = self._ctx
        # kept here: after unmount the screen has no app to ask, and a late heartbeat must not crash
        if ctx.actor.agent_id is not None:
            self._presence_of = (ctx.engine, ctx.actor)
        if not self._loading_early:
            self.load()
        if self.triage:  # on the line only: a toast on every ticket would repeat it
            line = self.query_one("#ticket-message", Static)
            line.update(Text(f"triage: {self.triage_left()} left; an action that finishes opens the next",
                             style="bold"))
            line.display = True
        self.set_interval(POLL_SECONDS, self._poll)
        self.set_interval(HEARTBEAT_SECONDS, lambda: self._presence_mark(self.activity))

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual calls Screen's own handler after this one (handlers run down the MRO), and it restyles the
        # whole screen. The first resume comes a tick after the mount, which styled every node (and each
        # component class) with the sheets of now: restyling them again was 17 of the 43 stylings of
        # opening a ticket. Later resumes (back from a dialog, a theme change) restyle as usual.
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False

    def on_unmount(self) -> None:
        self._release()
        self.leave()

    def leave(self) -> None:
        """Clear this agent's presence on the ticket, now and for good (a late heartbeat writes nothing).

        Synchronous on purpose: when the screen is gone the row is gone, so colleagues are never told
        "Sam is replying" about a ticket Sam closed, and nothing is left running to race with it. It
        waits only for a presence write already under way (one small row).
        """
        with self._presence_lock:
            if self._left:
                return
            self._left = True
            if self._presence_of is not None:
                engine, actor = self._presence_of
                _quietly(presence.clear, engine, actor, self.ticket_id)

    @property
    def _ctx(self) -> AppContext:
        return ctx_of(self)

    @property
    def ref(self) -> str:
        """What services get: the number (unambiguous, unlike a bare id)."""
        assert self.detail is not None
        return self.detail.number

    def triage_left(self) -> int:
        """Tickets of the queue after this one (triage mode counts them down)."""
        if self.ticket_id not in self.queue_ids:
            return len(self.queue_ids)
        return len(self.queue_ids) - self.queue_ids.index(self.ticket_id) - 1

    def say(self, text: str, error: bool = False, toast: bool = True) -> None:
        """The message line under the thread (and a toast, so it is noticed, unless `toast` is False);
        in triage mode the line keeps the count of tickets left."""
        line = self.query_one("#ticket-message", Static)
        shown = Text(clean_line(text), style="bold red" if error else "green")
        if self.triage:
            shown.append(f"  │ triage: {self.triage_left()} left", style="bold")
        line.update(shown)
        line.display = True
        if toast:
            self.notify(clean_line(text), severity="error" if error else "information", timeout=6)

    # --- loading --------------------------------------------------------------------------------

    def load(self) -> None:
        """Read the ticket (again) off the UI thread; it comes back as Loaded (or LoadFailed)."""
        # a reload keeps as many items as the agent had scrolled back to, and the new ones
        items = max(ticket_page.PAGE, len(self.thread_items) + 10)
        self._load(self._ctx, self.detail.number if self.detail else None, items)

    @work(thread=True, exclusive=True, group="ticket-load")
    def _load(self, ctx: AppContext, number: str | None, items: int) -> None:
        # the kept drafts come with the first read (one transaction and worker, not two)
        with_drafts = not self._drafts_read
        try:
            page = door.read(ctx.engine, ctx.actor, ticket_page.load, self.ticket_id, number, items=items,
                             with_drafts=with_drafts)
        except ServiceError as exc:
            self.post_message(self.LoadFailed(str(exc)))
            return
        self.post_message(
            self.Loaded(page.detail, page.seen, self.statuses or page.statuses, page.counter, page.thread,
                        page.drafts, page.drafts_error)
        )

    def on_ticket_screen_loaded(self, message: Loaded) -> None:
        self.detail = message.detail
        self.ticket_id = message.detail.id
        self.seen = message.seen
        self.statuses = message.statuses
        self.counter = message.counter
        self.thread_items = list(message.thread.items)
        self.earlier = message.thread.earlier
        self.query_one(HeaderFields).show(message.detail, message.seen)
        self._show_thread()
        self._release()  # the next layout and paint show the ticket
        self._first_presence()
        if not self._drafts_read and message.drafts is not None:
            self._drafts_read = True
            if message.drafts_error:  # r / n must still open: with no kept draft, and why
                self.say(f"kept drafts not read: {message.drafts_error}", True)
            self._restore_drafts(list(message.drafts))
            return
        if not self._drafts_read:
            self._drafts_read = True
            number = message.detail.number

            def read_kept(ctx: AppContext) -> list[drafts.SavedDraft]:
                try:
                    return door.read(ctx.engine, ctx.actor, drafts.kept, number)
                except ServiceError as exc:  # r / n must still open: with no kept draft, and why
                    self.app.call_from_thread(self.say, f"kept drafts not read: {exc}", True)
                    return []

            self.fetch(read_kept, self._restore_drafts)
            return
        if self._pending_draft is not None:
            draft, notice = self._pending_draft
            self._pending_draft = None
            self._open_composer(draft, notice)

    def _restore_drafts(self, saved: list[drafts.SavedDraft]) -> None:
        """The drafts the agent left here (another run, another screen) come back on r / n."""
        self._drafts_known = True
        for d in saved:
            self.kept_drafts.setdefault(d.kind, Draft.from_saved(d))
        if self.compose_on_load and self.detail is not None:
            kind, self.compose_on_load = self.compose_on_load, None
            self.action_compose(kind)
            return
        if saved:
            keys = " and ".join(f"a {d.kind} ({'r' if d.kind == 'reply' else 'n'})" for d in saved)
            self.say(f"you left {keys} unsent here: the key opens it again", toast=False)

    def on_ticket_screen_load_failed(self, message: LoadFailed) -> None:
        self._release()
        self._first_presence()
        self.say(message.error, error=True)

    def _show_thread(self) -> None:
        assert self.detail is not None
        self.query_one(ThreadView).show(
            self.thread_items, ticket_id=self.detail.id, show_events=self.show_events, earlier=self.earlier
        )

    def on_thread_view_need_earlier(self, message: ThreadView.NeedEarlier) -> None:
        if self.detail is not None and self.thread_items:
            count = self.earlier if message.everything else ticket_page.PAGE
            self._load_earlier(self.detail.number, self.detail.id, cursor_of(self.thread_items[0]), count)

    @work(thread=True, exclusive=True, group="ticket-earlier")
    def _load_earlier(self, number: str, ticket_id: int, before: Cursor, count: int) -> None:
        ctx = self._ctx
        try:
            page = door.read(ctx.engine, ctx.actor, ticket_page.earlier, number, before, items=max(count, 1))
        except ServiceError as exc:
            self.post_message(self.LoadFailed(str(exc)))
            return
        self.post_message(self.EarlierLoaded(ticket_id, page))

    def on_ticket_screen_earlier_loaded(self, message: EarlierLoaded) -> None:
        if self.detail is None or message.ticket_id != self.detail.id:
            return
        self.thread_items[:0] = message.page.items
        self.earlier = message.page.earlier
        self.query_one(ThreadView).prepend(message.page.items, message.page.earlier)

    @work(thread=True, exclusive=True, group="ticket-poll")
    def _poll(self) -> None:
        """Another agent's (or the worker's) change shows without a keypress."""
        if self.detail is None:
            return
        ctx = self._ctx
        try:
            polled = door.read(ctx.engine, ctx.actor, ticket_page.poll, self.ticket_id)
        except Exception:  # a busy or vanished database: try again on the next tick
            return
        counter, seen = polled.counter, polled.seen
        if counter != self.counter:
            self.app.call_from_thread(self.load)
        else:
            self.post_message(self.PresenceSeen(seen))

    def on_ticket_screen_presence_seen(self, message: PresenceSeen) -> None:
        if message.seen != self.seen and self.detail is not None:
            self.seen = message.seen
            self.query_one(HeaderFields).show(self.detail, message.seen)

    def _first_presence(self) -> None:
        """"Viewing", once the ticket (or why it is not there) is painted: written on a worker thread while
        the screen was opening, it took CPU the open needed (~2-6 ms)."""
        if self._presence_started:
            return
        self._presence_started = True

        def mark() -> None:
            if not self._left and self.is_attached:
                self._presence_mark("viewing")

        self.call_after_refresh(mark)

    @work(thread=True, group="ticket-presence")
    def _presence_mark(self, activity: str) -> None:
        self.write_presence(activity)

    def write_presence(self, activity: str) -> None:
        """One presence heartbeat (on a worker thread); after `leave()` it writes nothing."""
        with self._presence_lock:
            if not self._left and self._presence_of is not None:
                engine, actor = self._presence_of
                _quietly(presence.mark, engine, actor, self.ticket_id, activity)

    def _set_activity(self, activity: str) -> None:
        self.activity = activity
        self._presence_mark(activity)

    # --- running writes -------------------------------------------------------------------------

    def act(
        self,
        label: str,
        fn: Callable[[Tx], Any],
        *,
        advance: bool = False,
        note: str = "",
        shows: Sequence[tuple[str, str]] = (),
        attempted: str = "",
    ) -> None:
        """Run a write in a thread worker (the services own its transaction); the outcome comes back
        as Done or Failed. `shows` names the fields (label, TicketDetail attribute) a refusal for a
        stale version shows as they are now, beside what the agent `attempted`."""
        if self.detail is None:
            return
        self._act(label, fn, advance, note or f"{label}: done", tuple(shows), attempted)

    @work(thread=True, group="ticket-act")
    def _act(
        self,
        label: str,
        fn: Callable[[Tx], Any],
        advance: bool,
        note: str,
        shows: tuple[tuple[str, str], ...],
        attempted: str,
    ) -> None:
        ctx = self._ctx
        try:
            door.write(ctx.engine, ctx.actor, fn)
        except Conflict as exc:
            self.post_message(self.Failed(label, str(exc), conflict=True, shows=shows, attempted=attempted))
        except ServiceError as exc:
            self.post_message(self.Failed(label, str(exc), conflict=False))
        else:
            self.post_message(self.Done(label, note, advance))

    def on_ticket_screen_done(self, message: Done) -> None:
        self.say(message.note)
        if message.advance and self.triage and self._advance(1, quiet_end=True):
            return
        self.load()

    def on_ticket_screen_failed(self, message: Failed) -> None:
        self.say(f"{message.label}: {message.error}", error=True)
        if message.draft is not None:
            # keep every word: reload, then reopen the composer with the draft
            notice = message.error + (
                "  (reloaded: read the new entries, then ctrl+s again)" if message.conflict else ""
            )
            self._pending_draft = (message.draft, notice)
            if message.conflict:
                self.load()
            else:
                self._open_composer(message.draft, notice)
                self._pending_draft = None
            return
        if message.conflict and self.detail is not None:
            ref = self.ref
            self.fetch(
                lambda ctx: door.read(ctx.engine, ctx.actor, tickets.view, ref, events=False),
                lambda fresh: self._offer_reload(message, fresh),
            )

    def _offer_reload(self, message: Failed, fresh: TicketDetail) -> None:
        """A stale write was refused: say who changed the ticket, show the fields as they are now."""
        lines = [clean_line(message.error)]
        now = [f"  {label}: {_shown(getattr(fresh, attr, ''))}" for label, attr in message.shows]
        if now:
            lines += ["", "Now:", *now]
        if message.attempted:
            lines.append(f"  yours, not saved: {clean_line(message.attempted)}")
        lines += ["", "Reload the ticket now?"]

        def answered(yes: bool | None) -> None:
            if yes:
                self.load()

        self.app.push_screen(ConfirmScreen("\n".join(lines), yes="Reload", no="Not now"), answered)

    def fetch(self, fn: Callable[[AppContext], Any], then: Callable[[Any], None]) -> None:
        """Read something (choices for a picker) off the UI thread, then continue with it."""
        self._fetch(fn, then)

    @work(thread=True, group="ticket-fetch")
    def _fetch(self, fn: Callable[[AppContext], Any], then: Callable[[Any], None]) -> None:
        try:
            result = fn(self._ctx)
        except ServiceError as exc:
            self.app.call_from_thread(self.say, str(exc), True)
            return
        self.app.call_from_thread(then, result)

    # --- helpers for dialogs --------------------------------------------------------------------

    def pick(
        self,
        title: str,
        items: Iterable[PickItem],
        then: Callable[[Any], None],
        *,
        current: Any = None,
        **kwargs: Any,
    ) -> None:
        def chosen(value: Any) -> None:
            if value is not None:
                then(value)

        self.app.push_screen(PickerScreen(title, list(items), current=current, **kwargs), chosen)

    def ask(self, title: str, then: Callable[[str], None], **kwargs: Any) -> None:
        def answered(value: str | None) -> None:
            if value is not None:
                then(value)

        self.app.push_screen(PromptScreen(title, **kwargs), answered)

    def confirm(self, message: str, then: Callable[[], None], yes: str = "Yes") -> None:
        def answered(ok: bool | None) -> None:
            if ok:
                then()

        self.app.push_screen(ConfirmScreen(message, yes=yes), answered)

    def ask_reason(self, what: str, then: Callable[[str], None], required: bool = True) -> None:
        self.ask(
            f"Why? ({what})",
            then,
            label="Reason",
            required=required,
            help_text="kept in the ticket's history",
        )

    @staticmethod
    def items(rows: Iterable[Choice], none: str | None = None) -> list[PickItem]:
        out = [PickItem(NONE, none)] if none else []
        return out + [PickItem(c.id, c.name, c.hint) for c in rows]

    # --- navigation -----------------------------------------------------------------------------

    def action_back(self) -> None:
        # kept drafts are in the database (services/drafts): leaving loses nothing
        self.dismiss(None)

    def _advance(self, step: int, quiet_end: bool = False) -> bool:
        """Dismiss with ("next", id) for the neighbour in queue_ids; False at either end."""
        if not self.queue_ids:
            if not quiet_end:
                self.say("opened on its own: there is no queue to move through", error=True)
            return False
        try:
            index = self.queue_ids.index(self.ticket_id) + step
        except ValueError:
            index = 0 if step > 0 else len(self.queue_ids) - 1
        if not 0 <= index < len(self.queue_ids):
            self.say("that was the last ticket in the queue" if step > 0 else "this is the first ticket")
            return False
        self.dismiss(("next", self.queue_ids[index]))
        return True

    def action_step(self, step: int) -> None:
        self._advance(step)

    def action_reload(self) -> None:
        self.load()

    def action_toggle_events(self) -> None:
        self.show_events = not self.show_events
        if self.detail is not None:
            self._show_thread()
        self.say("events shown" if self.show_events else "events hidden")

    def action_copy_number(self) -> None:
        if self.detail is not None:
            self.app.copy_to_clipboard(self.detail.number)
            self.say(f"copied {self.detail.number}")

    # --- composer -------------------------------------------------------------------------------

    def action_compose(self, kind: str) -> None:
        if self.detail is None:
            return
        if not self._drafts_known:
            # an empty composer now would save over the draft kept here once the agent typed
            self.compose_on_load = kind
            return
        kept = self.kept_drafts.pop(kind, None)
        if kept is not None:
            self._open_composer(kept, "your kept draft: ctrl+s sends it, esc keeps or discards it")
        else:
            self._open_composer(Draft(kind=kind))

    def _open_composer(self, draft: Draft, notice: str = "") -> None:
        assert self.detail is not None
        self._set_activity("replying" if draft.kind == "reply" else "noting")
        # what the agent has seen when they start writing: the send is checked against both
        seen_version, seen_entry = self.detail.version, self.detail.last_entry_id

        def finished(result: Draft | None) -> None:
            self._set_activity("viewing")
            if result is not None:
                self._send(result, seen_version, seen_entry)
            elif composer.left_draft is not None:
                self.kept_drafts[draft.kind] = composer.left_draft

        composer = ComposerScreen(
            self.detail, draft, self.statuses, notice=notice, room=self.make_room, thread=self.query_one(ThreadView)
        )
        self.app.push_screen(composer, finished)

    def make_room(self, right: int, bottom: int) -> None:
        """Leave room for the composer: `right` columns beside the thread, or `bottom` lines below it
        (then the header folds away: the composer's title names the ticket; the thread stays)."""
        if not self.is_attached:
            return  # the app is closing: nothing left to lay out
        self.styles.padding = (0, right, bottom, 0)
        for widget in self.query(HeaderFields):
            widget.display = bottom == 0
        for footer in self.query(KeyFooter):
            footer.display = bottom == 0  # the composer lists its own keys

    def _send(self, draft: Draft, version: int, seen_entry: int) -> None:
        assert self.detail is not None
        if draft.kind == "reply":
            self._check_crossed(draft, self.detail.number, version, seen_entry)
        else:
            self._send_worker(draft, self.detail.number, version)

    @work(thread=True, group="ticket-act")
    def _check_crossed(self, draft: Draft, ref: str, version: int, seen_entry: int) -> None:
        """Before a reply goes out: did someone else reply (or the customer write) since it was begun?"""
        ctx = self._ctx
        try:
            crossed = door.read(ctx.engine, ctx.actor, drafts.replies_since, ref, seen_entry)
        except ServiceError as exc:
            self.post_message(self.Failed("reply", str(exc), isinstance(exc, Conflict), draft))
            return
        if not crossed.entries:
            self._send_worker(draft, ref, version)
            return
        self.app.call_from_thread(self._ask_crossed, draft, ref, crossed)

    def _ask_crossed(self, draft: Draft, ref: str, crossed: drafts.Crossed) -> None:
        def answered(choice: str | None) -> None:
            if choice == "send":
                # the agent knows now: send against the ticket as it is (a later change still refuses)
                self._send_worker(draft, ref, crossed.version)
            elif choice == "review":
                self._keep_draft(draft)
                self.load()
                self.say("draft kept: read the new entries, then r to go on with your reply")
            else:
                self._keep_draft(draft)
                self.say("draft kept: r opens it again")

        question = f"{crossed.sentence(clock.now())}, after you began this reply."
        self.app.push_screen(
            ChoiceScreen(
                question,
                [("s", "send anyway", "send"), ("r", "review", "review"), ("d", "keep as draft", "draft")],
                cancel="draft",
            ),
            answered,
        )

    def _keep_draft(self, draft: Draft) -> None:
        """Put a draft aside here and in the database, so it survives leaving and quitting."""
        self.kept_drafts[draft.kind] = draft
        ref = self.ref
        self.fetch(lambda ctx: door.write(ctx.engine, ctx.actor, draft.keep_in, ref), lambda _: None)

    @work(thread=True, group="ticket-act")
    def _send_worker(self, draft: Draft, ref: str, version: int) -> None:
        ctx = self._ctx
        label = "reply" if draft.kind == "reply" else "note"
        try:
            drafts.send(
                ctx.engine,
                ctx.actor,
                ref,
                draft.kind,
                draft.body,
                expected_version=version,
                attachments_dir=ctx.config.attachments_dir,
                files=draft.attachments,
                time_spent=draft.time_spent,
                cc=draft.cc,
                status=draft.status_id,
                resolution_notes=draft.resolution_notes,
            )
        except ServiceError as exc:
            self.post_message(self.Failed(label, str(exc), isinstance(exc, Conflict), draft))
            return
        what = "reply sent" if draft.kind == "reply" else "note added"
        if draft.status_id is not None:
            name = next((s.name for s in self.statuses if s.id == draft.status_id), "")
            what += f", status {name}"
        # a note does not finish with a ticket; a reply does
        self.post_message(self.Done(label, what, advance=draft.kind == "reply"))

    # --- header actions -------------------------------------------------------------------------

    def action_set_status(self) -> None:
        if self.detail is None:
            return
        d = self.detail

        def chosen(status_id: int) -> None:
            state = next((s.hint for s in self.statuses if s.id == status_id), "")
            name = next((s.name for s in self.statuses if s.id == status_id), "")
            if state == "resolved":
                self.ask(
                    "Resolution notes",
                    lambda notes: self._status(status_id, name, notes.strip() or None, d.version),
                    label="Notes (optional)",
                    multiline=True,
                )
            else:
                self._status(status_id, name, None, d.version)

        self.pick(f"Status of {d.number}", self.items(self.statuses), chosen, current=d.status_id)

    def _status(self, status_id: int, name: str, notes: str | None, version: int) -> None:
        """`version` is the one the agent saw when the picker opened, not whatever a poll loaded since."""
        ref = self.ref
        self.act(
            "status",
            lambda tx: tickets.set_status(tx, ref, status_id, notes=notes, expected_version=version),
            advance=True,
            note=f"status set to {name}",
            shows=(("Status", "status"),),
            attempted=name,
        )

    def action_resolve(self) -> None:
        if self.detail is None:
            return
        ref, v = self.ref, self.detail.version
        self.ask(
            f"Resolve {ref}",
            lambda notes: self.act(
                "resolve",
                lambda tx: tickets.resolve(tx, ref, notes.strip() or None, expected_version=v),
                advance=True,
                note=f"{ref} resolved",
            ),
            label="Resolution notes (optional)",
            multiline=True,
        )

    def action_reopen(self) -> None:
        if self.detail is None:
            return
        ref, v = self.ref, self.detail.version
        self.ask_reason(
            "reopen",
            lambda reason: self.act(
                "reopen",
                lambda tx: tickets.reopen(tx, ref, reason=reason.strip(), expected_version=v),
                advance=True,
                note=f"{ref} reopened",
            ),
            required=False,
        )

    def action_assign(self) -> None:
        if self.detail is None:
            return
        d = self.detail

        def show(rows: tuple[list[Choice], list[Choice]]) -> None:
            agents, teams = rows
            items = [PickItem(("agent", a.id), a.name, f"agent · {a.hint}") for a in agents]
            items += [PickItem(("team", t.id), t.name, "team") for t in teams]
            self.pick(f"Assign {d.number} to", items, chosen, current=("agent", d.assignee_id))

        def chosen(value: tuple[str, int]) -> None:
            kind, ident = value
            ref, v = self.ref, d.version
            if kind == "agent":
                fn = lambda tx: tickets.assign(tx, ref, agent=ident, expected_version=v)  # noqa: E731
            else:
                fn = lambda tx: tickets.assign(tx, ref, team=ident, expected_version=v)  # noqa: E731
            self.act(
                "assign",
                fn,
                advance=True,
                note=f"{ref} assigned",
                shows=(("Assignee", "assignee"), ("Team", "team")),
            )

        self.fetch(lambda ctx: (choices.agents(ctx.engine), choices.teams(ctx.engine)), show)

    def action_assign_me(self) -> None:
        if self.detail is None:
            return
        ref, v = self.ref, self.detail.version
        self.act(
            "assign to me",
            lambda tx: tickets.assign_to_me(tx, ref, expected_version=v),
            advance=True,
            note=f"{ref} is yours",
        )

    def action_release(self) -> None:
        if self.detail is None:
            return
        ref, v = self.ref, self.detail.version
        if not (self.detail.assignee_id or self.detail.team_id):
            self.say(f"{ref} is not assigned", error=True)
            return
        self.ask_reason(
            "release the assignment",
            lambda reason: self.act(
                "release",
                lambda tx: tickets.release(tx, ref, reason, expected_version=v),
                advance=True,
                note=f"{ref} released",
            ),
        )

    def action_transfer(self) -> None:
        if self.detail is None:
            return
        d = self.detail

        def chosen(dept_id: int) -> None:
            ref, v = self.ref, d.version
            self.ask_reason(
                "transfer",
                lambda reason: self.act(
                    "transfer",
                    lambda tx: tickets.transfer(tx, ref, dept_id, reason=reason.strip(), expected_version=v),
                    advance=True,
                    note=f"{ref} transferred",
                    shows=(("Department", "department"),),
                ),
                required=False,
            )

        self.fetch(
            lambda ctx: choices.departments(ctx.engine),
            lambda rows: self.pick(
                f"Transfer {d.number} to", self.items(rows), chosen, current=d.department_id
            ),
        )

    def _search_tickets(self, exclude: int) -> Callable[[str], list[PickItem]]:
        ctx = self._ctx

        def search(text: str) -> list[PickItem]:
            rows = door.read(ctx.engine, ctx.actor, choices.tickets_matching, text, exclude_id=exclude)
            return [PickItem(r.name, r.name, r.hint) for r in rows]

        return search

    def action_link(self) -> None:
        if self.detail is None:
            return
        ref, v = self.ref, self.detail.version

        def kind_chosen(other: str, kind: str) -> None:
            self.act(
                "link",
                lambda tx: links.link(tx, ref, other, kind, expected_version=v),
                note=f"linked {ref} {kind} {other}",
            )

        def other_chosen(other: str) -> None:
            kinds = [
                PickItem(k, k.replace("_", " "), f"{ref} {k.replace('_', ' ')} {other}") for k in LINK_KINDS
            ]
            self.pick("Link type", kinds, lambda kind: kind_chosen(other, kind), current="related_to")

        self.pick(
            f"Link {ref} to…",
            [],
            other_chosen,
            search=self._search_tickets(self.detail.id),
            placeholder="number or words of the subject",
        )

    def action_time_entries(self) -> None:
        from tui_helpdesk.tui.screens.ticket_time import open_time

        open_time(self)

    def action_links(self) -> None:
        from tui_helpdesk.tui.screens.ticket_links import open_links

        open_links(self)

    def action_requester_page(self) -> None:
        from tui_helpdesk.tui.screens.client import ClientScreen

        if self.detail is not None and self.detail.contact_id is not None:
            self.app.push_screen(ClientScreen(contact_id=self.detail.contact_id))

    def action_organization_page(self) -> None:
        from tui_helpdesk.tui.screens.client import ClientScreen

        if self.detail is None:
            return
        if self.detail.organization_id is None:
            self.say(f"{self.detail.number} has no organization", error=True)
            return
        self.app.push_screen(ClientScreen(organization_id=self.detail.organization_id))

    def action_merge(self) -> None:
        if self.detail is None:
            return
        ref, v = self.ref, self.detail.version

        def other_chosen(child: str) -> None:
            self.confirm(
                f"Merge {child} into {ref}?\n\n{child} is closed and hidden from queues; its thread, requester "
                f"and CCs move to {ref}. This cannot be undone from the app.",
                lambda: self.act(
                    "merge",
                    lambda tx: links.merge(tx, ref, [child], expected_version=v),
                    advance=True,
                    note=f"{child} merged into {ref}",
                ),
                yes="Merge",
            )

        self.pick(
            f"Merge which ticket into {ref}?",
            [],
            other_chosen,
            search=self._search_tickets(self.detail.id),
            placeholder="number or words of the subject",
        )

    def action_tags(self) -> None:
        if self.detail is None:
            return
        ref, v = self.ref, self.detail.version

        def check(value: str) -> str | None:
            bad = [t for t in value.replace(",", " ").split() if len(t) > 60]
            return f"{bad[0][:20]}…: at most 60 characters" if bad else None

        self.ask(
            f"Tags of {ref}",
            lambda value: self.act(
                "tags",
                lambda tx: tickets.set_tags(tx, ref, value.replace(",", " ").split(), expected_version=v),
                note="tags saved",
                shows=(("Tags", "tags"),),
                attempted=value,
            ),
            label="Tags (space separated, the whole set)",
            value=" ".join(self.detail.tags),
            validate=check,
        )

    def action_archive(self) -> None:
        if self.detail is None:
            return
        ref, v = self.ref, self.detail.version
        if self.detail.archived:
            self.confirm(
                f"Restore {ref} to the queues?",
                lambda: self.act(
                    "restore", lambda tx: tickets.restore(tx, ref, expected_version=v), note=f"{ref} restored"
                ),
                yes="Restore",
            )
        else:
            self.confirm(
                f"Archive {ref}? It disappears from every queue until restored.",
                lambda: self.act(
                    "archive",
                    lambda tx: tickets.archive(tx, ref, expected_version=v),
                    advance=True,
                    note=f"{ref} archived",
                ),
                yes="Archive",
            )

    def action_add_cc(self) -> None:
        if self.detail is None:
            return
        ref, v = self.ref, self.detail.version
        current = list(self.detail.collaborators)

        def check(value: str) -> str | None:
            email = value.strip().lstrip("-").strip()
            return None if EMAIL_RE.match(email.lower()) else f"{email!r} is not an email address"

        def done(value: str) -> None:
            value = value.strip()
            if value.startswith("-"):
                email = value[1:].strip()
                self.confirm(
                    f"Remove {email} from the CC list of {ref}?",
                    lambda: self.act(
                        "remove CC",
                        lambda tx: tickets.remove_collaborator(tx, ref, email, expected_version=v),
                        note=f"{email} removed",
                    ),
                    yes="Remove",
                )
            else:
                self.act(
                    "add CC",
                    lambda tx: tickets.add_collaborator(tx, ref, value, expected_version=v),
                    note=f"{value} added as CC",
                    shows=(("CC", "collaborators"),),
                )

        hint = ("now: " + ", ".join(clean_line(c) for c in current)) if current else "no CCs yet"
        self.ask(f"CC on {ref}", done, label="Email (-email removes)", validate=check, help_text=hint)

    def action_log_time(self) -> None:
        if self.detail is None:
            return
        ref, v = self.ref, self.detail.version

        def check(value: str) -> str | None:
            return None if value.strip().isdigit() and int(value) > 0 else "minutes, a whole number above 0"

        self.ask(
            f"Log time on {ref}",
            lambda value: self.act(
                "log time",
                lambda tx: tickets.log_time(tx, ref, int(value), expected_version=v),
                note=f"{int(value)} min logged",
            ),
            label="Minutes",
            validate=check,
        )

    # --- tasks --------------------------------------------------------------------------------------

    def action_tasks(self) -> None:
        """Add a task, or close an open one (closing leaves an internal note and alerts the assignee)."""
        if self.detail is None:
            return
        v = self.detail.version
        open_tasks = [t for t in self.detail.tasks if t.closed_at is None]
        items = [PickItem("new", "New task…")] + [
            PickItem(t.id, f"Close: {clean_line(t.title)}", clean_line(t.assignee) or "unassigned")
            for t in open_tasks
        ]

        def chosen(value: Any) -> None:
            if value == "new":
                self._new_task()
            else:
                self.ask(
                    "Close the task",
                    lambda summary: self.act(
                        "close task",
                        lambda tx: tasks.close_task(tx, value, summary=summary, expected_version=v),
                        note="task closed",
                    ),
                    label="Summary (optional)",
                    help_text="added to the internal note on the ticket",
                )

        self.pick(f"Tasks on {self.ref}", items, chosen)

    def _new_task(self) -> None:
        """The task form checks each field as it is typed (the services' rules) and keeps the input."""
        from tui_helpdesk.tui.screens.task_form import TaskFormScreen

        assert self.detail is not None

        def saved(title: str | None) -> None:
            if title is not None:
                self.say(f"task added: {title}")
                self.load()

        self.app.push_screen(TaskFormScreen(self.ref, self.detail.version), saved)

    # --- edit a header field --------------------------------------------------------------------

    EDITABLE: tuple[tuple[str, str], ...] = (
        ("subject", "Subject"),
        ("requester", "Requester (email)"),
        ("organization", "Organization"),
        ("department", "Department (transfer)"),
        ("topic", "Help topic"),
        ("cti", "Category › Type › Item"),
        ("priority", "Priority"),
        ("status", "Status"),
        ("assignee", "Assignee / team"),
        ("sla", "SLA plan"),
        ("due", "Due date"),
        ("tags", "Tags"),
        ("collaborators", "CC"),
        ("links", "Links"),
        ("time", "Log time"),
    )

    def action_edit_field(self) -> None:
        if self.detail is None:
            return
        items = [PickItem(key, label) for key, label in self.EDITABLE] + edit_items(self.detail)
        d = self.detail
        self.pick(f"Edit which field of {d.number}?", items, lambda key: self._edit(key, d))

    # the fields a refused edit shows as they are now: change key -> (label, TicketDetail attribute)
    SHOWN: ClassVar[dict[str, tuple[str, str]]] = {
        "subject": ("Subject", "subject"),
        "contact": ("Requester", "requester_email"),
        "due_at": ("Due", "due_at"),
        "priority": ("Priority", "priority"),
        "topic": ("Help topic", "topic"),
        "organization": ("Organization", "organization"),
        "sla_plan": ("SLA plan", "sla_plan"),
        "category": ("Category", "category"),
        "type": ("Type", "type"),
        "item": ("Item", "item"),
    }

    def _update(self, changes: dict[str, Any], label: str, seen: TicketDetail, attempted: str = "") -> None:
        """Save a field edit against `seen`, the ticket as it was when the agent began the edit."""
        ref, v = seen.number, seen.version
        self.ask_reason(
            f"change {label}",
            lambda reason: self.act(
                f"edit {label}",
                lambda tx: tickets.update_fields(tx, ref, changes, reason=reason, expected_version=v),
                note=f"{label} changed",
                shows=tuple(self.SHOWN[k] for k in changes if k in self.SHOWN),
                attempted=attempted,
            ),
        )

    def _edit(self, key: str, d: TicketDetail) -> None:
        if edit_custom(self, key, d):  # the asset and the custom fields (widgets/header_fields.py)
            return
        redirect = {
            "department": self.action_transfer,
            "status": self.action_set_status,
            "assignee": self.action_assign,
            "tags": self.action_tags,
            "collaborators": self.action_add_cc,
            "links": self.action_link,
            "time": self.action_log_time,
        }
        if key in redirect:
            redirect[key]()
        elif key == "subject":
            self.ask(
                "Subject",
                lambda value: self._update({"subject": value.strip()}, "subject", d, value.strip()),
                label="Subject",
                value=d.subject,
                required=True,
            )
        elif key == "requester":
            self.ask(
                "Requester",
                lambda value: self._update({"contact": value.strip()}, "requester", d, value.strip()),
                label="Email",
                value=d.requester_email,
                validate=lambda v: None if EMAIL_RE.match(v.strip().lower()) else "not an email address",
            )
        elif key == "due":
            self.ask(
                "Due date",
                lambda value: self._update({"due_at": value.strip() or None}, "due date", d, value.strip()),
                label="UTC, YYYY-MM-DD HH:MM (empty clears)",
                value=d.due_at.strftime("%Y-%m-%d %H:%M") if d.due_at else "",
                validate=_check_datetime,
            )
        elif key == "cti":
            self.fetch(
                lambda ctx: choices.classifications(ctx.engine, "category", None),
                lambda rows: self._cti_category(rows, d),
            )
        else:
            loaders: dict[str, tuple[Callable[[AppContext], list[Choice]], str, str, Any]] = {
                "priority": (lambda ctx: choices.priorities(ctx.engine), "priority", "", d.priority_id),
                "topic": (lambda ctx: choices.topics(ctx.engine), "topic", "(no topic)", None),
                "organization": (
                    lambda ctx: choices.organizations(ctx.engine),
                    "organization",
                    "(none)",
                    d.organization_id,
                ),
                "sla": (lambda ctx: choices.sla_plans(ctx.engine), "sla_plan", "(no SLA)", None),
            }
            loader, field, none, current = loaders[key]

            names: dict[Any, str] = {}

            def chosen(value: Any) -> None:
                self._update(
                    {field: None if value is NONE else value}, field.replace("_", " "), d, names.get(value, "")
                )

            def show(rows: list[Choice]) -> None:
                names.update({c.id: c.name for c in rows})
                self.pick(
                    f"{field.replace('_', ' ').title()} of {d.number}",
                    self.items(rows, none or None),
                    chosen,
                    current=current,
                )

            self.fetch(loader, show)

    def _cti_category(self, rows: list[Choice], d: TicketDetail) -> None:
        """Category, then its types, then their items: each step may stop with "(none)"."""
        changes: dict[str, Any] = {}

        def step(kind: str, picked: Any) -> None:
            changes[kind] = None if picked is NONE else picked
            following = {"category": "type", "type": "item"}.get(kind)
            if picked is NONE or following is None:
                self._update(changes, "category/type/item", d)
                return
            self.fetch(
                lambda ctx: choices.classifications(ctx.engine, following, picked),
                lambda children: ask(following, children),
            )

        def ask(kind: str, options: list[Choice]) -> None:
            if not options:
                self._update(changes, "category/type/item", d)
                return
            self.pick(kind.title(), self.items(options, "(none)"), lambda v: step(kind, v))

        ask("category", rows)

    # --- thread entries -------------------------------------------------------------------------

    def _selected(self, kinds: tuple[str, ...] = ("message", "reply", "note")) -> ThreadItem | None:
        item = self.query_one(ThreadView).selected_item()
        if item is None or item.kind not in kinds:
            self.say("select an entry first (j/k)", error=True)
            return None
        if item.deleted:
            self.say("that entry was deleted", error=True)
            return None
        return item

    def action_delete_entry(self) -> None:
        item = self._selected()
        if item is None:
            return
        what = {"message": "customer message", "reply": "reply", "note": "note"}[item.kind]
        extra = " The customer already received it by email." if item.kind == "reply" else ""
        v = self.detail.version if self.detail else None
        self.confirm(
            f"Delete this {what} by {clean_line(item.author)}?{extra} Staff will see a placeholder.",
            lambda: self.act(
                "delete entry",
                lambda tx: tickets.delete_entry(tx, item.id, expected_version=v),
                note="entry deleted",
            ),
            yes="Delete",
        )

    def action_edit_entry(self) -> None:
        """Ask the service first whether this agent may edit the entry (its rule, its words), so
        nobody rewrites a colleague's reply only to be told no when saving."""
        item = self._selected()
        if item is None or self.detail is None:
            return
        v = self.detail.version

        def allowed(refusal: str | None) -> None:
            if refusal is not None:
                self.say(f"edit entry: {refusal}", error=True)
                return
            self.ask(
                "Edit entry",
                lambda body: self.act(
                    "edit entry",
                    lambda tx: tickets.edit_entry(tx, item.id, body, expected_version=v),
                    note="entry edited",
                ),
                label=f"{item.kind} by {clean_line(item.author)}",
                value=item.body,
                multiline=True,
                required=True,
            )

        self.fetch(lambda ctx: drafts.entry_edit_refusal(ctx.engine, ctx.actor, item.id), allowed)

    def action_full_original(self) -> None:
        item = self._selected(("message",))
        if item is None:
            return
        if not item.full_body:
            self.say("nothing was stripped from this message: what you see is all of it")
            return
        self.app.push_screen(
            TextScreen(f"Full original · {item.author}", markdown.render_plain(item.full_body))
        )

    def action_view_attachment(self) -> None:
        _view_attachments(self)

    def action_save_attachment(self) -> None:
        item = self._selected()
        if item is None:
            return
        if not item.attachments:
            self.say("this entry has no attachments", error=True)
            return

        def save_to(att_id: int, filename: str) -> None:
            default = str(Path.cwd() / filename)

            def write(dest: str) -> None:
                self.fetch(
                    lambda ctx: _save(ctx, att_id, Path(dest.strip())),
                    lambda path: self.say(f"saved to {path}"),
                )

            self.ask(
                f"Save {filename}", write, label="Save to (file or directory)", value=default, required=True
            )

        if len(item.attachments) == 1:
            a = item.attachments[0]
            save_to(a.id, clean_line(a.filename))
            return
        options = [
            PickItem((a.id, clean_line(a.filename)), a.filename, f"{a.size} bytes") for a in item.attachments
        ]
        self.pick("Save which attachment?", options, lambda v: save_to(*v))


def _view_attachments(screen: TicketScreen) -> None:
    """Enter: the selected entry's attachment in the viewer (a picker first when it has several)."""
    from tui_helpdesk.tui.screens.attachment import AttachmentScreen

    item = screen.query_one(ThreadView).selected_item()
    if item is None or item.kind == "event" or not item.attachments:
        screen.say("Enter views an attachment: select an entry that has one (j/k)", error=True)
        return
    if len(item.attachments) == 1:
        a = item.attachments[0]
        screen.app.push_screen(AttachmentScreen(a.id, a.filename))
        return
    options = [PickItem((a.id, a.filename), clean_line(a.filename), f"{a.size} bytes") for a in item.attachments]
    screen.pick("View which attachment?", options, lambda v: screen.app.push_screen(AttachmentScreen(*v)))


def _save(ctx: AppContext, attachment_id: int, dest: Path) -> Path:
    return door.read(ctx.engine, ctx.actor, attachments.save, attachment_id, dest, ctx.config.attachments_dir)


def _shown(value: Any) -> str:
    """A field's value as one clean line for a dialog."""
    if value is None or value == "" or value == ():
        return "(none)"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, tuple | list):
        return ", ".join(clean_line(str(v)) for v in value)
    return clean_line(str(value))


def _check_datetime(value: str) -> str | None:
    if not value.strip():
        return None
    from tui_helpdesk import clock

    try:
        clock.parse_iso(value.strip().replace(" ", "T"))
    except ValueError:
        return "use YYYY-MM-DD HH:MM (UTC)"
    return None


def _add_stylesheet(app: Any) -> None:
    """Add ticket.tcss to the app's stylesheet before the first ticket screen is mounted.

    Left to Textual (the screen's CSS_PATH, read as it is pushed), a new sheet makes it re-parse every
    source into a fresh stylesheet and restyle every node of the app, the queue's under the ticket
    included: ~30 ms of the first open in the app. Its rules only match the ticket screen's nodes and
    the composer's (opened from it), none of which exist yet, so the nodes styled as they mount are all
    it needs; Textual then finds the sheet already there. `parse` (its cache keeps the other sources')
    also renews the rule map, which `read` leaves as it was."""
    sheet = app.stylesheet
    if not sheet.has_source(str(STYLES), ""):
        sheet.read(STYLES)
        sheet.parse()


def _quietly(fn: Callable[..., Any], *args: Any) -> None:
    """Presence is a courtesy: a failure to record it must never disturb the agent."""
    try:
        fn(*args)
    except Exception:
        pass
