"""`ticket export` streams what the queue's filter selects, a keyset page at a time, in the actor's scope."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tui_helpdesk.services import ticket_export, tickets
from tui_helpdesk.services.context import reading
from tui_helpdesk.services.errors import ValidationError


@pytest.fixture
def five(desk, db_url, built_once):
    """Made once per session and engine, then copied (tests/support/snapshots.py)."""

    def build() -> None:
        with desk.tx() as tx:
            for i, dept in enumerate(("Support", "Support", "Billing", "Support", "Support")):
                tickets.create(tx, subject=f"=cmd|{i}" if i == 0 else f"Issue {i}\x1b[2J", body="b",
                               contact_email=f"c{i}@example.com", department=dept)

    built_once(db_url, "export-five", build)
    return desk


def _export(desk, actor, fmt, query="", cols="number,subject,department", page_size=2):
    out = io.StringIO()
    with reading(desk.engine, actor) as tx:
        n = ticket_export.write(tx, out, query_text=query, cols=cols, fmt=fmt, page_size=page_size)
    return n, out.getvalue()


def test_every_page_is_written_once_in_order_and_only_what_the_actor_sees(five):
    n, text = _export(five, five.admin, "csv", query="sort:oldest")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert n == 5 and [r["number"] for r in rows] == ["TCK-1000", "TCK-1001", "TCK-1002", "TCK-1003", "TCK-1004"]
    assert rows[0]["subject"] == "'=cmd|0"  # never a spreadsheet formula
    assert "\x1b" not in text
    n, text = _export(five, five.agent, "json", query="sort:oldest")
    assert n == 4 and [d["department"] for d in json.loads(text)] == ["Support"] * 4
    n, text = _export(five, five.admin, "jsonl", query="department:Billing")
    assert n == 1 and json.loads(text.splitlines()[0])["number"] == "TCK-1002"
    n, text = _export(five, five.admin, "json", query="department:Billing status:closed")
    assert (n, json.loads(text)) == (0, [])


def test_an_unknown_column_is_refused_naming_it(five):
    with pytest.raises(ValidationError, match="unknown column 'colour'"):
        _export(five, five.admin, "csv", cols="number,colour")
