"""The thread: customer messages, public replies and internal notes as bordered boxes, events as lines.

One entry is selected (j/k); actions such as edit, delete, save attachment and show the full
original act on it. Kinds are told apart by border colour and by a label in the border, so they
stay distinct in 256 colours and without colour at all.

A virtual view (Textual's line API): one widget for the whole thread, which draws only the lines on
screen. An entry's Markdown is rendered the first time it comes into view and kept per width; an
entry never seen counts as an estimate of its height, made from its text, until it is. So a ticket
of 5,000 entries opens as fast as one of 5: styling and layout cost nothing per entry.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Callable, Sequence
from itertools import accumulate

from rich.console import Group, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui_helpdesk.services.ticket_view import ThreadItem
from tui_helpdesk.tui import markdown
from tui_helpdesk.untrusted import clean_line

KIND_LABEL = {"message": "CUSTOMER", "reply": "REPLY", "note": "INTERNAL NOTE"}
# events that merely announce an entry shown anyway
_ENTRY_EVENTS = {"reply", "note", "message"}


def size_text(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1048576:.1f} MB"


def describe_event(item: ThreadItem) -> str:
    """One line saying what happened, from the event's kind and data."""
    d = item.data
    k = item.event_kind

    def g(key: str) -> str:
        value = d.get(key)
        return clean_line(str(value)) if value not in (None, "") else ""

    reason = f" — {g('reason')}" if g("reason") else ""
    if k == "created":
        return f"created ticket (via {g('source') or 'unknown'})"
    if k == "status":
        notes = f" — notes: {g('notes')}" if g("notes") else ""
        return f"status {g('old') or '?'} → {g('new')}{notes}"
    if k == "assigned":
        to = " and ".join(x for x in (g("agent"), f"team {g('team')}" if g("team") else "") if x)
        return f"assigned to {to or 'nobody'}{reason}"
    if k == "released":
        return f"released the assignment{reason}"
    if k == "transferred":
        return f"transferred to {g('to')}{reason}"
    if k == "field_edited":
        return f"changed {g('field')}: {g('old') or '—'} → {g('new') or '—'}{reason}"
    if k == "reopened":
        return f"reopened ({g('old')} → {g('new')}){reason}"
    if k in ("linked", "unlinked"):
        return f"{k} {g('kind').replace('_', ' ')} {g('other')}"
    if k == "merged_into":
        return f"merged into {g('parent')}"
    if k == "merged_from":
        return f"merged {g('child')} into this ticket"
    if k == "tags":
        return f"tags: {' '.join(d.get('new') or []) or '—'}"
    if k in ("collaborator_added", "collaborator_removed"):
        return f"{'added' if k.endswith('added') else 'removed'} CC {g('email')}"
    if k == "entry_edited":
        return f"edited entry #{g('entry_id')}"
    if k == "entry_deleted":
        return f"deleted entry #{g('entry_id')}"
    if k == "time_logged":
        return f"logged {g('minutes')} min"
    if k in ("archived", "restored", "overdue"):
        return k
    if k == "deleted":  # services/ticket_delete.py: archived until the worker purges it
        return f"deleted: purged after {g('purge_after')[:10]} unless restored"
    extra = ", ".join(f"{key}={clean_line(str(v))}" for key, v in d.items() if key not in ("entry_id",))
    return f"{clean_line(k)} {extra}".strip()


MARGIN = {"reply": 4, "note": 4}  # replies and notes sit indented under the customer's messages
# border characters per kind: top-left, top, top-right, side, bottom-left, bottom, bottom-right
_ROUND = "╭─╮│╰─╯"
_FRAMES = {"message": _ROUND, "reply": _ROUND, "note": "┏━┓┃┗━┛", "deleted": "┏╍┓╏┗╍┛"}
CACHE_ENTRIES = 2000  # rendered entries kept (per width): far more than a screen, far less than 5M


