"""The composer: write a public reply or an internal note, then hand back a `Draft`.

It sits beside the thread on a wide terminal and below it on a narrow one, so the message being
answered stays in view (the ticket screen makes room: `room(right, bottom)`); alt+up / alt+down walk
the thread behind while the agent writes.

The composer never sends: the ticket screen sends the draft and, if sending fails (a conflicting
edit, a bad address), opens the composer again with the same draft, so no words are ever lost. What
is written is kept as the agent types (services/drafts.keep, a moment after the last key), so a
draft survives leaving the ticket and quitting the app; sending removes it, discarding too.
Keys (all work while typing): ctrl+s send, ctrl+t preview, ctrl+g $EDITOR, ctrl+r canned response,
ctrl+f attach a file, ctrl+x clear attachments, Esc close (keep the draft, discard it, or go on).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static, TextArea

from tui_helpdesk.resources import stylesheet
from tui_helpdesk.services import canned, door, drafts
from tui_helpdesk.services.choices import Choice
from tui_helpdesk.services.errors import ServiceError
from tui_helpdesk.services.lookup import EMAIL_RE
from tui_helpdesk.services.ticket_view import TicketDetail
from tui_helpdesk.tui import markdown
from tui_helpdesk.tui.context import ctx_of
from tui_helpdesk.untrusted import clean_line

from .pickers import ChoiceScreen, PickerScreen, PickItem, PromptScreen

SIDE_MIN_WIDTH = 110  # from this many columns the composer sits beside the thread, else below it
KEEP_AFTER = 0.8  # seconds after the last key before the draft is kept


@dataclass(frozen=True)
class Draft:
    """What the agent wrote and what should happen with it."""

    kind: str  # "reply" | "note"
    body: str = ""
    time_spent: int = 0
    cc: tuple[str, ...] = ()
    attachments: tuple[Path, ...] = ()
    status_id: int | None = None  # replies only: "send and set status"
    resolution_notes: str | None = None

    @property
    def empty(self) -> bool:
        return not self.body.strip() and not self.attachments

    @classmethod
    def from_saved(cls, saved: drafts.SavedDraft) -> Draft:
        return cls(
            kind=saved.kind,
            body=saved.body,
            time_spent=saved.time_spent,
            cc=saved.cc,
            attachments=tuple(Path(f) for f in saved.files),
            status_id=saved.status_id,
            resolution_notes=saved.resolution_notes,
        )

    def keep_in(self, tx: door.Tx, ref: str) -> bool:
        """Keep this draft on ticket `ref` (services/drafts.keep); an empty one removes the kept one."""
        return drafts.keep(
            tx,
            ref,
            self.kind,
            self.body,
            time_spent=self.time_spent,
            cc=self.cc,
            files=self.attachments,
            status=self.status_id,
            resolution_notes=self.resolution_notes,
        )


def editor_command() -> list[str]:
    """$VISUAL, then $EDITOR, then vi, as git chooses."""
    value = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    return shlex.split(value)


class ComposerScreen(ModalScreen[Draft | None]):
    """Dismisses with the Draft to send, or None when the agent discards it."""

    CSS_PATH = stylesheet("ticket.tcss")

    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="composer.send", priority=True),
        Binding("ctrl+t", "toggle_preview", "Preview", id="composer.preview", priority=True),
        Binding("ctrl+g", "editor", "$EDITOR", id="composer.editor", priority=True),
        Binding("ctrl+r", "canned", "Canned", id="composer.canned", priority=True),
        Binding("ctrl+k", "knowledge_base", "Knowledge base", id="composer.kb", priority=True),
        Binding("ctrl+f", "attach", "Attach", id="composer.attach", priority=True),
        Binding(
            "ctrl+x", "clear_attachments", "Clear files", id="composer.clear_files", show=False, priority=True
        ),
        Binding("alt+down", "thread(1)", "Next entry", id="composer.thread_next", show=False, priority=True),
        Binding("alt+up", "thread(-1)", "Previous entry", id="composer.thread_prev", show=False, priority=True),
        Binding("escape", "close", "Close", id="composer.close"),
    ]

    class CannedLoaded(Message):
        def __init__(self, items: list[canned.Canned], error: str = "") -> None:
            super().__init__()
            self.items = items
            self.error = error

    class Filled(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(
        self,
        ticket: TicketDetail,
        draft: Draft,
        statuses: Sequence[Choice] = (),
        *,
        notice: str = "",
        room: Callable[[int, int], None] | None = None,
        thread: Any = None,
    ) -> None:
        """`room(right, bottom)` asks the screen below to leave that many columns on its right (the
        composer beside it) or lines at its bottom (below it); `thread` is its ThreadView."""
        super().__init__()
        self.ticket = ticket
        self.draft = draft
        self.statuses = list(statuses)
        self.notice = notice
        self.attachments: list[Path] = list(draft.attachments)
        self.room = room
        self.behind = thread
        self.layout_mode = ""  # "side" | "below"
        self.kept: Draft | None = None  # what was last kept (None: nothing since the composer opened)
        self.left_draft: Draft | None = None  # closed with "keep as a draft": what was written
        # Keeping runs on worker threads; the lock orders a keep under way against closing, and
        # `_keeping_done` turns a keep after a send or a discard into nothing (a sent draft stays gone).
        self._keep_lock = threading.Lock()
        self._keeping_done = False
        self._keep_of: tuple[Any, Any] | None = None  # (engine, actor), set on mount
        self._changed_at: float | None = None  # when the text last changed and was not kept since
        self._latest: Draft | None = None  # the draft as of the last change (kept on unmount: no widgets then)
        # each change is numbered; a keep under way with an older one writes nothing (the newer is kept)
        self._seq = 0
        self._kept_seq = 0

    @property
    def is_reply(self) -> bool:
        return self.draft.kind == "reply"

    def compose(self) -> ComposeResult:
        title = Text()
        if self.is_reply:
            title.append(" REPLY ", style="bold reverse green")
            title.append(f" to {clean_line(self.ticket.requester_email or self.ticket.requester)}")
        else:
            title.append(" INTERNAL NOTE ", style="bold reverse yellow")
            title.append(" seen by staff only")
        title.append(f"  {clean_line(self.ticket.number)} {clean_line(self.ticket.subject)}", style="dim")
        with Vertical(id="composer-box", classes="reply" if self.is_reply else "note"):
            yield Label(title, id="composer-title")
            yield TextArea(
                self.draft.body,
                id="composer-body",
                soft_wrap=True,
                show_line_numbers=False,
                tab_behavior="focus",
            )
            with VerticalScroll(id="composer-preview"):
                yield Static("", id="composer-preview-text")
            with Horizontal(classes="composer-row"):
                yield Label("Time (min)", classes="composer-label")
                yield Input(
                    str(self.draft.time_spent or ""),
                    id="composer-time",
                    placeholder="0",
                    restrict=r"[0-9]*",
                    max_length=5,
                    compact=True,
                )
                if self.is_reply:
                    yield Label("CC", classes="composer-label")
                    yield Input(
                        ", ".join(self.draft.cc),
                        id="composer-cc",
                        placeholder="a@x.com, b@y.org",
                        compact=True,
                    )
            if self.is_reply:
                with Horizontal(classes="composer-row"):
                    yield Label("Then set", classes="composer-label")
                    yield Select(
                        [(Text(f"{clean_line(s.name)} ({s.hint})"), s.id) for s in self.statuses],
                        prompt="status unchanged",
                        value=self.draft.status_id if self.draft.status_id is not None else Select.NULL,
                        id="composer-status",
                        compact=True,
                    )
                    yield Input(
                        self.draft.resolution_notes or "",
                        id="composer-notes",
                        placeholder="resolution notes",
                        compact=True,
                    )
            yield Static("", id="composer-files")
            yield Static(Text(self.notice, style="bold red") if self.notice else "", id="composer-error")
            yield Static(
                Text(
                    "ctrl+s send · ctrl+t preview · ctrl+g $EDITOR · ctrl+r canned · ctrl+f attach · "
                    "alt+↑/↓ thread · tab next field · esc close"
                ),
                id="composer-keys",
            )

    def on_mount(self) -> None:
        self.query_one("#composer-preview").display = False
        self._update_files()
        self._update_notes_visibility()
        body = self.query_one("#composer-body", TextArea)
        body.focus()
        body.move_cursor(body.document.end)
        ctx = ctx_of(self)
        if ctx.actor.agent_id is not None:
            self._keep_of = (ctx.engine, ctx.actor)
            self.set_interval(KEEP_AFTER / 2, self._keep_when_paused)
        self._lay_out()

    def on_resize(self) -> None:
        self._lay_out()

    def on_unmount(self) -> None:
        # quitting the app (ctrl+q) or anything else that takes the composer away keeps the words
        self.keep_now()
        with self._keep_lock:
            self._keeping_done = True  # a keep still under way finds the newest already kept
        if self.room is not None:
            self.room(0, 0)

    # --- beside or below the thread -------------------------------------------------------------

    def _lay_out(self) -> None:
        width, height = self.app.size
        box = self.query_one("#composer-box")
        if width >= SIDE_MIN_WIDTH:
            mode, right, bottom = "side", max(52, width * 45 // 100), 0
            box.styles.width, box.styles.height = right, "100%"
        else:
            mode, right, bottom = "below", 0, max(12, height * 55 // 100)
            box.styles.width, box.styles.height = "100%", bottom
        self.set_class(mode == "side", "-side")
        self.set_class(mode == "below", "-below")
        self.layout_mode = mode
        if self.room is not None:
            self.room(right, bottom)

    def action_thread(self, step: int) -> None:
        """Walk the thread behind while writing (the entry being answered, the ones before it)."""
        if self.behind is not None:
            self.behind.action_select(step)

    # --- state ----------------------------------------------------------------------------------

    def current_draft(self) -> Draft:
        time_text = self.query_one("#composer-time", Input).value.strip()
        cc: tuple[str, ...] = ()
        status_id: int | None = None
        notes: str | None = None
        if self.is_reply:
            cc = tuple(
                x.strip()
                for x in self.query_one("#composer-cc", Input).value.replace(";", ",").split(",")
                if x.strip()
            )
            value = self.query_one("#composer-status", Select).value
            status_id = value if isinstance(value, int) else None
            if status_id is not None and self._state_of(status_id) == "resolved":
                notes = self.query_one("#composer-notes", Input).value.strip() or None
        return replace(
            self.draft,
            body=self.query_one("#composer-body", TextArea).text,
            time_spent=int(time_text) if time_text.isdigit() else 0,
            cc=cc,
            attachments=tuple(self.attachments),
            status_id=status_id,
            resolution_notes=notes,
        )

    def _state_of(self, status_id: int) -> str:
        return next((s.hint for s in self.statuses if s.id == status_id), "")

    def _error(self, message: str) -> None:
        self.query_one("#composer-error", Static).update(Text(clean_line(message), style="bold red"))

    def _update_files(self) -> None:
        files = self.query_one("#composer-files", Static)
        if self.attachments:
            text = Text("Files: ", style="bold")
            text.append(", ".join(clean_line(p.name) for p in self.attachments))
            files.update(text)
            files.display = True
        else:
            files.display = False

    def _update_notes_visibility(self) -> None:
        if not self.is_reply:
            return
        value = self.query_one("#composer-status", Select).value
        resolved = isinstance(value, int) and self._state_of(value) == "resolved"
        self.query_one("#composer-notes", Input).display = resolved

    @on(Select.Changed, "#composer-status")
    def _status_changed(self) -> None:
        self._update_notes_visibility()
        self._keep_soon()

    # --- keeping the draft ----------------------------------------------------------------------

    @on(TextArea.Changed)
    @on(Input.Changed)
    def _keep_soon(self) -> None:
        """A moment after the last key, keep what is written (not on every key: one write a pause)."""
        self._changed_at = time.monotonic()
        try:
            self._latest = self.current_draft()
            self._seq += 1
        except NoMatches:  # a field not mounted yet (its first Changed) or gone already
            pass

    def _keep_when_paused(self) -> None:
        if self._changed_at is None or self._keeping_done or time.monotonic() - self._changed_at < KEEP_AFTER:
            return
        self._changed_at = None
        if self._latest is not None:
            self._keep_worker(self._latest, self._seq)

    @work(thread=True, group="composer-keep", exclusive=True)
    def _keep_worker(self, draft: Draft, seq: int) -> None:
        self._keep(draft, seq)

    def keep_now(self) -> None:
        """Keep what is written now, on this thread (one small row); nothing after a send or discard."""
        self._changed_at = None
        try:
            self._latest = self.current_draft()
            self._seq += 1
        except NoMatches:  # unmounting: the fields are gone, the last change is what there is
            pass
        if self._keep_of is not None and not self._keeping_done and self._latest is not None:
            self._keep(self._latest, self._seq)

    def _keep(self, draft: Draft, seq: int) -> None:
        with self._keep_lock:
            if self._keeping_done or self._keep_of is None or seq <= self._kept_seq or draft == self.kept:
                return
            engine, actor = self._keep_of
            try:
                door.write(engine, actor, draft.keep_in, self.ticket.number)
            except ServiceError:
                return  # the draft is still on the screen; the next pause tries again
            except Exception:
                return  # a busy database must not disturb writing
            self.kept, self._kept_seq = draft, seq

    def _stop_keeping(self, discard: bool = False) -> None:
        """No keeping after this (a send removes the kept draft in its own transaction)."""
        self._changed_at = None
        with self._keep_lock:
            self._keeping_done = True
            if discard and self._keep_of is not None:
                engine, actor = self._keep_of
                try:
                    door.write(engine, actor, drafts.discard, self.ticket.number, self.draft.kind)
                except Exception:
                    pass

    # --- actions --------------------------------------------------------------------------------

    def action_send(self) -> None:
        draft = self.current_draft()
        if not draft.body.strip():
            self._error("write something first (the body is empty)")
            return
        bad = [a for a in draft.cc if not EMAIL_RE.match(a)]
        if bad:
            self._error(f"CC: {bad[0]!r} is not an email address")
            return
        unknown = canned.unknown_variables(draft.body)
        if unknown:
            self._error(f"unknown variable %{{{unknown[0]}}} in the text; fix or remove it")
            return
        self._stop_keeping()
        self.dismiss(draft)

    def action_close(self) -> None:
        draft = self.current_draft()
        if draft.empty:
            self._stop_keeping(discard=True)
            self.dismiss(None)
            return

        def answered(choice: str | None) -> None:
            if choice == "keep":
                self.left_draft = self.current_draft()
                self.keep_now()
                self._stop_keeping()
                self.app.notify(f"{what} kept as a draft: {'r' if self.is_reply else 'n'} opens it again",
                                timeout=4)
                self.dismiss(None)
            elif choice == "discard":
                self._stop_keeping(discard=True)
                self.dismiss(None)

        what = "reply" if self.is_reply else "note"
        self.app.push_screen(
            ChoiceScreen(
                f"Close this {what}? A kept draft comes back when you open the ticket (:drafts lists them).",
                [("k", "keep as a draft", "keep"), ("d", "discard it", "discard"), ("w", "keep writing", "write")],
                cancel="write",
            ),
            answered,
        )

    def action_toggle_preview(self) -> None:
        body = self.query_one("#composer-body", TextArea)
        preview = self.query_one("#composer-preview")
        showing = not preview.display
        if showing:
            self.query_one("#composer-preview-text", Static).update(markdown.render(body.text))
        preview.display = showing
        body.display = not showing
        if not showing:
            body.focus()

    def action_editor(self) -> None:
        body = self.query_one("#composer-body", TextArea)
        with tempfile.NamedTemporaryFile(
            "w", suffix=".md", prefix="helpdesk-", delete=False, encoding="utf-8"
        ) as fh:
            fh.write(body.text)
            path = Path(fh.name)
        try:
            command = [*editor_command(), str(path)]
            try:
                with self.app.suspend():
                    result = subprocess.run(command, check=False)
            except SuspendNotSupported:
                # headless (tests) or a driver that cannot hand over the terminal
                result = subprocess.run(
                    command,
                    check=False,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            if result.returncode != 0:
                self._error(f"the editor exited with status {result.returncode}; the draft is unchanged")
                return
            body.text = path.read_text(encoding="utf-8").rstrip("\n")
            body.move_cursor(body.document.end)
        except OSError as exc:
            self._error(f"could not run the editor: {exc}")
        finally:
            path.unlink(missing_ok=True)
        body.focus()

    def action_attach(self) -> None:
        def check(value: str) -> str | None:
            path = Path(value.strip()).expanduser()
            if not value.strip():
                return "give a path"
            if not path.is_file():
                return f"no file at {path}"
            return None

        def chosen(value: str | None) -> None:
            if value:
                self._check_attachment(Path(value.strip()).expanduser())

        self.app.push_screen(
            PromptScreen("Attach a file", label="Path", placeholder="~/Downloads/report.pdf", validate=check),
            chosen,
        )

    @work(thread=True, group="composer")
    def _check_attachment(self, path: Path) -> None:
        from tui_helpdesk.services import attachments

        ctx = ctx_of(self)
        try:
            resolved = door.read(ctx.engine, ctx.actor, attachments.check_file, path)
        except ServiceError as exc:
            self.app.call_from_thread(self._error, str(exc))
            return
        self.app.call_from_thread(self._add_attachment, resolved)

    def _add_attachment(self, path: Path) -> None:
        if path not in self.attachments:
            self.attachments.append(path)
        self._update_files()
        self.query_one("#composer-error", Static).update("")
        self._keep_soon()

    def action_clear_attachments(self) -> None:
        self.attachments.clear()
        self._update_files()
        self._keep_soon()

    def action_knowledge_base(self) -> None:
        """ctrl+k: an article's text or its public link, into the reply (tui/screens/kb_picker.py)."""
        from tui_helpdesk.tui.screens.kb_picker import KbPickerScreen

        def picked(text: str | None) -> None:
            if text:
                self.post_message(self.Filled(text))

        self.app.push_screen(KbPickerScreen(), picked)

    def action_canned(self) -> None:
        self._load_canned()

    @work(thread=True, group="composer")
    def _load_canned(self) -> None:
        ctx = ctx_of(self)
        try:
            items = canned.list_for(ctx.engine, ctx.actor.agent_id, self.ticket.department_id)
        except ServiceError as exc:
            self.post_message(self.CannedLoaded([], str(exc)))
            return
        self.post_message(self.CannedLoaded(items))

    def on_composer_screen_canned_loaded(self, message: CannedLoaded) -> None:
        if message.error:
            self._error(message.error)
            return
        if not message.items:
            self._error("no canned responses for this department yet (an admin adds them)")
            return
        items = [
            PickItem(c, c.title, c.body.strip().splitlines()[0][:60] if c.body.strip() else "")
            for c in message.items
        ]

        def picked(choice: canned.Canned | None) -> None:
            if choice is not None:
                self._fill(choice.body)

        self.app.push_screen(PickerScreen("Insert a canned response", items), picked)

    @work(thread=True, group="composer")
    def _fill(self, body: str) -> None:
        ctx = ctx_of(self)
        text = door.read(ctx.engine, ctx.actor, canned.fill, body, self.ticket)
        self.post_message(self.Filled(text))

    def on_composer_screen_filled(self, message: Filled) -> None:
        area = self.query_one("#composer-body", TextArea)
        row, col = area.cursor_location
        lines = area.text.split("\n")
        before = "\n".join(lines[:row] + [lines[row][:col]]) if lines else ""
        after = "\n".join([lines[row][col:]] + lines[row + 1 :]) if lines else ""
        area.insert(canned.spaced(before, message.text, after))
        area.focus()
