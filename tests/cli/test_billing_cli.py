"""`helpdesk time`, `rate`, `invoice` and `report time` as scripts use them (issue 14)."""

from __future__ import annotations

import csv
import io
import json
import os

from tui_helpdesk.cli import EXIT_CONFLICT, EXIT_PERMISSION
from tui_helpdesk.db import get_engine, session_scope
from tui_helpdesk.models import Organization


def _acme_ticket(run) -> str:
    with session_scope(get_engine(os.environ["HELPDESK_DATABASE_URL"])) as s:
        s.add(Organization(name="Acme"))
    made = run("--json", "ticket", "create", "--subject", "Printer", "--body", "Jams", "--contact",
               "ann@acme.example", "--department", "Support", "--org", "Acme")
    assert made.code == 0, made.err
    return made.data["number"]


def test_time_add_list_and_edit_by_the_author_only(sqlite_desk):
    run = sqlite_desk
    number = _acme_ticket(run)
    added = run("--json", "--as", "sam", "time", "add", number, "30", "--date", "2026-02-27", "--note", "remote")
    assert added.code == 0, added.err
    entry = added.data
    assert (entry["minutes"], entry["work_date"], entry["agent"]) == (30, "2026-02-27", "sam")
    refused = run("--json", "--as", "olly", "time", "edit", entry["id"], "--minutes", "5")
    assert refused.code == EXIT_PERMISSION, refused.err
    fixed = run("--json", "--as", "sam", "time", "edit", entry["id"], "--minutes", "35",
                "--if-version", entry["version"])
    assert fixed.code == 0 and fixed.data["minutes"] == 35, fixed.err
    listed = run("--json", "time", "list", "--ticket", number)
    assert [(r["id"], r["minutes"]) for r in listed.data] == [(entry["id"], 35)]
    text = run("time", "list", "--org", "Acme")
    assert "1 entries, 35 min" in text.out


def test_rate_invoice_create_show_export_and_no_second_billing(sqlite_desk):
    run = sqlite_desk
    number = _acme_ticket(run)
    assert run("--as", "sam", "time", "add", number, "90", "--date", "2026-02-27").code == 0
    assert run("--as", "sam", "rate", "set", "80").code == EXIT_PERMISSION
    assert run("rate", "set", "80", "--org", "Acme").code == 0
    made = run("--json", "invoice", "create", "--org", "Acme", "--to", "2026-02-28")
    assert made.code == 0, made.err
    assert (made.data["number"], made.data["total"], made.data["total_minutes"]) == ("INV-00001", "120.00", 90)
    again = run("--json", "invoice", "create", "--org", "Acme", "--to", "2026-02-28")
    assert again.code == EXIT_CONFLICT and "no billable time left" in again.error["error"]
    exported = run("invoice", "export", "INV-00001", "--format", "json")
    doc = json.loads(exported.out)
    assert doc["lines"][0]["quantity"] == "1.50" and doc["lines"][0]["unit_price"] == "80.00"
    assert doc["totals"]["net"] == "120.00" and doc["currency"] == "USD"
    rows = list(csv.DictReader(io.StringIO(run("invoice", "export", "1", "--format", "csv").out)))
    assert rows[0]["amount"] == "120.00" and rows[0]["customer"] == "Acme"
    assert "INV-00001" in run("invoice", "list").out
    locked = run("--json", "time", "list", "--invoiced")
    assert [r["invoice"] for r in locked.data] == ["INV-00001"]


def test_report_time_per_ticket_agent_and_organization_as_csv_and_json(sqlite_desk):
    run = sqlite_desk
    number = _acme_ticket(run)
    assert run("--as", "sam", "time", "add", number, "45", "--date", "2026-02-10").code == 0
    assert run("--as", "sam", "time", "add", number, "15", "--date", "2026-02-11", "--no-billable").code == 0
    assert run("time", "add", number, "30", "--date", "2026-01-05").code == 0  # outside the period
    assert run("rate", "set", "100").code == 0
    out = run("report", "time", "--org", "Acme", "--from", "2026-02-01", "--to", "2026-02-28", "--format", "json")
    assert out.code == 0, out.err
    data = json.loads(out.out)
    assert data["tickets"][0]["key"] == number and data["tickets"][0]["minutes"] == 60
    assert [(a["key"], a["billable_minutes"], a["amount"]) for a in data["agents"]] == [("sam", 45, "75.00")]
    billable = run("report", "time", "--org", "Acme", "--from", "2026-02-01", "--to", "2026-02-28",
                   "--billable", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(billable.out)))
    assert [(r["level"], r["minutes"], r["amount"]) for r in rows if r["level"] == "total"] == [
        ("total", "45", "75.00")]


def test_ticket_export_writes_the_filtered_tickets_to_a_file(sqlite_desk, tmp_path):
    run = sqlite_desk
    number = _acme_ticket(run)
    target = tmp_path / "out.jsonl"
    done = run("ticket", "export", "--query", "org:Acme", "--columns", "number,organization", "--format", "jsonl",
               "--output", target)
    assert done.code == 0, done.err
    assert [json.loads(line) for line in target.read_text().splitlines()] == [
        {"number": number, "organization": "Acme"}]
    bad = run("--json", "ticket", "export", "--columns", "nope")
    assert bad.code == 1 and bad.error["field"] == "columns"
