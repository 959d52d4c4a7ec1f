"""Parsed stylesheets are shared by the apps of one process (tui/shared_css.py)."""

from __future__ import annotations

import uuid
from pathlib import Path

from tui_helpdesk.config import Config
from tui_helpdesk.tui.app import HelpdeskApp
from tui_helpdesk.tui.shared_css import SharedStylesheet


def _sheet(css: str, variables: dict[str, str]) -> SharedStylesheet:
    sheet = SharedStylesheet(variables=variables)
    sheet.add_source(css, read_from=("test.tcss", ""))
    sheet.parse()
    return sheet


def test_a_later_stylesheet_reuses_the_parsed_rules_and_a_theme_change_parses_again() -> None:
    css = f"#x-{uuid.uuid4().hex} {{ color: $accent; }}"  # text no other test parsed
    first = _sheet(css, {"accent": "red"})
    second = _sheet(css, {"accent": "red"})
    assert second.rules[0] is first.rules[0]
    other_theme = _sheet(css, {"accent": "blue"})
    assert other_theme.rules[0] is not first.rules[0]
    assert "#0000FF" in other_theme.css and "#FF0000" in first.css


def test_reparse_keeps_sharing(tmp_path: Path) -> None:
    css = f"#y-{uuid.uuid4().hex} {{ color: red; }}"
    first = _sheet(css, {})
    again = _sheet(css, {})
    again.add_source("Static { color: blue; }", read_from=("screen.tcss", ""))
    again.reparse()  # what Textual does when a screen brings its CSS_PATH
    assert again.rules[0] is first.rules[0]
    assert len(again.rules) == 2


def test_the_app_uses_the_shared_stylesheet(tmp_path: Path) -> None:
    config = Config(database_url="sqlite://", data_dir=tmp_path, config_file=tmp_path / "none.toml")
    app = HelpdeskApp(config, engine=None, actor=None)  # type: ignore[arg-type]
    assert type(app.stylesheet) is SharedStylesheet  # not the test harness apps' subclass (support/headless.py)


def test_a_node_styled_as_in_an_earlier_app_gets_the_same_rules_and_a_changed_one_its_own() -> None:
    import asyncio

    from textual.app import App, ComposeResult
    from textual.widgets import Static

    from tui_helpdesk.tui import shared_css

    tag = uuid.uuid4().hex

    class Styled(App[None]):
        CSS = f".a-{tag} {{ color: red; }} .a-{tag}.b {{ color: blue; }} .a-{tag}:disabled {{ color: green; }}"

        def __init__(self, classes: str) -> None:
            super().__init__()
            self.stylesheet = SharedStylesheet(variables=self.get_css_variables())
            self.classes_ = classes

        def compose(self) -> ComposeResult:
            yield Static("x", classes=self.classes_)

    async def color(classes: str, disabled: bool = False) -> tuple[str, int]:
        app = Styled(classes)
        async with app.run_test() as pilot:
            static = app.query_one(Static)
            if disabled:
                static.disabled = True
                await pilot.pause()
            return static.styles.color.hex, len(shared_css._APPLIED)

    first, entries = asyncio.run(color(f"a-{tag}"))
    again, entries_again = asyncio.run(color(f"a-{tag}"))
    assert first == again == "#FF0000"
    assert entries_again == entries  # the second app's nodes were all styled from the first's
    assert asyncio.run(color(f"a-{tag} b"))[0] == "#0000FF"  # another class: its own rules
    assert asyncio.run(color(f"a-{tag}", disabled=True))[0] == "#008000"  # a pseudo class the rules name
