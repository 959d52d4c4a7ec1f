"""The admin screen's API keys section: a new key is shown once, in a dialog; d revokes it."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from support.snapshots import Layers
from test_admin_screen import (
    Harness,
    cursor_to,
    filled,
    on_top,
    open_section,
    pilot_test,
    ready,
    rows_first,
    table_rows,
)
from textual.widgets import Input, Select, Static
from waiting import until

from tui_helpdesk import db
from tui_helpdesk.models import ApiKey
from tui_helpdesk.services import api_keys
from tui_helpdesk.services.context import Actor
from tui_helpdesk.tui.screens.admin import AdminScreen
from tui_helpdesk.tui.screens.admin_forms import AdminForm, ConfirmDialog, MessageDialog


@pytest.fixture
def desk(sqlite_url: str, built_once: Layers) -> tuple[Engine, dict[str, Actor]]:
    return filled(sqlite_url, built_once)


@pilot_test
async def test_admin_makes_a_key_sees_it_once_and_revokes_it(desk) -> None:
    engine, actors = desk
    app = Harness(engine, actors["root"])
    async with app.run_test(size=(120, 34)) as pilot:
        await ready(pilot)
        await open_section(pilot, "API keys")
        assert table_rows(app) == []
        await pilot.press("n")
        form = await on_top(pilot, AdminForm)
        form.query_one("#field-username", Select).value = actors["sam"].agent_id
        form.query_one("#field-name", Input).value = "monitoring"
        await pilot.press("ctrl+s")
        dialog = await on_top(pilot, MessageDialog)
        shown = "\n".join(str(s.render()) for s in dialog.query(Static))
        key = next(word for word in shown.split() if word.startswith("hd_"))
        assert api_keys.authenticate(engine, key).username == "sam"  # the key shown is the key made
        await pilot.press("escape")
        await on_top(pilot, AdminScreen)
        await until(pilot, lambda: rows_first(app) == ["monitoring"], "the new key's row")
        assert table_rows(app)[0][1] == "sam" and key not in str(table_rows(app))

        await cursor_to(pilot, "monitoring")
        await pilot.press("d")
        await on_top(pilot, ConfirmDialog)
        await pilot.press("y")
        await until(pilot, lambda: rows_first(app) == [], "the revoked key gone from the list")
    with db.session_scope(engine, write=False) as s:
        assert s.execute(select(ApiKey.revoked_at)).scalar_one() is not None
