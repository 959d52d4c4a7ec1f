"""ctrl+k in the composer: search the knowledge base, insert an article's text or its public link."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.snapshots import Layers
from test_ticket_screen import Data, Harness, built, on_top, opened
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, Static, TextArea
from waiting import settled, type_into, until

from tui_helpdesk import clock
from tui_helpdesk.services import kb, settings
from tui_helpdesk.services.context import transaction
from tui_helpdesk.tui.context import AppContext
from tui_helpdesk.tui.screens.kb_picker import KbPickerScreen
from tui_helpdesk.tui.widgets.composer import ComposerScreen


@pytest.fixture
def desk(sqlite_url: str, tmp_path: Path, built_once: Layers) -> Data:
    data = built(sqlite_url, tmp_path / "data", built_once, ("tui-kb-picker", _articles))
    clock.set_now("2026-03-02T09:45:00Z")
    yield data
    clock.set_now(None)


def _articles(data: Data) -> None:
    with transaction(data.engine, data.admin) as tx:
        kb.create(tx, "Clearing a paper jam", "Open **tray 2** and pull gently.", "Printers", published=True,
                  new_category=True)
        kb.create(tx, "VPN on hotel wifi", "Use the backup gateway.", "Network", new_category=True)
        settings.put(tx.session, "kb_public_url", "https://help.example.com")


async def _picker(pilot: Pilot, words: str) -> KbPickerScreen:
    await opened(pilot)
    await pilot.press("r")
    await on_top(pilot, ComposerScreen)
    await pilot.press("ctrl+k")
    picker = await on_top(pilot, KbPickerScreen)
    await type_into(pilot, "#kb-picker-input", words)
    await until(pilot, lambda: len(picker.rows) == 1 and picker.rows[0].title in str(
        picker.query_one("#kb-picker-article", Static).render()), "one article found and previewed")
    return picker


def test_enter_inserts_the_text_and_ctrl_l_the_public_link(desk: Data) -> None:
    import asyncio

    async def run() -> None:
        app = Harness(desk, desk.vpn)
        async with app.run_test(size=(100, 30)) as pilot:
            await _picker(pilot, "jam")
            await pilot.press("enter")
            composer = await on_top(pilot, ComposerScreen)
            body = composer.query_one("#composer-body", TextArea)
            await until(pilot, lambda: "Open **tray 2** and pull gently." in body.text, "the article's text")

            await pilot.press("ctrl+k")
            picker = await on_top(pilot, KbPickerScreen)
            await type_into(pilot, "#kb-picker-input", "hotel")
            await until(pilot, lambda: [r.title for r in picker.rows] == ["VPN on hotel wifi"], "the internal one")
            await pilot.press("ctrl+l")  # internal: no public link, the picker says why and stays
            await until(pilot, lambda: "publish it" in str(picker.query_one("#kb-picker-msg", Static).render()))
            picker.query_one("#kb-picker-input", Input).value = "jam"
            await until(pilot, lambda: [r.title for r in picker.rows] == ["Clearing a paper jam"], "the published")
            await pilot.press("ctrl+l")
            await on_top(pilot, ComposerScreen)
            await until(pilot, lambda: "https://help.example.com/api/public/kb/clearing-a-paper-jam" in body.text)

    asyncio.run(run())


class PickerAlone(App[None]):
    """The picker over a blank screen: its snapshot does not follow the composer's look."""

    def __init__(self, data: Data) -> None:
        super().__init__()
        self.ctx = AppContext(data.engine, data.admin, data.config)

    def on_mount(self) -> None:
        self.push_screen(KbPickerScreen("jam"))


def test_kb_picker_80x24(desk: Data, snap_compare) -> None:
    async def ready(pilot: Pilot) -> None:
        picker = await on_top(pilot, KbPickerScreen)
        await until(pilot, lambda: len(picker.rows) == 1 and picker.rows[0].title in str(
            picker.query_one("#kb-picker-article", Static).render()), "one article found and previewed")
        for widget in picker.query("Input"):
            widget.cursor_blink = False
        await settled(pilot)

    assert snap_compare(PickerAlone(desk), terminal_size=(80, 24), run_before=ready)
