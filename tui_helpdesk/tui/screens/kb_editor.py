"""The knowledge-base article editor: title, category, tags and the Markdown text, inline or in $EDITOR.

Dismisses with the values typed (a dict) or None. The KB screen saves them through services/kb.py and,
when the service refuses (a stale copy, a missing field), opens the editor again with the same values and
the reason, so nothing typed is lost.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static, TextArea

from tui_helpdesk.resources import stylesheet
from tui_helpdesk.tui.widgets.footer import Footer
from tui_helpdesk.untrusted import clean_line

FIELDS = ("title", "category", "tags")


def edit_in_editor(app: Any, text: str) -> tuple[str | None, str]:
    """(the new text, "") or (None, why not): $VISUAL/$EDITOR on a temp file, as the composer's ctrl+g."""
    from textual.app import SuspendNotSupported

    from tui_helpdesk.tui.widgets.composer import editor_command

    with tempfile.NamedTemporaryFile("w", suffix=".md", prefix="helpdesk-kb-", delete=False,
                                     encoding="utf-8") as fh:
        fh.write(text)
        path = Path(fh.name)
    try:
        command = [*editor_command(), str(path)]
        try:
            with app.suspend():
                result = subprocess.run(command, check=False)
        except SuspendNotSupported:  # headless (tests)
            result = subprocess.run(command, check=False, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if result.returncode != 0:
            return None, f"the editor exited with status {result.returncode}; the text is unchanged"
        return path.read_text(encoding="utf-8").rstrip("\n"), ""
    except OSError as exc:
        return None, f"could not run the editor: {exc}"
    finally:
        path.unlink(missing_ok=True)


class KbEditorScreen(ModalScreen[dict[str, Any] | None]):
    CSS_PATH = stylesheet("kb.tcss")
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="kb_editor.save", priority=True),
        Binding("ctrl+g", "editor", "$EDITOR", id="kb_editor.editor", priority=True),
        Binding("escape", "cancel", "Cancel", id="kb_editor.cancel"),
    ]

    def __init__(self, heading: str, values: dict[str, Any], error: str = "") -> None:
        super().__init__()
        self.heading = heading
        self.values = dict(values)
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(id="kb-editor-box"):
            yield Label(Text(self.heading, style="bold"), id="kb-editor-heading")
            yield Static(Text("ctrl+s save · ctrl+g $EDITOR · esc cancel", style="dim"), id="kb-editor-keys")
            for name, label in (("title", "Title"), ("category", "Category"), ("tags", "Tags (comma-separated)")):
                with Horizontal(classes="kb-editor-row"):
                    yield Label(label, classes="kb-editor-label")
                    yield Input(str(self.values.get(name) or ""), id=f"kb-editor-{name}", compact=True)
            yield TextArea(str(self.values.get("body") or ""), id="kb-editor-body", language="markdown",
                           soft_wrap=True, show_line_numbers=False)
            yield Static(Text(clean_line(self.error), style="red"), id="kb-editor-error")
        yield Footer()

    def on_mount(self) -> None:
        if self.values.get("title"):
            self.query_one("#kb-editor-body", TextArea).focus()
        else:
            self.query_one("#kb-editor-title", Input).focus()

    def _typed(self) -> dict[str, Any]:
        out = dict(self.values)
        for name in FIELDS:
            out[name] = self.query_one(f"#kb-editor-{name}", Input).value
        out["body"] = self.query_one("#kb-editor-body", TextArea).text
        return out

    def action_save(self) -> None:
        self.dismiss(self._typed())

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_editor(self) -> None:
        body = self.query_one("#kb-editor-body", TextArea)
        text, error = edit_in_editor(self.app, body.text)
        if text is None:
            self.query_one("#kb-editor-error", Static).update(Text(clean_line(error), style="red"))
        else:
            body.text = text
        body.focus()
