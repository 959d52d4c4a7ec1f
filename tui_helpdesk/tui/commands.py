"""The command palette (ctrl+p): every action of the current screen, with its key beside it."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui_helpdesk.tui.keymap import display_key

Command = tuple[str, str, Callable[[], Any]]  # title, help (the key), callback


def screen_commands(screen: Any) -> list[Command]:
    """Bound actions from the screen's active bindings (keys after the user's keymap), then the
    screen's commands that have no key (`palette_commands()`)."""
    grouped: dict[tuple[int, str], tuple[str, list[str], Callable[[], Any]]] = {}
    for key, active in screen.active_bindings.items():
        b = active.binding
        if not b.description or not active.enabled:
            continue
        ident = (id(active.node), b.action)
        if ident not in grouped:
            run = partial(screen.app.run_action, b.action, active.node)
            grouped[ident] = (b.description, [], run)
        shown = display_key(key)
        if shown not in grouped[ident][1]:
            grouped[ident][1].append(shown)
    out: list[Command] = [(title, " / ".join(keys), run) for title, keys, run in grouped.values()]
    extra = getattr(screen, "palette_commands", None)
    if callable(extra):
        out.extend(extra())
    if getattr(screen.app, "ctx", None) is not None:
        # a contact's or organization's page is reachable from every screen; imported here so
        # start-up does not load the page
        from tui_helpdesk.tui.screens.client import palette_entries

        out.extend(palette_entries(screen))
    return out


class ActionsProvider(Provider):
    """Lists on open (no typing needed) and narrows as the user types."""

    def _commands(self) -> list[Command]:
        return screen_commands(self.screen)

    async def discover(self) -> Hits:
        for title, key, run in self._commands():
            yield DiscoveryHit(title, run, help=key or None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, key, run in self._commands():
            score = max(matcher.match(title), matcher.match(key) * 0.5 if key else 0)
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, text=title, help=key or None)
