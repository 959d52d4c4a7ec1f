"""The thread: customer messages, public replies and internal notes as bordered boxes, events as lines.

One entry is selected (j/k); actions such as edit, delete, save attachment and show the full
original act on it. Kinds are told apart by border colour and by a label in the border, so they
stay distinct in 256 colours and without colour at all.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

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
    extra = ", ".join(f"{key}={clean_line(str(v))}" for key, v in d.items() if key not in ("entry_id",))
    return f"{clean_line(k)} {extra}".strip()


class EntryBox(Static, can_focus=False):
    """One thread entry, or one event line."""

    def __init__(self, item: ThreadItem, *, merged_from: str = "") -> None:
        super().__init__("")
        self.item = item
        self.merged_from = merged_from
        kind = "deleted" if item.deleted else item.kind
        self.add_class(f"entry--{kind}")
        if item.kind != "event":
            self.add_class("entry")
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
        self.update(self.body())

    def body(self) -> RenderableType:
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
        parts: list[RenderableType] = [markdown.render(item.body, item.body_format)]
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


class ThreadView(VerticalScroll, can_focus=True):
    """The entries of a ticket with one selected; `show_events` toggles the event lines."""

    BINDINGS = [
        Binding("j,down", "select(1)", "Next entry", show=False, id="thread.next"),
        Binding("k,up", "select(-1)", "Previous entry", show=False, id="thread.prev"),
        Binding("g,home", "select_edge(False)", "First entry", show=False, id="thread.first"),
        Binding("G,end", "select_edge(True)", "Last entry", show=False, id="thread.last"),
        Binding("ctrl+d,pagedown", "half_page(1)", "Half page down", show=False, id="thread.half_down"),
        Binding("ctrl+u,pageup", "half_page(-1)", "Half page up", show=False, id="thread.half_up"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items: tuple[ThreadItem, ...] = ()
        self.show_events = True
        self.selected = -1
        self.numbers: dict[int, str] = {}
        self.ticket_id: int | None = None

    def show(
        self,
        items: Sequence[ThreadItem],
        *,
        ticket_id: int,
        show_events: bool,
        merged_numbers: dict[int, str] | None = None,
        keep_selection: bool = True,
    ) -> None:
        """Replace the entries; the selection stays on the same entry if it is still there."""
        previous = self.selected_item() if keep_selection else None
        self.items = tuple(items)
        self.ticket_id = ticket_id
        self.show_events = show_events
        self.numbers = merged_numbers or {}
        boxes = [
            EntryBox(i, merged_from=self.numbers.get(i.ticket_id, "") if i.ticket_id != ticket_id else "")
            for i in self.visible_items()
        ]
        self.remove_children()
        self.mount_all(boxes)
        visible = self.visible_items()
        index = -1
        if previous is not None:
            index = next(
                (n for n, i in enumerate(visible) if (i.kind, i.id) == (previous.kind, previous.id)), -1
            )
        if index < 0:
            # land on the newest entry: that is what the agent reads first
            entries = [n for n, i in enumerate(visible) if i.kind != "event"]
            index = entries[-1] if entries else len(visible) - 1
        self.call_after_refresh(self._select, index)

    def visible_items(self) -> list[ThreadItem]:
        return [
            i
            for i in self.items
            if i.kind != "event" or (self.show_events and i.event_kind not in _ENTRY_EVENTS)
        ]

    def boxes(self) -> list[EntryBox]:
        return list(self.query(EntryBox))

    def selected_item(self) -> ThreadItem | None:
        boxes = self.boxes()
        if 0 <= self.selected < len(boxes):
            return boxes[self.selected].item
        return None

    def _select(self, index: int, scroll: bool = True) -> None:
        boxes = self.boxes()
        if not boxes:
            self.selected = -1
            return
        index = max(0, min(index, len(boxes) - 1))
        for n, box in enumerate(boxes):
            box.set_class(n == index, "-selected")
        self.selected = index
        if scroll:
            self.scroll_to_widget(
                boxes[index], animate=False, top=boxes[index].outer_size.height > self.size.height
            )

    def action_select(self, step: int) -> None:
        boxes = self.boxes()
        if not boxes:
            return
        index = self.selected + step
        # skip event lines when moving: actions apply to entries
        while 0 <= index < len(boxes) and boxes[index].item.kind == "event":
            index += step
        if 0 <= index < len(boxes):
            box = boxes[self.selected] if 0 <= self.selected < len(boxes) else None
            # a tall entry scrolls first, so every line of it can be read
            if box is not None and box.outer_size.height > self.size.height:
                region = box.virtual_region
                if step > 0 and self.scroll_y + self.size.height < region.bottom:
                    self.scroll_relative(y=self.size.height // 2, animate=False)
                    return
                if step < 0 and self.scroll_y > region.y:
                    self.scroll_relative(y=-(self.size.height // 2), animate=False)
                    return
            self._select(index)
        elif step > 0:
            self.scroll_end(animate=False)
        else:
            self.scroll_home(animate=False)

    def action_select_edge(self, last: bool) -> None:
        boxes = self.boxes()
        entries = [n for n, b in enumerate(boxes) if b.item.kind != "event"] or list(range(len(boxes)))
        if entries:
            self._select(entries[-1] if last else entries[0])

    def action_half_page(self, direction: int) -> None:
        self.scroll_relative(y=direction * max(self.size.height // 2, 1), animate=False)
