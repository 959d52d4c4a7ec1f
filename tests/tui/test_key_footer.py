"""The ticket screen's one-widget footer draws the line Textual's Footer draws, and a click presses a key."""

from __future__ import annotations

import asyncio

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static
from waiting import until

from tui_helpdesk.tui.widgets.key_footer import KeyFooter

BINDINGS = [
    Binding("escape,q", "back", "Back"),
    Binding("r", "reply", "Reply"),
    Binding("e", "edit", "Edit"),
    Binding("x", "hidden", "Hidden", show=False),
    Binding("a", "off", "Assign"),
]


class Keys(Screen[None]):
    BINDINGS = BINDINGS

    def __init__(self, footer: type) -> None:
        super().__init__()
        self.footer = footer
        self.pressed: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("body")
        yield self.footer()

    def action_reply(self) -> None:
        self.pressed.append("reply")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if action == "off" else True  # shown, dimmed: as a key that does not apply now


class KeysApp(App[None]):
    def __init__(self, footer: type) -> None:
        super().__init__()
        self.footer = footer

    def on_mount(self) -> None:
        self.push_screen(Keys(self.footer))


async def _line(footer: type, width: int) -> tuple[str, list[tuple[object, ...]]]:
    """The footer's row as drawn: its text, and each cell's colours (so dimmed keys count)."""
    app = KeysApp(footer)
    async with app.run_test(size=(width, 5)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, Keys) and "Reply" in _row(app)[0], "the footer drawn")
        await pilot.pause()
        return _row(app)


def _row(app: App[None]) -> tuple[str, list[tuple[object, ...]]]:
    """The bottom row's text and what each cell looks like (a blank's colour is not seen)."""
    last = app.screen._compositor.render_strips()[-1]
    cells = []
    for seg in last:
        st = seg.style
        for ch in seg.text:
            seen = (st.color, st.bold, st.dim, st.italic, st.underline, st.reverse) if ch.strip() else ()
            cells.append((st.bgcolor, *seen))
    return last.text, cells


@pytest.mark.parametrize("width", [80, 40])
def test_the_line_is_textuals_footer_line(width: int) -> None:
    ours, theirs = asyncio.run(_line(KeyFooter, width)), asyncio.run(_line(Footer, width))
    assert "Hidden" not in ours[0] and "Back" in ours[0] and "palette" in ours[0]
    assert ours == theirs


def test_a_click_on_a_key_presses_it() -> None:
    async def run() -> None:
        app = KeysApp(KeyFooter)
        async with app.run_test(size=(80, 5)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, Keys) and "Reply" in _row(app)[0], "the footer")
            column = _row(app)[0].index("Reply")
            await pilot.click(KeyFooter, offset=(column, 0))
            await until(pilot, lambda: app.screen.pressed == ["reply"], "the key pressed")

    asyncio.run(run())
