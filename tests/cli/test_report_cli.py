"""`helpdesk report summary|backlog|replies` as scripts use them (issue 14): the figures of the services,
as text, CSV and JSON, each agent's own scope, bad input named."""

from __future__ import annotations

import csv
import io

from tui_helpdesk import clock
from tui_helpdesk.cli import EXIT_ERROR


def test_report_summary_backlog_and_replies_as_csv_and_json(sqlite_desk):
    run = sqlite_desk
    made = []
    for i, dept in enumerate(("Support", "Support", "Billing")):
        clock.set_now(f"2026-03-02T09:0{i}:00Z")
        out = run("--json", "ticket", "create", "--subject", f"Jam {i}", "--body", "It jams", "--contact",
                  "ann@acme.example", "--department", dept)
        assert out.code == 0, out.err
        made.append(out.data["number"])
    clock.set_now("2026-03-02T09:45:00Z")
    assert run("--as", "sam", "ticket", "reply", made[0], "--body", "On it").code == 0
    clock.set_now("2026-03-03T10:00:00Z")
    assert run("ticket", "status", made[0], "Resolved").code == 0

    summary = run("report", "summary", "--period", "7d", "--by", "department", "--format", "csv")
    assert summary.code == 0, summary.err
    rows = {r["department"]: r for r in csv.DictReader(io.StringIO(summary.out))}
    assert set(rows) == {"Billing", "Support", "all"}
    assert (rows["Support"]["created"], rows["Support"]["closed"], rows["Support"]["backlog"]) == ("2", "1", "1")
    assert rows["all"]["first_response_median"] == "45.0" and rows["all"]["resolution_median"] == "1500.0"

    mine = run("--as", "sam", "--json", "report", "summary", "--from", "2026-03-01", "--to", "2026-03-03")
    assert mine.code == 0, mine.err
    assert mine.data["period"] == {"label": "2026-03-01 to 2026-03-03", "from": "2026-03-01", "to": "2026-03-03"}
    assert mine.data["rows"][0]["created"] == 2  # Billing's ticket is not sam's to count

    days = run("--json", "report", "backlog", "--from", "2026-03-02", "--to", "2026-03-03")
    assert [(d["day"], d["created"], d["closed"], d["backlog"]) for d in days.data["rows"]] == [
        ("2026-03-02", 3, 0, 3), ("2026-03-03", 0, 1, 2)]
    text = run("report", "replies", "--period", "7d")
    assert text.out.splitlines()[1].split() == ["Sam", "Agent", "1"]

    bad = run("--json", "report", "summary", "--period", "fortnight")
    assert bad.code == EXIT_ERROR and bad.error["field"] == "period"
