"""The queue's virtual list: renders only the rows on screen, pages them in from the database.

A DataTable holding every row takes 20 s at 100k tickets; this list holds a window of a few
hundred rows around the viewport, read with keyset queries in thread workers, and caches the
rendered lines (Toolong's LogLines is the pattern). Row `i` of the list is line `i + 1` of the
widget: line 0 is the column header, drawn at the top whatever the scroll position.

Positions are indexes into the whole list, known from count(). Keyset pages cannot be read at
an index, so the window grows from its edges; "jump to end" reads the last page directly and a
far scrollbar drag walks pages in a worker while placeholder rows are shown.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from sqlalchemy import Engine
from textual import events
from textual.binding import BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui_helpdesk import clock
from tui_helpdesk.services import door, queries
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.queries import Page, QueueRow, TicketQuery, cursor_of
from tui_helpdesk.tui.keymap import LIST_BINDINGS
from tui_helpdesk.tui.paint_hold import PaintHold
from tui_helpdesk.tui.widgets.columns import (
    COLUMNS,
    DEFAULT_COLUMNS,
    GAP,
    PREFIX,
    Layout,
    arrange,
    title_of,
)

try:
    from tui_helpdesk.untrusted import clean_line
except ImportError:  # pragma: no cover - the module is written in parallel; keep the list safe meanwhile
    import re

    _CTRL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

    def clean_line(text: str) -> str:
        return " ".join(_CTRL.sub("", text or "").split())


PAGE = 100  # rows per keyset read
# how long a new list's repaints wait for its first page: longer reads show the placeholders meanwhile
HOLD_SECONDS = 0.15
COUNT_LATEST = 0.5  # the total is counted this long after the rows at the latest (see _apply_initial)
MARGIN = 60  # rows kept loaded beyond each edge of the viewport
MAX_WINDOW = 1200  # rows held at most; the far side is dropped beyond this
WALK_PAGE = 1000  # rows per read while walking to a far position
MARK_ALL_LIMIT = 1000
_R = TypeVar("_R")


# The columns, their widths and the order they are dropped in live in columns.py (one place).
__all__ = ["COLUMNS", "DEFAULT_COLUMNS", "GAP", "PREFIX", "TicketList", "layout"]


def age(delta: timedelta) -> str:
    """A short duration: 45s, 12m, 5h, 3d, 7w, 4y."""
    secs = int(abs(delta.total_seconds()))
    for unit, size in (("y", 365 * 86400), ("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            return f"{secs // size}{unit}"
    return f"{secs}s"


def _style(color: str) -> Style:
    """Colours are admin data: a name Rich does not know must not break the list."""
    if not color:
        return Style()
    try:
        return Style.parse(color)
    except Exception:  # noqa: BLE001 - any parse failure means "no colour"
        return Style()


def layout(
    width: int, columns: tuple[str, ...], sort: str = "", natural: dict[str, int] | None = None
) -> list[tuple[str, int]]:
    """(column key, width) that fit in `width` cells (columns.arrange decides)."""
    return list(arrange(width, columns, sort, natural).cells)


# the text columns whose longest value on the loaded rows widens them (columns.arrange)
_MEASURED = ("number", "requester", "organization", "department", "status", "priority", "assignee")


def cell_text(row: QueueRow, key: str, now: datetime) -> str:
    if key == "number":
        return row.number
    if key == "subject":
        return clean_line(row.subject)
    if key == "requester":
        return clean_line(row.requester_name or row.requester_email)
    if key == "organization":
        return clean_line(row.organization_name)
    if key == "department":
        return clean_line(row.department_name)
    if key == "status":
        return clean_line(row.status_name)
    if key == "priority":
        return clean_line(row.priority_name)
    if key == "assignee":
        if row.assignee_name:
            return clean_line(row.assignee_name)
        return f"[{clean_line(row.team_name)}]" if row.team_name else "-"
    if key == "updated":
        return age(now - row.updated_at)
    if key == "due":
        if row.due_at is None or row.state in ("resolved", "closed"):
            return ""
        left = row.due_at - now
        if left.total_seconds() < 0:
            # pending waits on the customer: the clock is not the agent's, so no "-3d" to chase
            return "" if row.state == "pending" else "-" + age(left)
        return age(left)
    raise KeyError(key)


def export_text(row: QueueRow, key: str, now: datetime) -> str:
    """The value a CSV export writes: full dates rather than ages."""
    if key == "updated":
        return row.updated_at.isoformat()
    if key == "due":
        return row.due_at.isoformat() if row.due_at else ""
    if key == "assignee":
        return clean_line(row.assignee_name)
    return cell_text(row, key, now)


class TicketList(ScrollView, can_focus=True):
    """Rows of a TicketQuery; posts Highlighted when the cursor moves and Opened on Enter."""

    BINDINGS: ClassVar[list[BindingType]] = list(LIST_BINDINGS)

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "ticket-list--header",
        "ticket-list--cursor",
        "ticket-list--marked",
        "ticket-list--done",
        "ticket-list--overdue",
        "ticket-list--soon",
        "ticket-list--placeholder",
        "ticket-list--viewing",
        "ticket-list--replying",
        "ticket-list--reopened",
    }

    DEFAULT_CSS = """
    TicketList {
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
        & > .ticket-list--header { text-style: bold; background: $panel; color: $text-muted; }
        & > .ticket-list--cursor { background: $block-cursor-blurred-background; }
        &:focus > .ticket-list--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
        & > .ticket-list--marked { color: $warning; text-style: bold; }
        & > .ticket-list--done { color: $text-muted; }
        & > .ticket-list--overdue { color: $error; text-style: bold; }
        & > .ticket-list--soon { color: $warning; }
        & > .ticket-list--placeholder { color: $text-disabled; }
        & > .ticket-list--viewing { color: $warning; }
        & > .ticket-list--replying { color: $error; text-style: bold; }
        & > .ticket-list--reopened { color: $accent; text-style: bold; }
    }
    """

    class Highlighted(Message):
        def __init__(self, ticket_list: TicketList, row: QueueRow | None) -> None:
            super().__init__()
            self.ticket_list = ticket_list
            self.row = row

    class Opened(Message):
        def __init__(self, ticket_list: TicketList, row: QueueRow) -> None:
            super().__init__()
            self.ticket_list = ticket_list
            self.row = row

    class Changed(Message):
        """The total, the marks or the loading state changed (the status line redraws)."""

        def __init__(self, ticket_list: TicketList) -> None:
            super().__init__()
            self.ticket_list = ticket_list

    class Failed(Message):
        def __init__(self, ticket_list: TicketList, error: str) -> None:
            super().__init__()
            self.ticket_list = ticket_list
            self.error = error

    def __init__(self, engine: Engine, actor: Actor, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.engine = engine
        self.actor = actor  # every read lists what this actor may see (the services add the scope)
        self.query_: TicketQuery | None = None
        self.columns: tuple[str, ...] = DEFAULT_COLUMNS
        self.total = 0
        self.total_known = False
        self.cursor = 0
        # ticket id -> the row as it was when marked (its version goes with a bulk action)
        self.marked: dict[int, QueueRow] = {}
        self.presence: dict[int, Any] = {}  # ticket id -> presence.Seen
        self._win: list[QueueRow] = []
        self._win_start = 0
        self._at_start = True
        self._at_end = True
        self._gen = 0
        self._loading_fwd = False
        self._loading_back = False
        self._walking = False
        self._range_anchor: int | None = None
        self._now = clock.now()
        self._cache: LRUCache[tuple[Any, ...], Strip] = LRUCache(2000)
        self._last_highlight: int | None = None
        self._cursor_scrolling = False  # the cursor is scrolling the view: the view must not move it back
        self.loading_rows = False
        # longest value per text column on the rows loaded since the list was set (columns.arrange)
        self._natural: dict[str, int] = {}
        self._arranged: tuple[Any, Layout] | None = None
        self.hidden_columns: tuple[str, ...] = ()  # chosen but too wide to show (the status line says so)
        self.fetch_count = 0  # keyset reads issued (tests and benchmarks read it)
        self._base_style = Style()  # self.rich_style, as of this paint (render_lines)
        self._hold: PaintHold | None = None  # the app's repaints wait for a new list's rows (set_query)
        self._counted = -1  # the generation whose count was started (_count_after_paint)

    def _read(self, fn: Callable[..., _R], *args: Any, **kwargs: Any) -> _R:
        """One queue read for the actor, in its own read transaction (reads run in thread workers)."""
        return door.read(self.engine, self.actor, fn, *args, **kwargs)

    # --- public API ---------------------------------------------------------------------------

    def set_query(self, query: TicketQuery, *, keep_position: bool = False) -> None:
        """Show another list (new view, filter or sort): starts at the top unless told otherwise.

        From the top, the app's repaints wait for the first page (HOLD_SECONDS at most): the emptied list
        of placeholders was painted only to be painted again with the rows a moment later."""
        self.query_ = query
        if not keep_position:
            self._release_hold()
            if self.is_mounted and self.screen.is_current:
                self._hold = PaintHold(self, HOLD_SECONDS)
            self.cursor = 0
            self.scroll_to(y=0, animate=False, immediate=True)
            self.marked.clear()
            self._range_anchor = None
            self._natural = {}
        self._reset_window()
        self._load_initial(keep_position)

    def reload(self) -> None:
        """Re-read the rows around the viewport and the total (someone changed something)."""
        if self.query_ is None:
            return
        self._reset_window(keep_rows=True)
        self._load_initial(keep_position=True)

    def set_columns(self, columns: tuple[str, ...]) -> None:
        self.columns = tuple(c for c in columns if c in COLUMNS) or DEFAULT_COLUMNS
        self._cache.clear()
        self.refresh()

    def set_presence(self, presence: dict[int, Any]) -> None:
        if presence != self.presence:
            self.presence = presence
            self.refresh()

    @property
    def current_row(self) -> QueueRow | None:
        return self.row_at(self.cursor)

    def row_at(self, index: int) -> QueueRow | None:
        i = index - self._win_start
        if 0 <= i < len(self._win):
            return self._win[i]
        return None

    def loaded_rows(self) -> list[QueueRow]:
        return list(self._win)

    def visible_rows(self) -> list[QueueRow]:
        top = int(self.scroll_y)
        return [r for i in range(top, top + self._body_height()) if (r := self.row_at(i)) is not None]

    def loaded_ids(self) -> list[int]:
        """Ticket ids of the loaded window in the list's order (the ticket screen's `[`/`]` and triage)."""
        return [r.id for r in self._win]

    def marked_or_current(self) -> dict[int, QueueRow]:
        if self.marked:
            return dict(self.marked)
        row = self.current_row
        return {row.id: row} if row else {}

    def clear_marks(self) -> None:
        self.marked.clear()
        self._range_anchor = None
        self.refresh()
        self.post_message(self.Changed(self))

    def move_to(self, index: int) -> None:
        self._set_cursor(index)

    # --- window management --------------------------------------------------------------------

    def _reset_window(self, keep_rows: bool = False) -> None:
        self._gen += 1
        self._loading_fwd = self._loading_back = self._walking = False
        if not keep_rows:
            self._win = []
            self._win_start = 0
            self._at_start = self._at_end = False
        self._now = clock.now()
        self._cache.clear()

    def _body_height(self) -> int:
        return max(1, self.size.height - 1)

    def _load_initial(self, keep_position: bool) -> None:
        query, gen = self.query_, self._gen
        assert query is not None
        top = int(self.scroll_y) if keep_position else 0
        anchor = self.row_at(top - 1) if top > 0 else None
        if top > 0 and anchor is None:
            top = 0  # the rows above are gone: start over from the top
        after = cursor_of(anchor, query.sort) if anchor else None
        limit = max(PAGE, self._body_height() + MARGIN)
        keep_id = self.current_row.id if (keep_position and self.current_row) else None
        self.loading_rows = True

        def read() -> None:
            try:
                page = self._read(queries.fetch_page, query, after, limit)
            except Exception as exc:  # noqa: BLE001 - shown to the user, the app keeps running
                self.app.call_from_thread(self._failed, gen, exc)
                return
            self.app.call_from_thread(self._apply_initial, gen, page, top, keep_id)

        self.fetch_count += 1
        self.run_worker(read, thread=True, group="rows", exit_on_error=False)

    def _count_after_paint(self, gen: int) -> None:
        """The total is counted once the rows are painted (issue 11: counts never hold up a repaint).
        Read beside the page, the count took CPU the page and its paint needed, and its own repaint
        (the total, the scrollbar) often came before the rows."""
        query = self.query_
        if gen != self._gen or query is None or self._counted == gen:
            return
        self._counted = gen

        def count() -> None:
            try:
                n = self._read(queries.count, query)
            except Exception as exc:  # noqa: BLE001
                self.app.call_from_thread(self._failed, gen, exc)
                return
            self.app.call_from_thread(self._apply_count, gen, n)

        self.run_worker(count, thread=True, group="count", exit_on_error=False)

    def _release_hold(self) -> None:
        if self._hold is not None:
            self._hold.release()
            self._hold = None

    def on_unmount(self) -> None:
        self._release_hold()

    def _failed(self, gen: int, exc: Exception) -> None:
        if gen != self._gen:
            return
        self._release_hold()
        self.loading_rows = False
        self._loading_fwd = self._loading_back = self._walking = False
        self.post_message(self.Failed(self, str(exc)))

    def _apply_initial(self, gen: int, page: Page, top: int, keep_id: int | None) -> None:
        if gen != self._gen:
            return
        self.loading_rows = False
        self._win = list(page.rows)
        self._win_start = top
        self._at_start = top == 0
        self._at_end = page.at_end
        if page.at_end:
            self.total = top + len(page.rows)
            self.total_known = True
        self._update_number_width()
        follow = False
        if keep_id is not None:
            for i, r in enumerate(self._win):
                if r.id == keep_id:
                    self.cursor = top + i
                    follow = True
                    break
        self._after_window_change(follow_cursor=follow)
        self._release_hold()  # the rows are in: the next frame shows them
        if not page.at_end:  # else the rows are the total
            if self.screen.is_active:
                self.call_after_refresh(self._count_after_paint, gen)
                # Textual keeps that callback with the screen on top when it runs: one pushed meanwhile and
                # closed at once would take it along
                self.set_timer(COUNT_LATEST, lambda: self._count_after_paint(gen))
            else:
                self._count_after_paint(gen)  # beneath another screen: no paint of ours to wait for

    def _apply_count(self, gen: int, n: int) -> None:
        if gen != self._gen:
            return
        if self._at_end and self._win:
            n = self._win_start + len(self._win)  # what we hold is the truth at the end
        self.total = n
        self.total_known = True
        self._after_window_change()

    def _after_window_change(self, follow_cursor: bool = False) -> None:
        """Rows arrived. The view stays where the user put it (a far scroll or scrollbar drag is theirs,
        issue 11) unless the cursor itself moved (G, a reloaded ticket that moved)."""
        total = max(self.total, self._win_start + len(self._win))
        self.total = total
        self.virtual_size = Size(self.size.width, total + 1)
        if total == 0:
            self.cursor = 0
        elif self.cursor >= total:
            self.cursor = total - 1
            follow_cursor = True
        if follow_cursor:
            self._scroll_cursor_visible()
        else:
            self._cursor_into_view()
        self.refresh()
        self._ensure_loaded()
        self._highlight()
        self.post_message(self.Changed(self))

    def _update_number_width(self, rows: Any = None) -> None:
        """Measure the text columns of the rows read (the window by default): a column widens to its
        longest value when there is room."""
        natural = self._natural
        grew = False
        for row in self._win if rows is None else rows:
            for key in _MEASURED:
                n = cell_len(cell_text(row, key, self._now))
                if n > natural.get(key, 0):
                    natural[key] = n
                    grew = True
        if grew:
            self._cache.clear()
            self.refresh()

    def _ensure_loaded(self) -> None:
        """Start the reads that keep MARGIN rows loaded beyond both edges of the viewport."""
        if self.query_ is None or self.loading_rows or self._walking:
            return
        top = int(self.scroll_y)
        lo, hi = max(0, top - MARGIN), top + self._body_height() + MARGIN
        win_lo, win_hi = self._win_start, self._win_start + len(self._win)
        if not self._win:
            return
        if hi <= win_lo or lo >= win_hi:
            self._walk_to(top)
            return
        if hi > win_hi and not self._at_end and not self._loading_fwd:
            self._fetch_edge(forward=True)
        if lo < win_lo and not self._at_start and not self._loading_back:
            self._fetch_edge(forward=False)

    def _fetch_edge(self, forward: bool) -> None:
        query, gen = self.query_, self._gen
        assert query is not None
        edge = self._win[-1] if forward else self._win[0]
        after = cursor_of(edge, query.sort)
        if forward:
            self._loading_fwd = True
        else:
            self._loading_back = True
        self.fetch_count += 1

        def read() -> None:
            try:
                page = self._read(queries.fetch_page, query, after, PAGE, backward=not forward)
            except Exception as exc:  # noqa: BLE001
                self.app.call_from_thread(self._failed, gen, exc)
                return
            self.app.call_from_thread(self._apply_edge, gen, page, forward, edge.id)

        self.run_worker(read, thread=True, group="fwd" if forward else "back", exit_on_error=False)

    def _apply_edge(self, gen: int, page: Page, forward: bool, edge_id: int) -> None:
        if gen != self._gen:
            return
        if forward:
            self._loading_fwd = False
            if not self._win or self._win[-1].id != edge_id:
                self._ensure_loaded()  # the window moved meanwhile: ask again from its new edge
                return
            seen = {r.id for r in self._win}
            self._win.extend(r for r in page.rows if r.id not in seen)
            self._at_end = page.at_end
        else:
            self._loading_back = False
            if not self._win or self._win[0].id != edge_id:
                self._ensure_loaded()
                return
            seen = {r.id for r in self._win}
            rows = [r for r in page.rows if r.id not in seen]
            self._win[:0] = rows
            self._win_start -= len(rows)
            self._at_start = page.at_start
            if self._win_start < 0 or (self._at_start and self._win_start != 0):
                # the count was stale: re-base so the first row is row 0
                shift = -self._win_start
                self._win_start = 0
                self.cursor = max(0, self.cursor + shift)
                self._scroll_to_row(max(0, int(self.scroll_y) + shift))
        if self._at_end:
            self.total = self._win_start + len(self._win)
        self._trim()
        self._update_number_width(page.rows)
        self._after_window_change()

    def _trim(self) -> None:
        excess = len(self._win) - MAX_WINDOW
        if excess <= 0:
            return
        top = int(self.scroll_y)
        centre = top + self._body_height() // 2 - self._win_start
        if centre > len(self._win) // 2:
            del self._win[:excess]
            self._win_start += excess
            self._at_start = False
        else:
            del self._win[-excess:]
            self._at_end = False

    def _walk_to(self, top: int) -> None:
        """Read pages until the window holds `top` (a far scrollbar drag)."""
        query, gen = self.query_, self._gen
        assert query is not None
        total = self.total
        from_end = total - top
        want = self._body_height() + MARGIN
        if from_end <= want + PAGE or top >= total:
            self.jump_end(move_cursor=False)
            return
        win_hi = self._win_start + len(self._win)
        start_row = self._win[-1] if self._win and top >= win_hi else None
        start_index = win_hi if start_row else 0
        backward = from_end < top - start_index
        self._walking = True
        self.fetch_count += 1

        def walk() -> None:
            try:
                if backward:
                    page = self._read(queries.fetch_last_page, query, WALK_PAGE)
                    index = total - len(page.rows)
                    while index > top and not page.at_start and page.prev is not None:
                        if gen != self._gen:
                            return
                        page = self._read(queries.fetch_page, query, page.prev, WALK_PAGE, backward=True)
                        index -= len(page.rows)
                    index = max(0, index)
                else:
                    after = cursor_of(start_row, query.sort) if start_row else None
                    page = self._read(queries.fetch_page, query, after, WALK_PAGE)
                    index = start_index
                    while index + len(page.rows) <= top and not page.at_end and page.next is not None:
                        if gen != self._gen:
                            return
                        index += len(page.rows)
                        page = self._read(queries.fetch_page, query, page.next, WALK_PAGE)
            except Exception as exc:  # noqa: BLE001
                self.app.call_from_thread(self._failed, gen, exc)
                return
            self.app.call_from_thread(self._apply_walk, gen, page, index)

        self.run_worker(walk, thread=True, group="walk", exclusive=True, exit_on_error=False)

    def _apply_walk(self, gen: int, page: Page, index: int) -> None:
        if gen != self._gen:
            return
        self._walking = False
        self._win = list(page.rows)
        self._win_start = index
        self._at_start = page.at_start
        self._at_end = page.at_end
        self._update_number_width()
        self._after_window_change()

    def jump_end(self, move_cursor: bool = True) -> None:
        """Show the last rows: one backward keyset read, never a walk through the list. The cursor goes
        to the last row (G), or, when the view was scrolled there, onto the rows shown."""
        if self.query_ is None:
            return
        query, gen = self.query_, self._gen
        self._gen += 1
        gen = self._gen
        self._loading_fwd = self._loading_back = False
        limit = self._body_height() + MARGIN
        self._walking = True
        self.fetch_count += 1

        def read() -> None:
            try:
                page = self._read(queries.fetch_last_page, query, limit)
            except Exception as exc:  # noqa: BLE001
                self.app.call_from_thread(self._failed, gen, exc)
                return
            self.app.call_from_thread(self._apply_last, gen, page, move_cursor)

        self.run_worker(read, thread=True, group="walk", exclusive=True, exit_on_error=False)

    def _apply_last(self, gen: int, page: Page, move_cursor: bool = True) -> None:
        if gen != self._gen:
            return
        self._walking = False
        rows = list(page.rows)
        total = max(self.total, len(rows)) if not page.at_start else len(rows)
        self._win = rows
        self._win_start = total - len(rows)
        self._at_start = page.at_start
        self._at_end = True
        self.total = total
        if move_cursor:
            self.cursor = max(0, total - 1)
        self._update_number_width()
        self._after_window_change(follow_cursor=move_cursor)

    # --- cursor and scrolling -------------------------------------------------------------------

    def _set_cursor(self, index: int) -> None:
        if self.total == 0:
            return
        index = max(0, min(index, self.total - 1))
        if index == self.cursor:
            return
        old = self.cursor
        self.cursor = index
        self._refresh_row(old)
        self._refresh_row(index)
        self._scroll_cursor_visible()
        self._ensure_loaded()
        self._highlight()

    def _refresh_row(self, index: int) -> None:
        # a line of the viewport (the header is line 0); ScrollView.refresh_line takes a virtual line
        # and subtracts the scroll offset again, which left the old highlight painted once scrolled
        y = index - int(self.scroll_y) + 1
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def _scroll_to_row(self, top: int) -> None:
        self._cursor_scrolling = True
        try:
            # forced: until the screen's next layout shows the scrollbar that rows just arrived for,
            # Textual refuses to scroll, and a key pressed meanwhile left the view behind the cursor
            self.scroll_to(y=top, animate=False, immediate=True, force=True)
        finally:
            self._cursor_scrolling = False

    def _scroll_cursor_visible(self) -> None:
        top = int(self.scroll_y)
        h = self._body_height()
        if self.cursor < top:
            self._scroll_to_row(self.cursor)
        elif self.cursor >= top + h:
            self._scroll_to_row(self.cursor - h + 1)

    def _cursor_into_view(self) -> None:
        """The user scrolled the view (wheel, scrollbar): the cursor moves onto the nearest row shown, as
        in vim, so the highlighted row stays the one Enter and x act on."""
        if self.total == 0:
            return
        top = int(self.scroll_y)
        lo, hi = top, min(self.total - 1, top + self._body_height() - 1)
        if lo <= self.cursor <= hi or hi < lo:
            return
        old = self.cursor
        self.cursor = lo if self.cursor < lo else hi
        self._refresh_row(old)
        self._refresh_row(self.cursor)
        self._highlight()

    def _highlight(self) -> None:
        row = self.current_row
        key = row.id if row else None
        if key != self._last_highlight:
            self._last_highlight = key
            self.post_message(self.Highlighted(self, row))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            if not self._cursor_scrolling:
                self._cursor_into_view()
            self._ensure_loaded()

    def on_resize(self, event: events.Resize) -> None:
        self._cache.clear()
        self.virtual_size = Size(self.size.width, self.total + 1)
        # the list got shorter (the preview opened, the terminal shrank): keep the cursor's row on screen
        self._scroll_cursor_visible()
        if self.query_ is not None:
            self._ensure_loaded()

    def action_cursor_down(self) -> None:
        self._set_cursor(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self._set_cursor(self.cursor - 1)

    def action_first(self) -> None:
        self._set_cursor(0)
        self._scroll_to_row(0)
        if self._win_start > 0 or not self._win:
            self.set_query(self.query_, keep_position=True) if self.query_ else None

    def action_last(self) -> None:
        if self._at_end and self._win:
            self._set_cursor(self.total - 1)
        else:
            self.jump_end()

    def _move_page(self, rows: int) -> None:
        target = max(0, min(self.cursor + rows, self.total - 1))
        self._scroll_to_row(max(0, int(self.scroll_y) + rows))
        self._set_cursor(target)

    def action_half_page_down(self) -> None:
        self._move_page(max(1, self._body_height() // 2))

    def action_half_page_up(self) -> None:
        self._move_page(-max(1, self._body_height() // 2))

    def action_page_down(self) -> None:
        self._move_page(self._body_height())

    def action_page_up(self) -> None:
        self._move_page(-self._body_height())

    def action_open(self) -> None:
        row = self.current_row
        if row is not None:
            self.post_message(self.Opened(self, row))

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self._set_cursor(int(self.scroll_y) + event.y - 1)

    # --- marks ----------------------------------------------------------------------------------

    def _toggle(self, row: QueueRow, on: bool | None = None) -> None:
        if on is None:
            on = row.id not in self.marked
        if on:
            self.marked[row.id] = row
        else:
            self.marked.pop(row.id, None)

    def action_toggle_mark(self) -> None:
        row = self.current_row
        if row is None:
            return
        self._toggle(row)
        self._range_anchor = self.cursor
        self._refresh_row(self.cursor)
        self.post_message(self.Changed(self))
        self._set_cursor(self.cursor + 1)

    def action_mark_range(self) -> None:
        """Mark every row between the last toggled row and the cursor."""
        anchor = self._range_anchor if self._range_anchor is not None else self.cursor
        lo, hi = sorted((anchor, self.cursor))
        for i in range(lo, hi + 1):
            row = self.row_at(i)
            if row is not None:
                self._toggle(row, True)
        self.refresh()
        self.post_message(self.Changed(self))

    def _extend(self, step: int) -> None:
        row = self.current_row
        if row is not None:
            self._toggle(row, True)
            self._range_anchor = self.cursor
        self.refresh()
        self._set_cursor(self.cursor + step)
        row = self.current_row
        if row is not None:
            self._toggle(row, True)
        self.post_message(self.Changed(self))

    def action_extend_down(self) -> None:
        self._extend(1)

    def action_extend_up(self) -> None:
        self._extend(-1)

    def action_clear_marks(self) -> None:
        if self.marked:
            self.clear_marks()

    def action_mark_all(self) -> None:
        """Mark every ticket of the list (up to MARK_ALL_LIMIT); again to unmark them all."""
        if self.query_ is None:
            return
        if self.marked and self.total_known and len(self.marked) >= min(self.total, MARK_ALL_LIMIT):
            self.clear_marks()  # the status line's "N marked" goes: no toast to say it again
            return
        if self._at_start and self._at_end and len(self._win) <= MARK_ALL_LIMIT:
            self._mark_all_done(self._gen, list(self._win), self.total)
            return
        query, gen, total = self.query_, self._gen, self.total

        def read() -> None:
            try:
                rows: list[QueueRow] = []
                after = None
                while len(rows) < MARK_ALL_LIMIT:
                    page = self._read(queries.fetch_page, query, after, min(500, MARK_ALL_LIMIT - len(rows)))
                    rows.extend(page.rows)
                    if page.at_end or page.next is None:
                        break
                    after = page.next
            except Exception as exc:  # noqa: BLE001
                self.app.call_from_thread(self._failed, gen, exc)
                return
            self.app.call_from_thread(self._mark_all_done, gen, rows, total)

        self.run_worker(read, thread=True, group="mark_all", exclusive=True, exit_on_error=False)

    def _mark_all_done(self, gen: int, rows: list[QueueRow], total: int) -> None:
        if gen != self._gen:
            return
        self.marked = {r.id: r for r in rows}
        self.refresh()
        self.post_message(self.Changed(self))
        # the status line says "N marked"; only what it cannot say (the limit) is a toast
        if total > len(rows):
            self.app.notify(f"Marked the first {len(rows):,} of {total:,} tickets", severity="warning")

    # --- rendering ------------------------------------------------------------------------------

    def _layout(self) -> list[tuple[str, int]]:
        sort = self.query_.sort if self.query_ else ""
        key = (self.size.width, self.columns, sort, tuple(sorted(self._natural.items())))
        if self._arranged is None or self._arranged[0] != key:
            arranged = arrange(self.size.width, self.columns, sort, self._natural)
            self._arranged = (key, arranged)
            if arranged.hidden != self.hidden_columns:
                self.hidden_columns = arranged.hidden
                self.post_message(self.Changed(self))
        return list(self._arranged[1].cells)

    def render_lines(self, crop: Region) -> list[Strip]:
        # the widget's style walks up the DOM each time it is asked: once a paint, not once a row (at 36
        # rows that was most of a repaint after a filter or sort change)
        self._base_style = self.rich_style
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width, base = self.size.width, self._base_style
        cols = self._layout()
        if y == 0:
            return self._header(cols, width)
        index = int(self.scroll_y) + y - 1
        if index >= self.total:
            return Strip.blank(width, base)
        row = self.row_at(index)
        selected = index == self.cursor and self.has_focus_within
        cursor_here = index == self.cursor
        if row is None:
            style = self.get_component_rich_style("ticket-list--placeholder")
            return Strip([Segment(set_cell_size("   ···", width), style)], width)
        seen = self.presence.get(row.id)
        key = (row, width, tuple(cols), selected, cursor_here, row.id in self.marked, seen, self._now)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._render_row(row, cols, width, cursor_here, selected, row.id in self.marked, seen)
            self._cache[key] = strip
        return strip

    def _header(self, cols: list[tuple[str, int]], width: int) -> Strip:
        style = self.get_component_rich_style("ticket-list--header")
        sort = self.query_.sort if self.query_ else ""
        parts = [" " * PREFIX]
        for key, w in cols:
            title = title_of(key, w)
            if (key, sort) in (("updated", "updated"), ("due", "due"), ("priority", "priority")):
                title += "▼" if sort != "due" else "▲"
            parts.append(set_cell_size(title, w) + " " * GAP)
        text = set_cell_size("".join(parts), width)
        return Strip([Segment(text, style)], width)

    def _render_row(
        self,
        row: QueueRow,
        cols: list[tuple[str, int]],
        width: int,
        cursor_here: bool,
        focused: bool,
        marked: bool,
        seen: Any,
    ) -> Strip:
        base = self._base_style
        get = self.get_component_rich_style
        if row.state in ("resolved", "closed"):
            base = base + get("ticket-list--done")
        if marked:
            base = base + get("ticket-list--marked")
        if cursor_here:
            # the cursor's background under every cell; the cells' own colours stay readable on it
            cursor = get("ticket-list--cursor")
            base = base + (cursor if focused else cursor + Style(dim=True))
        segs: list[Segment] = []
        segs.append(Segment("✓" if marked else " ", base + get("ticket-list--marked")))
        if seen is not None:
            kind = "replying" if seen.activity != "viewing" else "viewing"
            segs.append(Segment("●", base + get(f"ticket-list--{kind}")))
        else:
            segs.append(Segment(" ", base))
        segs.append(Segment("↺" if row.reopened else " ", base + get("ticket-list--reopened")))
        segs.append(Segment(" ", base))
        now = self._now
        for key, w in cols:
            text = set_cell_size(cell_text(row, key, now), w)
            style = base
            if key == "priority":
                style = base + _style(row.priority_color)
            elif key == "status":
                style = base + _style(row.status_color)
            elif key == "due" and row.due_at is not None and row.state not in ("resolved", "closed", "pending"):
                left = row.due_at - now
                if row.is_overdue or left.total_seconds() < 0:
                    style = base + get("ticket-list--overdue")
                elif left < timedelta(hours=4):
                    style = base + get("ticket-list--soon")
            elif key == "number" and row.is_overdue and row.state not in ("resolved", "closed"):
                style = base + get("ticket-list--overdue")
            segs.append(Segment(text, style))
            segs.append(Segment(" " * GAP, base))
        used = sum(cell_len(s.text) for s in segs)
        if used < width:
            segs.append(Segment(" " * (width - used), base))
        if cursor_here and base.bgcolor is not None:
            # the component styles (overdue number, marks, presence) carry their own background: the
            # cursor's goes over them, so the whole row reads as the one the keys act on
            under = Style(bgcolor=base.bgcolor)
            segs = [Segment(seg.text, (seg.style or Style()) + under) for seg in segs]
        return Strip(segs).crop(0, width)


def columns_from_text(text: str) -> tuple[tuple[str, ...], list[str]]:
    """`number,subject status` -> (known columns in order, unknown names)."""
    names = [n.strip().lower() for n in text.replace(",", " ").split() if n.strip()]
    known = tuple(dict.fromkeys(n for n in names if n in COLUMNS))
    return known, [n for n in names if n not in COLUMNS]


Formatter = Callable[[QueueRow, str, datetime], str]
