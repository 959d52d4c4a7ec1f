"""The queue's footer: every shown key when there is room, only the keys that matter when narrow.

At 80 columns the full row of keys was cut mid-word ("s St"); a narrow footer shows fewer keys,
compactly, and all of them whole. `?` (help) and ctrl+p (the palette) list the rest.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widgets._footer import FooterKey

from tui_helpdesk.tui.widgets.footer import Footer

# the actions a narrow footer keeps, whatever their keys are rebound to
NARROW_ACTIONS = frozenset(
    {"open", "filter", "assign", "set_status", "resolve", "toggle_sidebar", "help", "quit"}
)
# below this width the full footer does not fit (measured with every default binding shown)
FULL_WIDTH = 120


class QueueFooter(Footer):
    narrow: reactive[bool] = reactive(False, recompose=True)

    def _keys_shown(self) -> Any:
        return self.narrow, super()._keys_shown()

    def compose(self) -> ComposeResult:
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
