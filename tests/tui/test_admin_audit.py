"""The admin screen's audit log section: filter words, before/after on enter, E exports CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import Engine
from support.snapshots import Layers
from test_admin_screen import Harness, filled, on_top, open_section, pilot_test, ready, table_rows
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static
from waiting import notified, press_on, settled, type_into, until

from tui_helpdesk.services import kb
from tui_helpdesk.services.context import Actor, transaction
from tui_helpdesk.tui.screens.admin import AdminScreen
from tui_helpdesk.tui.screens.admin_forms import MessageDialog, PathPrompt


def _edited_article(engine: Engine, actors: dict[str, Actor]) -> None:
    with transaction(engine, actors["root"]) as tx:
        kb.create(tx, "Paper jam", "Open tray 2", "Printers", new_category=True)
        kb.update(tx, "paper-jam", title="Clearing a paper jam")


@pytest.fixture
def desk(sqlite_url: str, built_once: Layers) -> tuple[Engine, dict[str, Actor]]:
    return filled(sqlite_url, built_once, ("tui-admin-audit", _edited_article))


@pilot_test
async def test_filter_read_before_after_and_export(desk, tmp_path: Path) -> None:
    engine, actors = desk
    app = Harness(engine, actors["root"])
    async with app.run_test(size=(120, 34)) as pilot:
        await ready(pilot)
        await open_section(pilot, "Audit log")
        await until(pilot, lambda: len(table_rows(app)) > 3, "the audit rows")
        await press_on(pilot, "#admin-table", "slash")
        await type_into(pilot, "#admin-filter", "action:kb.article_edited")
        await until(pilot, lambda: [r[2] for r in table_rows(app)] == ["kb.article_edited"], "the one edit")
        assert "title: Paper jam → Clearing a paper jam" in table_rows(app)[0][3]
        app.screen.query_one("#admin-table", DataTable).focus()
        await press_on(pilot, "#admin-table", "enter")  # focus() lands a message later: enter must wait
        dialog = await on_top(pilot, MessageDialog)
        shown = "\n".join(str(s.render()) for s in dialog.query(Static))
        assert "title:\nbefore: Paper jam\nafter: Clearing a paper jam" in shown
        await pilot.press("escape")
        await on_top(pilot, AdminScreen)  # E is the section's key: pressed while the dialog closes, it is lost

        await pilot.press("E")
        prompt = await on_top(pilot, PathPrompt)
        prompt.query_one(Input).value = str(tmp_path / "audit.csv")
        await pilot.press("enter")
        await until(pilot, lambda: notified(app, "Exported 1 audit entries"), "the export notice")
    rows = list(csv.DictReader((tmp_path / "audit.csv").open(encoding="utf-8")))
    assert [(r["action"], r["before"], r["after"]) for r in rows] == [
        ("kb.article_edited", "Paper jam", "Clearing a paper jam")
    ]


def test_snapshot_audit_log_80x24(snap_compare, desk: tuple[Engine, dict[str, Actor]]) -> None:
    engine, actors = desk

    async def audit_rows(pilot: Pilot) -> None:
        await ready(pilot)
        await open_section(pilot, "Audit log")
        await until(pilot, lambda: len(table_rows(pilot.app)) > 3, "the audit rows")
        await settled(pilot)

    assert snap_compare(Harness(engine, actors["root"]), terminal_size=(80, 24), run_before=audit_rows)