def highlight_terms(text: Text, terms: Sequence[str]) -> None:
    """Mark the words a search matched, as the search matches them (prefix, accents and case ignored)
    and in the preview's style (tui/highlight.py), so the ticket marks what the queue found."""
    from tui_helpdesk.services.search import spans
    from tui_helpdesk.tui.highlight import MATCH_STYLE

    for start, end in spans(text.plain, tuple(t for t in terms if t)):
        text.stylize(MATCH_STYLE, start, end)


class EntryBox:
    """One thread entry, or one event line: what it says and the label in its border."""

    def __init__(self, item: ThreadItem, *, merged_from: str = "") -> None:
        self.item = item
        self.merged_from = merged_from
        self.kind = "deleted" if item.deleted else item.kind
        self.border_title = ""
        self.border_subtitle = ""
        if item.kind != "event":
            stamp = item.created_at.strftime("%Y-%m-%d %H:%M")
            title = f" {KIND_LABEL.get(item.kind, item.kind)} · {clean_line(item.author)} · {stamp} "
            if item.edited_at is not None and not item.deleted:
                title += "· edited "
            if item.time_spent:
                title += f"· {item.time_spent}m "
            if merged_from:
                title += f"· from {clean_line(merged_from)} "
            self.border_title = title
            if item.full_body and not item.deleted:
                self.border_subtitle = " F: full original "

    @property
    def key(self) -> tuple:
        """What the rendering depends on: a changed entry (edited, deleted) renders anew."""
        i = self.item
        return (i.kind, i.id, i.body, i.deleted, i.edited_at, self.border_title, len(i.attachments))

    def body(self, terms: Sequence[str] = (), highlighter: Callable[[Text, Sequence[str]], None] | None = None
             ) -> RenderableType:
        item = self.item
        if item.kind == "event":
            line = Text(f"  · {item.created_at.strftime('%Y-%m-%d %H:%M')} ", style="dim")
            line.append(clean_line(item.author), style="dim bold")
            line.append(f" {describe_event(item)}", style="dim")
            return line
        if item.deleted:
            return Text(
                f"deleted entry (#{item.id}); the original is kept in the audit log", style="dim italic"
            )
        text = markdown.render(item.body, item.body_format)
        if terms:
            (highlighter or highlight_terms)(text, terms)
        parts: list[RenderableType] = [text]
        if item.attachments:
            files = Text()
            for n, a in enumerate(item.attachments, 1):
                files.append(f"\n[{n}] ", style="bold")
                files.append(clean_line(a.filename))
                files.append(f"  {size_text(a.size)}", style="dim")
            parts.append(files)
        cc = item.recipients.get("cc") if isinstance(item.recipients, dict) else None
        if cc:
            parts.append(Text("cc: " + ", ".join(clean_line(str(x)) for x in cc), style="dim"))
        return Group(*parts)

    def estimate(self, width: int) -> int:
        """Lines this entry will take at `width`, from its text alone (no Markdown rendered)."""
        item = self.item
        if item.kind == "event" or item.deleted:
            return 1 if item.kind == "event" else 3
        inner = max(width - MARGIN.get(item.kind, 0) - 4, 1)
        lines = sum(max(1, -(-len(line) // inner)) for line in item.body.split("\n"))
        cc = 1 if isinstance(item.recipients, dict) and item.recipients.get("cc") else 0
        return lines + 2 + len(item.attachments) + (1 if item.attachments else 0) + cc


class ThreadView(ScrollView, can_focus=True):
    """The entries of a ticket with one selected; `show_events` toggles the event lines.

    The screen gives it the newest page of the thread; `earlier` items are not loaded yet. When the
    agent scrolls to the top (or presses g) it posts `NeedEarlier`, and the screen `prepend`s them.
    """

    COMPONENT_CLASSES = {
        "thread--message",
        "thread--reply",
        "thread--note",
        "thread--deleted",
        "thread--event",
        "thread--selected",
        "thread--selected-event",
        "thread--more",
    }
    DEFAULT_CSS = """
    ThreadView { overflow-x: hidden; }
    ThreadView > .thread--message { color: $primary; }
    ThreadView > .thread--reply { color: $success; }
    ThreadView > .thread--note { color: $warning; background: $warning 8%; }
    ThreadView > .thread--deleted { color: $panel-lighten-2; }
    ThreadView > .thread--event { color: $text-muted; }
    ThreadView > .thread--selected { color: $accent; background: $accent; }
    ThreadView > .thread--selected-event { background: $boost; }
    ThreadView > .thread--more { color: $text-muted; text-style: italic; }
    """

    BINDINGS = [
        Binding("j,down", "select(1)", "Next entry", show=False, id="thread.next"),
        Binding("k,up", "select(-1)", "Previous entry", show=False, id="thread.prev"),
        Binding("g,home", "select_edge(False)", "First entry", show=False, id="thread.first"),
        Binding("G,end", "select_edge(True)", "Last entry", show=False, id="thread.last"),
        Binding("ctrl+d,pagedown", "half_page(1)", "Half page down", show=False, id="thread.half_down"),
        Binding("ctrl+u,pageup", "half_page(-1)", "Half page up", show=False, id="thread.half_up"),
    ]

    class NeedEarlier(Message):
        """Load the items before the oldest one shown; `everything`: all of them (g was pressed)."""

        def __init__(self, thread: ThreadView, everything: bool) -> None:
            super().__init__()
            self.thread = thread
            self.everything = everything

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items: tuple[ThreadItem, ...] = ()
        self.show_events = True
        self.selected = -1
        self.numbers: dict[int, str] = {}
        self.ticket_id: int | None = None
        self.earlier = 0  # items before `items`, not loaded
        self.terms: tuple[str, ...] = ()
        self.highlighter: Callable[[Text, Sequence[str]], None] | None = None
        self.painted = False  # the first lines of a thread were drawn (benchmarks wait on it)
        self._boxes: list[EntryBox] = []
        self._heights: list[int] = []
        self._exact: list[bool] = []
        self._tops: list[int] = []
        self._width = 0
        self._asked = False  # a NeedEarlier is out; one at a time
        self._first_when_loaded = False
        self._settling = False
        self._pending: int | None = None  # an entry to scroll to once the view has a size
        self._base_style = Style()  # self.rich_style, as of this paint (render_lines)
        # (entry key, inner width) -> its rendered lines; shared across reloads of the same ticket
        self._cache: OrderedDict[tuple, list[list[Segment]]] = OrderedDict()
        self._drawn: OrderedDict[tuple, list[Strip]] = OrderedDict()  # with border, per selection

    # --- what is shown --------------------------------------------------------------------------

    def show(
        self,
        items: Sequence[ThreadItem],
        *,
        ticket_id: int,
        show_events: bool,
        merged_numbers: dict[int, str] | None = None,
        keep_selection: bool = True,
        earlier: int = 0,
    ) -> None:
        """Replace the entries; the selection stays on the same entry if it is still there."""
        previous = self.selected_item() if keep_selection else None
        if ticket_id != self.ticket_id:
            self._cache.clear()
        self.items = tuple(items)
        self.ticket_id = ticket_id
        self.show_events = show_events
        self.numbers = merged_numbers or {}
        self.earlier = earlier
        self._asked = False
        self._rebuild()
        index = self._index_of(previous)
        if index < 0:
            # land on the newest entry: that is what the agent reads first
            entries = [n for n, b in enumerate(self._boxes) if b.item.kind != "event"]
            index = entries[-1] if entries else len(self._boxes) - 1
        self._select(index, scroll=False)
        # Scrolled to at the next paint, once the screen has laid the thread out again: the header that
        # came with these entries changes its size (and so the scrollbar its width), and entries drawn
        # now, at the old size, would all be drawn again.
        self._pending = self.selected if self._boxes else None

    def prepend(self, items: Sequence[ThreadItem], earlier: int) -> None:
        """Earlier items arrived: put them above, keeping what the agent looks at where it is."""
        anchor, delta = self._anchor()
        selected = self.selected_item()
        self.items = tuple(items) + self.items
        self.earlier = earlier
        self._asked = False
        self._rebuild()
        self.selected = max(self._index_of(selected), -1)
        if anchor is not None:
            index = self._index_of(anchor)
            if index >= 0:
                self._set_scroll(self._tops[index] + delta)
        if self._first_when_loaded and not self.earlier:
            self._first_when_loaded = False
            self.action_select_edge(False)
        self._settle()
        self.refresh()

    def set_terms(self, terms: Sequence[str]) -> None:
        """Highlight these words (a search's) in every entry."""
        self.terms = tuple(terms)
        self._cache.clear()
        self._rebuild()
        self.refresh()

    def visible_items(self) -> list[ThreadItem]:
        return [
            i
            for i in self.items
            if i.kind != "event" or (self.show_events and i.event_kind not in _ENTRY_EVENTS)
        ]

    def boxes(self) -> list[EntryBox]:
        return list(self._boxes)

    def selected_item(self) -> ThreadItem | None:
        if 0 <= self.selected < len(self._boxes):
            return self._boxes[self.selected].item
        return None

    def box_lines(self, index: int) -> list[str]:
        """The text of one entry as drawn (for tests and the curious)."""
        return [strip.text for strip in self._lines(index)]

    def _index_of(self, item: ThreadItem | None) -> int:
        if item is None:
            return -1
        return next(
            (n for n, b in enumerate(self._boxes) if (b.item.kind, b.item.id) == (item.kind, item.id)), -1
        )

    # --- geometry -------------------------------------------------------------------------------

    @property
    def _view(self) -> Size:
        """The lines and columns the thread draws in (inside the padding, beside the scrollbar)."""
        return self.scrollable_content_region.size

    @property
    def _header(self) -> int:
        return 1 if self.earlier else 0

    def _rebuild(self) -> None:
        tid = self.ticket_id
        self._boxes = [
            EntryBox(i, merged_from=self.numbers.get(i.ticket_id, "") if i.ticket_id != tid else "")
            for i in self.visible_items()
        ]
        self._width = self._view.width
        self._heights = [b.estimate(self._width) for b in self._boxes]
        self._exact = [False] * len(self._boxes)
        self._relayout()

    def _relayout(self) -> None:
        self._tops = [self._header + t for t in accumulate(self._heights, initial=0)]
        self.virtual_size = Size(self._view.width, self._tops[-1] if self._tops else 0)

    def _at(self, y: int) -> int:
        """The index of the entry at virtual line y (may be len(boxes) past the end)."""
        return max(bisect_right(self._tops, y) - 1, 0)

    def _anchor(self) -> tuple[ThreadItem | None, int]:
        if not self._boxes:
            return None, 0
        y = round(self.scroll_y)
        index = min(self._at(y), len(self._boxes) - 1)
        return self._boxes[index].item, y - self._tops[index]

    def _measure(self, index: int) -> bool:
        """Render entry `index` for real; True when its height differed from what was counted."""
        if self._exact[index]:
            return False
        height = len(self._lines(index))
        self._exact[index] = True
        if height != self._heights[index]:
            self._heights[index] = height
            return True
        return False

    def _settle(self) -> None:
        """Render the entries on screen, so the heights above and below them are right; the line
        at the top of the view stays where it is while estimates turn into real heights."""
        if self._settling or not self._boxes or self._view.height <= 0:
            return
        self._settling = True
        try:
            if self._view.width != self._width:
                anchor, delta = self._anchor()
                self._fit_width()
                if anchor is not None:
                    self._set_scroll(self._tops[self._index_of(anchor)] + delta)
            for _ in range(8):
                anchor, delta = self._anchor()
                top = round(self.scroll_y)
                first, last = self._at(top), self._at(top + self._view.height)
                changed = False
                for index in range(first, min(last + 1, len(self._boxes))):
                    changed |= self._measure(index)
                if not changed:
                    break
                self._relayout()
                if anchor is not None:
                    self._set_scroll(self._tops[self._index_of(anchor)] + delta)
        finally:
            self._settling = False
        if self.earlier and not self._asked and self._pending is None and round(self.scroll_y) < self._view.height:
            self._asked = True
            self.post_message(self.NeedEarlier(self, everything=False))

    def _fit_width(self) -> None:
        """The view's width changed: every height counted so far is for another width."""
        self._width = self._view.width
        self._heights = [b.estimate(self._width) for b in self._boxes]
        self._exact = [False] * len(self._boxes)
        self._relayout()

    def _set_scroll(self, y: int) -> None:
        self.scroll_to(y=max(0, min(y, self.virtual_size.height - self._view.height)), animate=False)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self._settle()

    def on_resize(self) -> None:
        if self._pending is not None:
            return  # render_lines scrolls to it
        self._settle()
        if 0 <= self.selected < len(self._boxes):
            self._scroll_into_view(self.selected)

    # --- drawing --------------------------------------------------------------------------------

    def _content(self, box: EntryBox, width: int) -> list[list[Segment]]:
        key = (box.key, width, self.terms)
        lines = self._cache.get(key)
        if lines is None:
            console = self.app.console
            options = console.options.update(width=max(width, 1), height=None)
            lines = console.render_lines(box.body(self.terms, self.highlighter), options, pad=False)
            self._cache[key] = lines
            if len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return lines

    def _lines(self, index: int) -> list[Strip]:
        box = self._boxes[index]
        width = max(self._view.width, 10)
        selected = index == self.selected
        key = (box.key, width, selected, self.terms)
        strips = self._drawn.get(key)
        if strips is None:
            strips = self._draw(box, width, selected)
            self._drawn[key] = strips
            if len(self._drawn) > 200:
                self._drawn.popitem(last=False)
        return strips

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._drawn.clear()  # a theme change recolours the borders

    def _draw(self, box: EntryBox, width: int, selected: bool) -> list[Strip]:
        base = self.rich_style
        if box.item.kind == "event":
            style = base + self.get_component_rich_style("thread--event")
            if selected:
                style += self.get_component_rich_style("thread--selected-event")
            return [
                Strip(segments).adjust_cell_length(width).apply_style(style)
                for segments in self._content(box, width - 1)
            ]
        margin = MARGIN.get(box.kind, 0) if width > 40 else 0
        inner = max(width - margin - 4, 1)
        kind_style = self.get_component_rich_style(f"thread--{box.kind}")
        border = Style(color=kind_style.color) + Style(bgcolor=base.bgcolor)
        fill = base + Style(bgcolor=kind_style.bgcolor) if kind_style.bgcolor else base
        accent = self.get_component_rich_style("thread--selected")
        tl, t, tr, side, bl, b, br = _FRAMES.get(box.kind, _ROUND)
        left = Segment("▌", Style(color=accent.color)) if selected else Segment(side, border)
        pad = [Segment(" " * margin, base)] if margin else []
        title_style = (
            Style(color=accent.color, reverse=True, bold=True) if selected else border + Style(bold=box.kind == "note")
        )
        title = Text(box.border_title, style=title_style)
        title.truncate(max(inner, 0))
        top = [*pad, Segment(tl if not selected else "▛", left.style if selected else border),
               *title.render(self.app.console)]
        used = margin + 1 + title.cell_len
        top.append(Segment(t * max(width - used - 1, 0) + tr, border))
        out = [Strip(top).adjust_cell_length(width)]
        for segments in self._content(box, inner):
            row = Strip(segments).apply_style(fill).adjust_cell_length(inner, fill)
            out.append(Strip([*pad, left, Segment(" ", fill), *row, Segment(" ", fill), Segment(side, border)]))
        subtitle = Text(box.border_subtitle, style=border)
        bottom_fill = max(width - margin - 3 - subtitle.cell_len, 0)
        out.append(
            Strip([*pad, Segment(bl if not selected else "▙", left.style if selected else border),
                   Segment(b * bottom_fill, border), *subtitle.render(self.app.console),
                   Segment(b + br, border)]).adjust_cell_length(width)
        )
        return out

    def render_line(self, y: int) -> Strip:
        width, base = self._view.width, self._base_style
        line = round(self.scroll_y) + y
        if not self._boxes or line >= (self._tops[-1] if self._tops else 0):
            return Strip.blank(width, base)
        if line < self._header:
            text = Text(f"  ↑ {self.earlier:,} earlier items: loading…", end="")
            style = base + self.get_component_rich_style("thread--more")
            return Strip(text.render(self.app.console)).adjust_cell_length(width).apply_style(style)
        index = self._at(line)
        lines = self._lines(index)
        if not self._exact[index] or len(lines) != self._heights[index]:
            # drawn before it was measured (a repaint raced the settle): fix the layout next tick
            self._exact[index] = False
            self.call_later(self._settle)
        self.painted = True
        offset = line - self._tops[index]
        if offset >= len(lines):
            return Strip.blank(width, base)
        return lines[offset].crop_extend(0, width, base)

    def render_lines(self, crop: Region) -> list[Strip]:
        if self._pending is not None and self._view.height > 0:
            self._scroll_into_view(min(self._pending, len(self._boxes) - 1))
        self._settle()
        # the widget's style walks up the DOM each time it is asked: once a paint, not once a line
        self._base_style = self.rich_style
        return super().render_lines(crop)

    # --- moving ---------------------------------------------------------------------------------

    def _scroll_into_view(self, index: int) -> None:
        """Like scroll_to_widget: the least scrolling that shows the entry; its top when it is taller
        than the view."""
        if self._view.height <= 0:
            self._pending = index  # laid out yet: done before the first paint (render_lines)
            return
        self._pending = None
        if self._view.width != self._width:
            self._fit_width()
        if self._measure(index):
            self._relayout()
        top, height = self._tops[index], self._heights[index]
        y = round(self.scroll_y)
        view = self._view.height
        if height > view or top < y:
            y = top
        elif top + height > y + view:
            y = top + height - view
        # the neighbours the view will show, measured now so the jump lands where it aims
        for near in range(index + 1, min(self._at(y + view) + 1, len(self._boxes))):
            self._measure(near)
        self._relayout()
        self._set_scroll(y)
        self._settle()

    def _select(self, index: int, scroll: bool = True) -> None:
        if not self._boxes:
            self.selected = -1
            self.refresh()
            return
        self.selected = max(0, min(index, len(self._boxes) - 1))
        if scroll:
            self._scroll_into_view(self.selected)
        self.refresh()

    def action_select(self, step: int) -> None:
        boxes = self._boxes
        if not boxes:
            return
        index = self.selected + step
        # skip event lines when moving: actions apply to entries
        while 0 <= index < len(boxes) and boxes[index].item.kind == "event":
            index += step
        if 0 <= index < len(boxes):
            if 0 <= self.selected < len(boxes) and self._heights[self.selected] > self._view.height:
                # a tall entry scrolls first, so every line of it can be read
                top = self._tops[self.selected]
                bottom = top + self._heights[self.selected]
                if step > 0 and self.scroll_y + self._view.height < bottom:
                    self.scroll_relative(y=self._view.height // 2, animate=False)
                    return
                if step < 0 and self.scroll_y > top:
                    self.scroll_relative(y=-(self._view.height // 2), animate=False)
                    return
            self._select(index)
        elif step > 0:
            self.scroll_end(animate=False)
        else:
            self.scroll_home(animate=False)

    def action_select_edge(self, last: bool) -> None:
        if not last and self.earlier:
            # the first entry is not loaded yet: load everything before, then land on it
            self._first_when_loaded = True
            self._asked = True
            self.post_message(self.NeedEarlier(self, everything=True))
            return
        boxes = self._boxes
        entries = [n for n, b in enumerate(boxes) if b.item.kind != "event"] or list(range(len(boxes)))
        if entries:
            self._select(entries[-1] if last else entries[0])

    def action_half_page(self, direction: int) -> None:
        self.scroll_relative(y=direction * max(self._view.height // 2, 1), animate=False)
