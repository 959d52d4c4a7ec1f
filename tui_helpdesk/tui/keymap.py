"""Every binding of the app, with the id a user's keymap rebinds it by.

Bindings live here rather than scattered over the widgets so the help screen, the command
palette, the README and the config file all speak of the same ids. A user's config file says
`[keymap]` then `queue.assign = "ctrl+a"`; Textual swaps the key of the binding with that id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.binding import Binding


def _b(
    key: str, action: str, description: str, bid: str, show: bool = True, priority: bool = False
) -> Binding:
    return Binding(key, action, description, show=show, id=bid, priority=priority)


APP_BINDINGS: list[Binding] = [
    _b("ctrl+q", "quit", "Quit", "app.quit", show=False, priority=True),
    _b("question_mark", "help", "Help", "app.help"),
    _b("f2", "admin", "Admin", "app.admin", show=False),
    _b("f3", "reports", "Reports", "app.reports", show=False),
    _b("f4", "my_settings", "My settings (API keys)", "app.settings", show=False),
    _b("f5", "kb", "Knowledge base", "app.kb", show=False),
]

LIST_BINDINGS: list[Binding] = [
    _b("j,down", "cursor_down", "Down", "list.down", show=False),
    _b("k,up", "cursor_up", "Up", "list.up", show=False),
    _b("g,home", "first", "First", "list.first", show=False),
    _b("G,end", "last", "Last", "list.last", show=False),
    _b("ctrl+d", "half_page_down", "Half page down", "list.half_down", show=False),
    _b("ctrl+u", "half_page_up", "Half page up", "list.half_up", show=False),
    _b("pagedown", "page_down", "Page down", "list.page_down", show=False),
    _b("pageup", "page_up", "Page up", "list.page_up", show=False),
    _b("enter", "open", "Open", "list.open"),
    _b("v", "toggle_mark", "Mark", "list.mark"),
    _b("V", "mark_all", "Mark all in view", "list.mark_all", show=False),
    _b("ctrl+v", "mark_range", "Mark range to cursor", "list.mark_range", show=False),
    _b("shift+down", "extend_down", "Mark and move down", "list.extend_down", show=False),
    _b("shift+up", "extend_up", "Mark and move up", "list.extend_up", show=False),
    _b("escape", "clear_marks", "Clear marks", "list.clear_marks", show=False),
]

QUEUE_BINDINGS: list[Binding] = [
    _b("q", "quit", "Quit", "queue.quit"),
    _b("slash", "filter", "Filter", "queue.filter"),
    _b("colon", "command", "Command", "queue.command", show=False),
    _b("r", "refresh", "Refresh", "queue.refresh", show=False),
    _b("o", "cycle_sort", "Sort", "queue.sort"),
    _b("O", "pick_sort", "Pick sort", "queue.pick_sort", show=False),
    _b("c", "pick_columns", "Columns", "queue.columns", show=False),
    _b("p", "toggle_preview", "Preview", "queue.preview"),
    _b("b", "toggle_sidebar", "Views", "queue.toggle_sidebar"),
    _b("J", "preview_down", "Scroll preview down", "queue.preview_down", show=False),
    _b("K", "preview_up", "Scroll preview up", "queue.preview_up", show=False),
    _b("right_square_bracket,l", "next_view", "Next view", "queue.next_view", show=False),
    _b("left_square_bracket,h", "prev_view", "Previous view", "queue.prev_view", show=False),
    _b("tab", "focus_sidebar", "Sidebar", "queue.sidebar", show=False),
    _b("a", "assign", "Assign", "queue.assign"),
    _b("A", "assign_me", "Assign to me", "queue.assign_me", show=False),
    _b("s", "set_status", "Status", "queue.status"),
    _b("x", "resolve", "Resolve", "queue.resolve"),
    _b("P", "set_priority", "Priority", "queue.priority", show=False),
    _b("T", "transfer", "Department", "queue.transfer", show=False),
    _b("t", "tag", "Tag", "queue.tag", show=False),
    _b("L", "link", "Link", "queue.link", show=False),
    _b("M", "merge", "Merge into cursor", "queue.merge", show=False),
    _b("C", "close", "Close", "queue.close", show=False),
    _b("y", "copy_number", "Copy number", "queue.copy", show=False),
    _b("S", "save_view", "Save view", "queue.save_view", show=False),
    _b("E", "export", "Export CSV", "queue.export", show=False),
    _b("N", "new_ticket", "New ticket", "queue.new_ticket", show=False),
    _b("R", "triage", "Triage", "queue.triage", show=False),
]


def all_bindings() -> list[Binding]:
    return [*APP_BINDINGS, *LIST_BINDINGS, *QUEUE_BINDINGS]


def known_ids(extra: Iterable[Binding] = ()) -> set[str]:
    return {b.id for b in [*all_bindings(), *extra] if b.id}


def check_keymap(
    keymap: Mapping[str, str], extra: Iterable[Binding] = ()
) -> tuple[dict[str, str], list[str]]:
    """Split a user's keymap into the entries we know and the ids we do not (a typo, most likely).

    Ids of other screens (ticket., admin.) are passed through untouched: those screens own them.
    """
    known = known_ids(extra)
    ours = ("app.", "list.", "queue.")
    good: dict[str, str] = {}
    unknown: list[str] = []
    for bid, keys in keymap.items():
        if not isinstance(keys, str) or not keys.strip():
            unknown.append(bid)
        elif bid in known or not bid.startswith(ours):
            good[bid] = keys.strip()
        else:
            unknown.append(bid)
    return good, unknown


def display_key(key: str) -> str:
    """How a key string reads in help and the palette: `G,end` -> `G / end`."""
    names = {
        "question_mark": "?",
        "slash": "/",
        "colon": ":",
        "right_square_bracket": "]",
        "left_square_bracket": "[",
        "escape": "esc",
    }
    return " / ".join(names.get(k.strip(), k.strip()) for k in key.split(","))
