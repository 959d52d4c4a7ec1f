"""F5, the knowledge base: list, search, read, edit (the editor keeps what was typed when refused),
publish; a plain agent reads and is told why they cannot write; and how the screen looks."""

from __future__ import annotations

import test_queue_fixtures
from test_queue_fixtures import Desk, listed, pilot_test
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static, TextArea
from waiting import notified, on_top, settled, type_into, until

from tui_helpdesk.services import kb
from tui_helpdesk.services.context import transaction
from tui_helpdesk.tui.screens.kb import KbScreen
from tui_helpdesk.tui.screens.kb_editor import KbEditorScreen

desk = test_queue_fixtures.desk


def _articles(desk: Desk) -> None:
    with transaction(desk.engine, desk.admin) as tx:
        kb.create(tx, "Clearing a paper jam", "Open **tray 2** and pull the paper out.\n\n- gently\n- slowly",
                  "Printers", tags="printer", published=True, new_category=True)
        kb.create(tx, "VPN on hotel wifi", "Use the backup gateway.", "Network", tags="vpn", new_category=True)


def _titles(screen: KbScreen) -> list[str]:
    """The listed articles' titles (the cells hold them cut to the list's width)."""
    table = screen.query_one("#kb-list", DataTable)
    shown = [str(table.get_row_at(i)[1]).rstrip("…") for i in range(table.row_count)]
    titles = [r.title for r in screen.rows]
    assert all(t.startswith(c) for t, c in zip(titles, shown, strict=True))
    return titles


def _reader(screen: KbScreen) -> str:
    return str(screen.query_one("#kb-reader", Static).render())


async def _opened(pilot: Pilot) -> KbScreen:
    await listed(pilot)
    await pilot.press("f5")
    screen = await on_top(pilot, KbScreen)
    await until(pilot, lambda: screen.current is not None and _titles(screen), "the articles and the first one")
    return screen


@pilot_test
async def test_search_read_edit_and_publish(desk: Desk) -> None:
    _articles(desk)
    app = desk.app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _opened(pilot)
        assert sorted(_titles(screen)) == ["Clearing a paper jam", "VPN on hotel wifi"]

        await pilot.press("slash")
        await type_into(pilot, "#kb-search", "tray")
        await until(pilot, lambda: _titles(screen) == ["Clearing a paper jam"], "the search to narrow")
        await until(pilot, lambda: "Open tray 2" in _reader(screen), "the article rendered")
        await pilot.press("enter")  # back to the list
        await until(pilot, lambda: isinstance(app.focused, DataTable), "the list to take the keys")
        await pilot.press("e")
        editor = await on_top(pilot, KbEditorScreen)
        editor.query_one("#kb-editor-title", Input).value = " "
        editor.query_one("#kb-editor-tags", Input).value = "printer, tray"
        await pilot.press("ctrl+s")
        # refused (no title): the editor comes back with the reason and what was typed
        await until(pilot, lambda: isinstance(app.screen, KbEditorScreen) and app.screen is not editor, "again")
        editor = app.screen
        await until(pilot, lambda: "title: is required" in str(editor.query_one("#kb-editor-error").render()))
        assert editor.query_one("#kb-editor-tags", Input).value == "printer, tray"
        assert "pull the paper" in editor.query_one("#kb-editor-body", TextArea).text
        editor.query_one("#kb-editor-title", Input).value = "Clearing a paper jam (tray 2)"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: _titles(screen) == ["Clearing a paper jam (tray 2)"], "the saved title")

        await pilot.press("p")
        await until(pilot, lambda: notified(app, "unpublished"), "the unpublish notice")
    with transaction(desk.engine, desk.admin) as tx:
        row = kb.get(tx, "clearing-a-paper-jam")
    assert (row.title, row.published) == ("Clearing a paper jam (tray 2)", False)


@pilot_test
async def test_a_plain_agent_reads_and_is_told_why_not_to_write(desk: Desk) -> None:
    _articles(desk)
    app = desk.app(desk.sam)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _opened(pilot)
        assert len(_titles(screen)) == 2  # internal articles too: sam is an agent
        await pilot.press("n")
        await until(pilot, lambda: notified(app, "kb.edit"), "the refusal")
        assert not isinstance(app.screen, KbEditorScreen)


def test_kb_screen_80x24(desk: Desk, snap_compare) -> None:
    _articles(desk)

    async def ready(pilot: Pilot) -> None:
        screen = await _opened(pilot)
        await until(pilot, lambda: "Open tray 2" in _reader(screen) or "VPN" in _reader(screen))
        await settled(pilot)

    assert snap_compare(desk.app(), terminal_size=(80, 24), run_before=ready)
