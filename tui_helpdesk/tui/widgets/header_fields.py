"""The ticket's header: every field, in a grid that fits 80 columns, plus presence of other agents."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.errors import StyleSyntaxError
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tui_helpdesk import clock
from tui_helpdesk.services.presence import Seen
from tui_helpdesk.services.ticket_view import TicketDetail
from tui_helpdesk.tui.widgets.pickers import PickItem
from tui_helpdesk.untrusted import clean_line

# (field id, label) in display order; the edit menu offers the same ids.
FIELDS: tuple[tuple[str, str], ...] = (
    ("requester", "Requester"),
    ("organization", "Org"),
    ("department", "Dept"),
    ("topic", "Topic"),
    ("cti", "CTI"),
    ("priority", "Priority"),
    ("status", "Status"),
    ("assignee", "Assignee"),
    ("team", "Team"),
    ("sla", "SLA due"),
    ("tags", "Tags"),
    ("collaborators", "CC"),
    ("links", "Links"),
    ("tasks", "Tasks"),
    ("time", "Time"),
)


def _style(color: str) -> Style:
    # colours are typed by admins; a bad one must not break the screen
    try:
        return Style.parse(color) if color else Style()
    except StyleSyntaxError:
        return Style()


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


def relative(value: datetime, now: datetime) -> str:
    seconds = int((value - now).total_seconds())
    future = seconds >= 0
    seconds = abs(seconds)
    if seconds < 3600:
        amount = f"{max(seconds // 60, 1)}m"
    elif seconds < 86400 * 2:
        amount = f"{seconds // 3600}h"
    else:
        amount = f"{seconds // 86400}d"
    return f"in {amount}" if future else f"{amount} ago"


def minutes(total: int) -> str:
    h, m = divmod(total, 60)
    return f"{h}h {m:02d}m" if h else f"{m}m"


def field_values(d: TicketDetail) -> dict[str, Text]:
    """Each header field as Text, cleaned: names, subjects and emails come from outside."""
    now = clock.now()
    c = clean_line

    def plain(value: str, empty: str = "—") -> Text:
        value = c(value)
        return Text(value) if value else Text(empty, style="dim")

    requester = Text(c(d.requester))
    if d.requester_email and d.requester_email != d.requester:
        requester.append(f" <{c(d.requester_email)}>", style="dim")
    if d.requester_bounce:
        requester.append(f" ⚠ {c(d.requester_bounce)[:60]}", style="bold red")
    cti = " › ".join(c(x) for x in (d.category, d.type, d.item) if x)
    status = Text(c(d.status), style=_style(d.status_color))
    if d.reopened:
        status.append(f" reopened×{d.reopen_count}", style="bold magenta")
    if d.archived:
        status.append(" archived", style="reverse")
    if d.due_at is not None:
        sla = Text(f"{when(d.due_at)} ({relative(d.due_at, now)})", style="bold red" if d.is_overdue else "")
        if d.is_overdue:
            sla.append(" OVERDUE", style="bold red reverse")
    else:
        sla = Text("—", style="dim")
    if d.sla_plan:
        sla.append(f" {c(d.sla_plan)}", style="dim")
    links = Text()
    for n, link in enumerate(d.links):
        if n:
            links.append(", ")
        links.append(f"{link.kind.replace('_', ' ')} ", style="dim")
        links.append(c(link.number), style="bold")
        # a parent's children (and every other link) carry their state: which are still open matters
        links.append(f" {link.state}", style="dim")
    if d.merged_into:
        links.append(("; " if links.plain else "") + "merged into ", style="dim")
        links.append(c(d.merged_into), style="bold yellow")
    if d.merged_children:
        links.append(("; " if links.plain else "") + "merged: ", style="dim")
        links.append(", ".join(c(x) for x in d.merged_children))
    open_tasks = [t for t in d.tasks if t.closed_at is None]
    tasks = Text(style="" if d.tasks else "dim")
    if not d.tasks:
        tasks.append("—")
    for i, t in enumerate(open_tasks[:2]):
        tasks.append(("; " if i else "") + clean_line(t.title)[:24])
        if t.due_at is not None:
            tasks.append(f" (due {t.due_at:%m-%d %H:%M})", style="dim")
    if d.tasks:
        tasks.append(f"  {len(open_tasks)} open / {len(d.tasks)}", style="dim")
    return {
        "requester": requester,
        "organization": plain(d.organization),
        "department": plain(d.department),
        "topic": plain(d.topic),
        "cti": plain(cti),
        "priority": Text(c(d.priority), style=_style(d.priority_color)),
        "status": status,
        "assignee": plain(d.assignee, "unassigned"),
        "team": plain(d.team),
        "sla": sla,
        "tags": Text(" ".join(f"#{c(t)}" for t in d.tags), style="cyan")
        if d.tags
        else Text("—", style="dim"),
        "collaborators": plain(", ".join(d.collaborators)),
        "links": links if links.plain else Text("—", style="dim"),
        "tasks": tasks,
        "time": Text(minutes(d.time_logged)) if d.time_logged else Text("—", style="dim"),
    }


def resolution_line(notes: str, max_lines: int = 3) -> Text:
    """A resolved ticket says how it was resolved, at the top: the notes, at most `max_lines` lines."""
    lines = [clean_line(x) for x in notes.strip().splitlines() if x.strip()]
    shown = lines[:max_lines] + (["…"] if len(lines) > max_lines else [])
    out = Text("Resolution ", style="dim")
    out.append("\n           ".join(shown), style="green")
    return out


_CLEAR = object()  # the "(empty)" / "(none)" choice of the pickers below


def extra_pairs(d: TicketDetail) -> list[tuple[str, Text]]:
    """The asset (once one is picked: `e` offers it) and the custom fields that apply, after the fixed ones."""
    pairs: list[tuple[str, Text]] = []
    if d.asset:
        pairs.append(("Asset", Text(clean_line(d.asset))))
    for v in d.custom:
        label = clean_line(v.label)[:14]
        if not v.text:
            missing = "required to close" if v.required_at_close else "—"
            pairs.append((label, Text(missing, style="yellow" if v.required_at_close else "dim")))
        else:
            pairs.append((label, Text(clean_line(v.text))))
    return pairs


def edit_items(d: TicketDetail) -> list[PickItem]:
    """What the edit menu (`e`) adds for this ticket: its asset and each custom field that applies."""
    items = [PickItem("asset", "Asset")] if d.organization_id is not None else []
    return items + [PickItem(f"cf.{v.name}", clean_line(v.label)) for v in d.custom if v.defined]


def edit_custom(screen: Any, key: str, d: TicketDetail) -> bool:
    """Run the edit of `key` if it is one of edit_items' (True); the ticket screen's dialogs ask for it and
    its `_update` saves it with a reason, so a refusal reads like any other field's."""
    if key == "asset":
        _edit_asset(screen, d)
        return True
    if not key.startswith("cf."):
        return False
    value = next((v for v in d.custom if v.name == key[3:]), None)
    if value is None:
        return True
    title = f"{clean_line(value.label)} of {d.number}"

    def save(new: Any) -> None:
        screen._update({"custom": {value.name: new}}, value.label, d, str(new or ""))

    if value.type in ("choice", "checkbox"):
        options = list(value.choices) if value.type == "choice" else ["yes", "no"]
        items = [PickItem(_CLEAR, "(empty)")] + [PickItem(o, clean_line(o)) for o in options]
        screen.pick(title, items, lambda chosen: save(None if chosen is _CLEAR else chosen), current=value.text or None)
        return True
    hints = {"date": "YYYY-MM-DD", "number": "a number", "multichoice": "comma separated: " + ", ".join(value.choices),
             "url": "https://…", "contact": "an email address"}
    screen.ask(title, lambda text: save(text.strip() or None), label=hints.get(value.type, "Value (empty clears)"),
               value=value.text, help_text=clean_line(value.help_text))
    return True


