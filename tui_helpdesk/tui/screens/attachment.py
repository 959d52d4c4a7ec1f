"""Enter on an entry's attachment: look at it inside the app, or hand it to `$PAGER` / `xdg-open` on request.

What is shown comes from services/attachment_view (the actor must see the ticket). Everything from the
file is untrusted: text is cleaned (untrusted.py) before it reaches a widget, CSV cells too; a handed-off
file is a private copy (0600 in a 0700 directory) passed as an argument, never run.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Label, Static

from tui_helpdesk.services import attachment_view, door
from tui_helpdesk.services.attachment_view import AttachmentContent
from tui_helpdesk.services.errors import ServiceError
from tui_helpdesk.tui import markdown
from tui_helpdesk.tui.context import ctx_of
from tui_helpdesk.tui.widgets.footer import Footer
from tui_helpdesk.untrusted import clean, clean_line


def pager_command() -> list[str]:
    return shlex.split(os.environ.get("PAGER") or "less")


class AttachmentScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "back", "Back", id="attachment.back"),
        Binding("p", "pager", "$PAGER", id="attachment.pager"),
        Binding("o", "open", "Open (xdg-open)", id="attachment.open"),
    ]
    DEFAULT_CSS = """
    AttachmentScreen #attachment-title { padding: 0 1; text-style: bold; }
    AttachmentScreen #attachment-meta { padding: 0 1; color: $text-muted; }
    AttachmentScreen #attachment-body { height: 1fr; padding: 0 1; }
    AttachmentScreen #attachment-table { height: 1fr; }
    """

    def __init__(self, attachment_id: int, filename: str = "") -> None:
        super().__init__()
        self.attachment_id = attachment_id
        self.filename = filename
        self.content: AttachmentContent | None = None
        self.handed: list[list[str]] = []  # commands run on request (tests look)

    def compose(self) -> ComposeResult:
        yield Label(Text(f"Attachment {clean_line(self.filename)}"), id="attachment-title")
        yield Static("loading…", id="attachment-meta")
        with VerticalScroll(id="attachment-body"):
            yield Static("", id="attachment-text")
        yield DataTable(id="attachment-table", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).display = False
        self.query_one("#attachment-body").focus()
        self.load()

    @work(thread=True, exclusive=True, group="attachment")
    def load(self) -> None:
        ctx = ctx_of(self)
        try:
            content = door.read(ctx.engine, ctx.actor, attachment_view.view, self.attachment_id,
                                ctx.config.attachments_dir)
        except ServiceError as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.app.call_from_thread(self._show, content)

    def _failed(self, error: str) -> None:
        self.query_one("#attachment-meta", Static).update(Text(clean_line(error), style="bold red"))

    def _show(self, c: AttachmentContent) -> None:
        self.content = c
        self.query_one("#attachment-title", Label).update(Text(f"Attachment {clean_line(c.filename)}  ({c.kind})"))
        meta = Text("  ·  ".join(f"{k}: {clean_line(v)}" for k, v in c.meta))
        for note in c.notes:
            meta.append(f"\n{clean_line(note)}", style="yellow")
        if c.cut:
            meta.append("\nonly the beginning is shown: p pages through all of it", style="yellow")
        meta.append("\np $PAGER · o open in your viewer · esc back", style="dim")
        self.query_one("#attachment-meta", Static).update(meta)
        body = self.query_one("#attachment-text", Static)
        if c.kind == "markdown":
            body.update(markdown.render(c.text, "markdown"))
        elif c.kind in ("text", "pdf"):
            body.update(Text(clean(c.text)))
        elif c.kind == "csv" and c.rows:
            table = self.query_one(DataTable)
            width = max(len(r) for r in c.rows)
            header, *rest = [tuple(r) + ("",) * (width - len(r)) for r in c.rows]
            table.add_columns(*[clean_line(h)[:40] or f"col {n + 1}" for n, h in enumerate(header)])
            table.add_rows([[clean_line(v)[:80] for v in r] for r in rest])
            table.display = True
            self.query_one("#attachment-body").display = False
            table.focus()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_pager(self) -> None:
        self._hand_off("pager")

    def action_open(self) -> None:
        self._hand_off("open")

    @work(thread=True, group="attachment-copy")
    def _hand_off(self, how: str) -> None:
        ctx = ctx_of(self)
        try:
            path = door.read(ctx.engine, ctx.actor, attachment_view.private_copy, self.attachment_id,
                             ctx.config.attachments_dir)
        except ServiceError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.app.call_from_thread(self._run, how, path)

    def _run(self, how: str, path: Path) -> None:
        """The copy as an argument of the pager or the desktop's opener; the file itself is never run."""
        if how == "pager":
            command = [*pager_command(), str(path)]
            self.handed.append(command)
            try:
                with self.app.suspend():
                    subprocess.run(command, check=False)
            except SuspendNotSupported:  # headless (tests): nothing to hand the terminal to
                pass
            except OSError as exc:
                self.notify(f"could not run the pager: {exc}", severity="error")
            else:
                if not self.app.is_headless:  # the pager is done with it (tests look at the copy)
                    shutil.rmtree(path.parent, ignore_errors=True)
            return
        opener = shutil.which("xdg-open")
        command = [opener or "xdg-open", str(path)]
        self.handed.append(command)
        if opener is None:
            self.notify(f"no xdg-open here; the copy is at {path}", severity="warning")
            return
        try:
            subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            self.notify(f"could not run xdg-open: {exc}", severity="error")
            return
        self.notify(f"opened {clean_line(path.name)} with your viewer", timeout=3)
