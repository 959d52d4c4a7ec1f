"""`helpdesk sla|schedule|holiday|scheduled|task|autoclose` and `worker --once` with HELPDESK_NOW, end to end
through cli.main() on SQLite and PostgreSQL (fixtures `run`, `desk`, `make` in tests/cli/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tui_helpdesk import clock
from tui_helpdesk.cli import EXIT_CONFLICT, EXIT_ERROR, EXIT_NOT_FOUND, EXIT_PERMISSION, EXIT_USAGE

Run = Callable[..., Any]  # tests/cli/conftest.py: run(*argv) -> Result(code, out, err)
Make = Callable[..., dict[str, Any]]


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Set the time the way a user would, through HELPDESK_NOW (unpinning the in-process clock)."""

    def _at(iso: str) -> None:
        clock.set_now(None)
        monkeypatch.setenv("HELPDESK_NOW", iso)

    return _at


def ok(result: Any) -> Any:
    assert result.code == 0, result.err
    return result


def test_a_ticket_is_due_after_eight_business_hours_of_the_plans_schedule(
    desk: Run, make: Make, at: Callable[[str], None]
) -> None:
    ok(desk("schedule", "add", "Office", "--timezone", "Europe/Berlin", "--hours", "mon-fri 09:00-17:00"))
    ok(desk("holiday", "add", "Office", "2026-03-09", "--name", "Local holiday"))
    ok(desk("sla", "add", "Business 8h", "--grace-hours", "8", "--schedule", "Office", "--default"))
    plans = ok(desk("--json", "sla", "list")).data
    assert [(p["name"], p["schedule"], p["is_default"]) for p in plans] == [("Business 8h", "Office", True)]

    at("2026-03-06T15:00:00Z")  # Friday 16:00 in Berlin: one working hour left that day
    ticket = make("Printer jam")
    # 1h on Friday, the weekend and the Monday holiday skipped, 7h on Tuesday: 16:00 Berlin = 15:00 UTC
    assert ticket["due_at"] == "2026-03-10T15:00:00+00:00"
    shown = ok(desk("ticket", "show", ticket["number"])).out
    assert "2026-03-10 15:00" in shown

    # the plan changes: the open ticket's due time is recomputed under the new terms
    ok(desk("sla", "edit", "Business 8h", "--grace-hours", "10"))
    again = ok(desk("--json", "ticket", "show", ticket["number"])).data
    assert again["due_at"] == "2026-03-11T09:00:00+00:00"  # 1h Fri, 8h Tue, 1h Wed from 09:00 Berlin

    listing = ok(desk("schedule", "list")).out
    assert "mon-fri 09:00-17:00" in listing and "2026-03-09" in listing


def test_schedule_hours_round_trip_and_edit(desk: Run) -> None:
    ok(
        desk(
            "schedule", "add", "Shop", "--hours", "mon-fri 09:00-12:00; mon-fri 13:00-17:00; sat 10:00-14:00"
        )
    )
    (row,) = ok(desk("--json", "schedule", "list")).data
    assert row["timezone"] == "UTC"
    assert row["hours"]["0"] == [["09:00", "12:00"], ["13:00", "17:00"]] and "6" not in row["hours"]
    assert row["hours_text"] == "mon-fri 09:00-12:00; mon-fri 13:00-17:00; sat 10:00-14:00"
    ok(desk("schedule", "edit", "Shop", "--name", "Store", "--timezone", "America/New_York"))
    (row,) = ok(desk("--json", "schedule", "list")).data
    assert (row["name"], row["timezone"]) == ("Store", "America/New_York")
    assert row["hours_text"].startswith("mon-fri 09:00-12:00")  # hours kept when not given
    ok(desk("holiday", "add", "Store", "2026-12-25"))
    ok(desk("holiday", "remove", "Store", "2026-12-25"))
    assert ok(desk("--json", "schedule", "list")).data[0]["holidays"] == []
    ok(desk("schedule", "delete", "Store"))
    assert ok(desk("--json", "schedule", "list")).data == []


def test_a_scheduled_ticket_shows_its_next_run_and_the_worker_opens_it_once(
    desk: Run, at: Callable[[str], None]
) -> None:
    ok(
        desk(
            "scheduled",
            "add",
            "Check backups",
            "--body",
            "Look at last night's backup report",
            "--frequency",
            "daily",
            "--next-run",
            "2026-03-03T08:00:00Z",
            "--department",
            "Support",
            "--contact",
            "ops@acme.example",
            "--priority",
            "High",
            "--assignee",
            "sam",
        )
    )
    listing = ok(desk("scheduled", "list")).out
    assert "Check backups" in listing and "2026-03-03 08:00" in listing and "daily" in listing

    at("2026-03-09T10:00:00Z")  # the worker was down for six days
    ok(desk("worker", "--once"))
    ok(desk("worker", "--once"))
    found = ok(desk("--json", "ticket", "list", "--text", "backups")).data
    rows = found["tickets"] if isinstance(found, dict) else found
    assert len(rows) == 1
    (job,) = ok(desk("--json", "scheduled", "list")).data
    assert (
        job["next_run_at"] == "2026-03-10T08:00:00+00:00"
        and job["last_run_at"] == "2026-03-09T10:00:00+00:00"
    )

    ok(desk("scheduled", "edit", str(job["id"]), "--frequency", "weekly", "--inactive"))
    (job,) = ok(desk("--json", "scheduled", "list")).data
    assert (job["frequency"], job["active"], job["priority"], job["assignee"]) == (
        "weekly",
        False,
        "High",
        "sam",
    )
    ok(desk("scheduled", "delete", str(job["id"])))
    assert ok(desk("--json", "scheduled", "list")).data == []


