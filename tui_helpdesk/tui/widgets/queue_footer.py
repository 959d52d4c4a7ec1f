"""The queue's footer: every shown key when there is room, only the keys that matter when narrow.

At 80 columns the full row of keys was cut mid-word ("s St"); a narrow footer shows fewer keys,
compactly, and all of them whole. `?` (help) and ctrl+p (the palette) list the rest.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# the actions a narrow footer keeps, whatever their keys are rebound to
NARROW_ACTIONS = frozenset(
    {"open", "filter", "assign", "set_status", "resolve", "toggle_sidebar", "help", "quit"}
)
# below this width the full footer does not fit (measured with every default binding shown)
FULL_WIDTH = 120


class QueueFooter(Footer):
    narrow: reactive[bool] = reactive(False, recompose=True)
    _shown: Any = None  # what the last compose showed (see bindings_changed)

    def _keys_shown(self) -> Any:
        active = self.screen.active_bindings
        return self.narrow, tuple(
            (b.key, b.action, b.description, enabled, tooltip, id(b.group))
            for (_, b, enabled, tooltip) in active.values()
            if b.show or b.key == self.app.COMMAND_PALETTE_BINDING
        )

    def bindings_changed(self, screen: Screen) -> None:
        # Textual recomposes the footer on every focus or binding change; at start-up that was three
        # times the same keys, each key a widget mounted and styled anew. Recompose only on a change.
        if self._bindings_ready and self.is_attached and screen is self.screen:
            if self._keys_shown() == self._shown:
                return
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        if self._bindings_ready:
            self._shown = self._keys_shown()
        for widget in super().compose():
            keep = (
                not self.narrow
                or not isinstance(widget, FooterKey)
                or widget.action in NARROW_ACTIONS
                or widget.has_class("-command-palette")
            )
            if keep:
                yield widget

    def watch_narrow(self, narrow: bool) -> None:
        self.compact = narrow
