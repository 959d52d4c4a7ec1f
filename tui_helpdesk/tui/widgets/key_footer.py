"""A screen's keys on its bottom line, drawn as Textual's Footer draws them, as one widget.

Textual's Footer is a widget per key, mounted and styled anew each time the focus or the bindings
change (three to seven times while a ticket opens): most of the time the ticket screen took to
open. This one draws the same line (the shown keys, then the palette key on the right) from the
screen's active bindings in one render, and a click on a key presses it, as on the Footer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from rich.style import Style
from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget

DIM = Style(dim=True)


class _Key(NamedTuple):
    key: str
    display: str
    description: str
    enabled: bool


class KeyFooter(Widget):
    """The shown bindings of the screen it is on; the palette key (ctrl+p) docked at the right."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-footer--key", "key-footer--description", "key-footer--palette-border"}
    # the variables and paddings of Textual's Footer and FooterKey, so the line looks the same
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
    }
    KeyFooter > .key-footer--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeyFooter > .key-footer--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    KeyFooter > .key-footer--palette-border { color: $foreground 20%; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._spans: list[tuple[int, int, _Key]] = []  # (first column, past the last, key) as drawn

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        # what is shown is worked out when the line is drawn, once a frame however often this comes
        if screen is self.screen:
            self.refresh()

    def _keys(self) -> tuple[tuple[_Key, ...], _Key | None]:
        """The keys to show (the first binding of each action, as the Footer shows), and the palette's."""
        app = self.app
        shown: dict[str, _Key] = {}
        palette: _Key | None = None
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if binding.show and binding.action not in shown:
                shown[binding.action] = _Key(binding.key, app.get_key_display(binding), binding.description, enabled)
            if binding.key == app.COMMAND_PALETTE_BINDING and app.ENABLE_COMMAND_PALETTE and palette is None:
                palette = _Key(binding.key, app.get_key_display(binding), binding.description, enabled)
        return tuple(shown.values()), palette

    def _pieces(self, key: _Key, compact: bool) -> Iterator[tuple[str, Any]]:
        key_style = self.get_component_rich_style("key-footer--key")
        description_style = self.get_component_rich_style("key-footer--description")
        if not key.enabled:  # FooterKey.-disabled
            key_style += DIM
            description_style += DIM
        if compact:  # the Footer's palette key keeps FooterKey's compact padding
            yield key.display, key_style
            if key.description:
                yield " " + key.description, description_style
        else:
            yield f" {key.display} ", key_style
            if key.description:
                yield f"{key.description} ", description_style

    def render(self) -> Text:
        keys, palette = self._keys()
        width = self.size.width
        line = Text(no_wrap=True, overflow="crop", end="")
        spans: list[tuple[int, int, _Key]] = []
        for key in keys:
            start = line.cell_len
            for text, style in self._pieces(key, compact=False):
                line.append(text, style)
            spans.append((start, line.cell_len, key))
        tail = Text(no_wrap=True, end="")
        if palette is not None:
            tail.append("▏", self.get_component_rich_style("key-footer--palette-border"))
            for text, style in self._pieces(palette, compact=True):
                tail.append(text, style)
            # the palette key's right padding (the Footer's padding-right: 1)
            tail.append(" ", style)
        room = max(width - tail.cell_len, 0)
        line.truncate(room, pad=True)
        if palette is not None:
            spans.append((room, width, palette))
        line.append_text(tail)
        self._spans = [(a, min(b, room) if k is not palette else b, k) for a, b, k in spans if a < width]
        return line

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                if key.enabled:
                    self.app.simulate_key(key.key)
                else:
                    self.app.bell()
                return