def test_worker_closes_a_resolved_ticket_when_its_window_ends(
    desk: Run, make: Make, at: Callable[[str], None]
) -> None:
    at("2026-03-06T18:30:00Z")  # resolved on a Friday evening; the reopen window is 7 days
    number = make()["number"]
    ok(desk("ticket", "status", number, "Resolved", "--notes", "replaced the cable"))
    at("2026-03-13T18:29:59Z")
    ok(desk("worker", "--once"))
    assert ok(desk("--json", "ticket", "show", number)).data["state"] == "resolved"
    at("2026-03-16T07:00:00Z")
    ok(desk("worker", "--once"))
    shown = ok(desk("--json", "ticket", "show", number)).data
    assert shown["state"] == "closed" and shown["closed_at"] == "2026-03-13T18:30:00+00:00"


def test_autoclose_settings_drive_the_chaser_and_the_close(
    desk: Run, make: Make, at: Callable[[str], None]
) -> None:
    assert ok(desk("--json", "autoclose", "show")).data["statuses"] == []
    ok(desk("autoclose", "set", "--statuses", "pending, On Hold", "--chaser-days", "2", "--close-days", "3"))
    assert ok(desk("--json", "autoclose", "show")).data == {
        "statuses": ["Pending", "On Hold"],
        "chaser_days": 2,
        "close_days": 3,
    }
    at("2026-03-02T09:00:00Z")
    number = make()["number"]
    ok(desk("ticket", "reply", number, "--body", "Could you send the logs?", "--status", "Pending"))
    at("2026-03-04T09:01:00Z")
    ok(desk("worker", "--once"))
    kinds = [i["event_kind"] for i in ok(desk("--json", "ticket", "show", number)).data["thread"]]
    assert "chaser_sent" in kinds and "auto_closed" not in kinds
    at("2026-03-07T09:02:00Z")
    ok(desk("worker", "--once"))
    shown = ok(desk("--json", "ticket", "show", number)).data
    assert (
        shown["state"] == "closed" and shown["closed_at"] == "2026-03-07T09:00:00+00:00"
    )  # 2 quiet days + 3 days, timed by when it was due


def test_tasks_due_before_the_ticket_and_closing_leaves_a_note(desk: Run, make: Make) -> None:
    ok(desk("sla", "add", "8h", "--grace-hours", "8", "--default"))
    ticket = make()
    assert ticket["due_at"] == "2026-03-02T17:00:00+00:00"
    late = desk("--json", "task", "add", ticket["number"], "Swap disk", "--due", "2026-03-02T18:00:00Z")
    assert late.code == EXIT_ERROR and late.error["field"] == "due_at"
    added = ok(
        desk(
            "--json",
            "task",
            "add",
            ticket["number"],
            "Swap disk",
            "--assignee",
            "sam",
            "--due",
            "2026-03-02T12:00:00Z",
        )
    ).data
    closed = ok(
        desk("--json", "--as", "sam", "task", "close", str(added["id"]), "--summary", "Disk swapped")
    ).data
    assert closed["closed_at"] is not None
    assert desk("task", "close", str(added["id"])).code == EXIT_CONFLICT  # already closed
    thread = ok(desk("--json", "ticket", "show", ticket["number"])).data["thread"]
    notes = [i["body"] for i in thread if i["kind"] == "note"]
    assert any("Swap disk" in n and "Disk swapped" in n for n in notes)


