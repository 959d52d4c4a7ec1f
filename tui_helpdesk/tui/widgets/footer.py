"""Textual's Footer, with each key styled once when it mounts instead of three times.

A FooterKey starts compact (its own default) and the Footer then binds it to the footer's own
`compact` (False unless asked): at mount its watcher adds the `-compact` class and the binding
removes it again, and each class change re-applies the stylesheet to the key and its children at
once. Across the ~15 keys of a footer that was most of the cost of composing one, and a footer is
composed again whenever the keys it shows change. Here each key gets the class it will end up with
before it mounts (the palette key, not bound, stays compact as in Textual), so it is styled once, the
same way. The footer also recomposes only when what it would show changed: Textual recomposes it on
every focus or binding change, most of them showing the same keys.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey


class Footer(TextualFooter):
    _shown: Any = None  # what the last compose showed (see bindings_changed)

    def _keys_shown(self) -> Any:
        active = self.screen.active_bindings
        return self.compact, tuple(
            (b.key, b.action, b.description, enabled, tooltip, id(b.group))
            for (_, b, enabled, tooltip) in active.values()
            if b.show or b.key == self.app.COMMAND_PALETTE_BINDING
        )

    def bindings_changed(self, screen: Screen) -> None:
        if self._bindings_ready and self.is_attached and screen is self.screen:
            if self._keys_shown() == self._shown:
                return
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        if self._bindings_ready:
            self._shown = self._keys_shown()
        for widget in super().compose():
            _settle_compact(widget, self.compact)
            yield widget


def _settle_compact(widget: Any, compact: bool) -> None:
    """Give a FooterKey (those in a key group come through here too) the compact state and class it will
    have once mounted, restyling nothing: set this way, its watcher never runs."""
    if isinstance(widget, FooterKey):
        value = True if widget.has_class("-command-palette") else compact  # the palette key is not bound
        widget.set_reactive(FooterKey.compact, value)
        widget.set_class(value, "-compact", update=False)