def _edit_asset(screen: Any, d: TicketDetail) -> None:
    from tui_helpdesk.services import assets, door

    org_id, ref, version = d.organization_id, d.number, d.version

    def chosen(asset_id: Any) -> None:
        asset = None if asset_id is _CLEAR else asset_id
        screen.ask_reason("change asset", lambda reason: screen.act(
            "set asset",
            lambda tx: assets.set_ticket_asset(tx, ref, asset, reason=reason, expected_version=version),
            note="asset changed"))

    def show(rows: list[Any]) -> None:
        if not rows:
            screen.say(f"{clean_line(d.organization)} has no assets yet (Admin > Assets)", True)
            return
        items = [PickItem(_CLEAR, "(none)")] + [PickItem(a.id, clean_line(a.label)) for a in rows]
        screen.pick(f"Asset of {d.number}", items, chosen, current=d.asset_id)

    screen.fetch(lambda ctx: door.read(ctx.engine, ctx.actor, assets.list_assets, org_id), show)


def presence_line(seen: Sequence[Seen]) -> Text | None:
    if not seen:
        return None
    out = Text("⚠ ", style="bold yellow")
    for n, s in enumerate(seen):
        if n:
            out.append("; ")
        doing = {"replying": "is replying", "noting": "is writing a note"}.get(s.activity, "is viewing")
        out.append(
            f"{clean_line(s.agent_name)} {doing}",
            style="bold yellow" if s.activity != "viewing" else "yellow",
        )
    return out


class _Once:
    """A renderable drawn once per width: Textual renders a `height: auto` widget's content to measure
    its height and again to paint it (and the header's grid is the costliest part of a ticket's
    first paint); the segments of the first render serve both."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable
        self._drawn: dict[tuple, list[Segment]] = {}

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        # not the height: Textual passes one to paint and none to measure, and neither the lines nor the
        # grid (a Table renders its cells with none) depend on it
        key = (options.max_width, options.justify, options.overflow, options.no_wrap)
        segments = self._drawn.get(key)
        if segments is None:
            segments = self._drawn[key] = list(console.render(self.renderable, options))
        return segments

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.renderable)


class HeaderFields(Static):
    """Renders a TicketDetail's title line and fields; two label/value pairs per row."""

    DEFAULT_CSS = """
    HeaderFields { height: auto; padding: 0 1; background: $boost; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.detail: TicketDetail | None = None
        self.seen: tuple[Seen, ...] = ()

    def show(self, detail: TicketDetail, seen: Sequence[Seen] = ()) -> None:
        self.detail = detail
        self.seen = tuple(seen)
        self.update(_Once(self.render_detail()))

    def render_detail(self) -> RenderableType:
        d = self.detail
        if d is None:
            return Text("loading…", style="dim")
        title = Text()
        title.append(clean_line(d.number), style="bold reverse")
        title.append(" ")
        title.append(clean_line(d.subject), style="bold")
        values = field_values(d)
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        pairs = [(label, values[key]) for key, label in FIELDS] + extra_pairs(d)
        for i in range(0, len(pairs), 2):
            left = pairs[i]
            right = pairs[i + 1] if i + 1 < len(pairs) else ("", Text(""))
            grid.add_row(left[0], left[1], right[0], right[1])
        parts: list[RenderableType] = [title, grid]
        if d.state in ("resolved", "closed") and (d.resolution_notes or "").strip():
            parts.append(resolution_line(d.resolution_notes))
        warn = presence_line(self.seen)
        if warn is not None:
            parts.append(warn)
        return Group(*parts)