def test_task_writes_refuse_a_stale_ticket_version(desk: Run, make: Make) -> None:
    ticket = make()
    seen = ticket["version"]
    ok(desk("ticket", "edit", ticket["number"], "--set", "subject=Changed meanwhile", "--reason", "x"))
    stale = desk("--json", "task", "add", ticket["number"], "Swap disk", "--if-version", str(seen))
    assert stale.code == EXIT_CONFLICT and "changed" in stale.err
    now = ok(desk("--json", "ticket", "show", ticket["number"])).data["version"]
    added = ok(desk("--json", "task", "add", ticket["number"], "Swap disk", "--if-version", str(now))).data
    stale_close = desk("task", "close", str(added["id"]), "--if-version", str(seen))
    assert stale_close.code == EXIT_CONFLICT
    current = ok(desk("--json", "ticket", "show", ticket["number"])).data["version"]
    ok(desk("task", "close", str(added["id"]), "--if-version", str(current)))  # the stale close did nothing


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (["sla", "add", "Zero", "--grace-hours", "0"], "grace_hours"),
        (["sla", "add", "Words", "--grace-hours", "eight"], "grace_hours"),
        (["sla", "add", "NoHours"], "grace_hours"),
        (["sla", "add", "Nowhere", "--grace-hours", "4", "--schedule", "Mars"], "schedule"),
        (["schedule", "add", "Bad", "--hours", "weekdays 9-5"], "hours"),
        (["schedule", "add", "Bad", "--hours", "mon 17:00-09:00"], "hours"),
        (["schedule", "add", "Bad", "--hours", "mon 09:00-17:00", "--timezone", "Mars/Olympus"], "timezone"),
        (["schedule", "add", "Bad"], "hours"),
        (["holiday", "add", "Office", "christmas"], "day"),
        (
            [
                "scheduled",
                "add",
                "Patch",
                "--frequency",
                "fortnightly",
                "--next-run",
                "2026-04-01T08:00:00Z",
                "--department",
                "Support",
                "--contact",
                "ops@acme.example",
            ],
            "frequency",
        ),
        (
            [
                "scheduled",
                "add",
                "Patch",
                "--frequency",
                "daily",
                "--next-run",
                "soon",
                "--department",
                "Support",
                "--contact",
                "ops@acme.example",
            ],
            "next_run_at",
        ),
        (
            [
                "scheduled",
                "add",
                "Patch",
                "--frequency",
                "daily",
                "--next-run",
                "2026-04-01T08:00:00Z",
                "--department",
                "Old",
                "--contact",
                "ops@acme.example",
            ],
            "department",
        ),
        (
            [
                "scheduled",
                "add",
                "Patch",
                "--frequency",
                "daily",
                "--next-run",
                "2026-04-01T08:00:00Z",
                "--department",
                "Support",
            ],
            "contact",
        ),
        (
            [
                "scheduled",
                "add",
                "Patch",
                "--frequency",
                "daily",
                "--next-run",
                "2026-04-01T08:00:00Z",
                "--department",
                "Support",
                "--contact",
                "not an address",
            ],
            "contact",
        ),
        (
            [
                "scheduled",
                "add",
                "Patch",
                "--frequency",
                "daily",
                "--next-run",
                "2026-04-01T08:00:00Z",
                "--department",
                "Support",
                "--contact",
                "ops@acme.example",
                "--assignee",
                "ghost",
            ],
            "assignee",
        ),
        (["autoclose", "set", "--statuses", "Resolved"], "statuses"),
        (["autoclose", "set", "--statuses", "Snoozed"], "statuses"),
        (["autoclose", "set", "--chaser-days", "0"], "chaser_days"),
        (["autoclose", "set", "--close-days", "soon"], "close_days"),
    ],
)
def test_validation_errors_name_the_field(desk: Run, argv: list[str], field: str) -> None:
    ok(desk("schedule", "add", "Office", "--hours", "mon-fri 09:00-17:00"))
    result = desk("--json", *argv)
    assert result.code == EXIT_ERROR, result.err
    assert result.error["field"] == field and result.error["code"] == EXIT_ERROR
    plain = desk(*argv)
    assert plain.err.startswith(f"helpdesk: error: {field}: ")


def test_refusals_use_the_cli_exit_codes(desk: Run, make: Make) -> None:
    ok(desk("schedule", "add", "Office", "--hours", "mon-fri 09:00-17:00"))
    ok(desk("sla", "add", "Std", "--grace-hours", "4", "--schedule", "Office", "--default"))
    assert desk("--as", "sam", "sla", "add", "Mine", "--grace-hours", "2").code == EXIT_PERMISSION
    assert desk("--as", "sam", "autoclose", "set", "--chaser-days", "5").code == EXIT_PERMISSION
    assert ok(desk("--as", "sam", "autoclose", "show")).out  # reading is allowed
    assert desk("sla", "edit", "Nope", "--grace-hours", "2").code == EXIT_NOT_FOUND
    assert desk("scheduled", "delete", "99").code == EXIT_NOT_FOUND
    assert desk("holiday", "remove", "Office", "2026-01-01").code == EXIT_NOT_FOUND
    refused = desk("schedule", "delete", "Office")
    assert refused.code == EXIT_CONFLICT and "SLA plan" in refused.err
    make()
    assert desk("sla", "delete", "Std").code == EXIT_CONFLICT  # a ticket uses it
    assert desk("sla").code == EXIT_USAGE  # no action
    assert ok(desk("--json", "sla", "list")).data[0]["name"] == "Std"
