"""`helpdesk ticket list`: filters, sorts and paging with the printed cursor."""

from __future__ import annotations

import pytest

from tui_helpdesk import clock
from tui_helpdesk.cli import EXIT_ERROR


def listing(run, *extra) -> dict:
    result = run("ticket", "list", "--json", *extra)
    assert result.code == 0, result.err
    return result.data


def numbers(run, *extra) -> list[str]:
    return [row["number"] for row in listing(run, *extra)["tickets"]]


@pytest.fixture
def queue(on_desk):
    """Five tickets a minute apart (TCK-1000 oldest), in different states, departments and hands; made
    once per session and engine on top of the CLI desk, then copied (tests/support/snapshots.py)."""

    def build(desk, make) -> dict[str, str]:
        made = {}
        specs = [
            ("Printer jam", dict(priority="Low", tag=["printer"])),
            ("VPN down", dict(priority="Urgent", tag=["vpn", "network"], assignee="sam")),
            ("Invoice wrong", dict(priority="Normal", department="Billing", contact="cfo@globex.example")),
            ("VPN slow", dict(priority="High", tag=["vpn"], assignee="root")),
            ("Password reset", dict(priority="High")),
        ]
        for subject, options in specs:
            clock.advance(minutes=1)
            made[subject] = make(subject, **options)["number"]
        clock.advance(minutes=1)
        assert desk("ticket", "status", made["Printer jam"], "Pending").code == 0
        clock.advance(minutes=1)
        assert desk("ticket", "status", made["Password reset"], "Resolved").code == 0
        return made

    return on_desk("cli-queue", build)


def test_default_list_is_most_recently_updated_first(queue, desk):
    assert numbers(desk) == ["TCK-1004", "TCK-1000", "TCK-1003", "TCK-1002", "TCK-1001"]
    data = listing(desk)
    assert data["total"] == 5 and data["count"] == 5 and data["next"] is None and data["sort"] == "updated"
    row = data["tickets"][0]
    assert row["subject"] == "Password reset" and row["status_name"] == "Resolved"
    assert {"number", "state", "priority_name", "department_name", "assignee_name", "updated_at"} <= set(row)


# One queue serves every case (building it per case would dominate the run time).
SORT_CASES = [
    ("newest", ["TCK-1004", "TCK-1003", "TCK-1002", "TCK-1001", "TCK-1000"]),
    ("oldest", ["TCK-1000", "TCK-1001", "TCK-1002", "TCK-1003", "TCK-1004"]),
    ("priority", ["TCK-1001", "TCK-1004", "TCK-1003", "TCK-1002", "TCK-1000"]),
]


def test_sorts(queue, desk):
    for sort, expected in SORT_CASES:
        assert numbers(desk, "--sort", sort) == expected, sort


FILTER_CASES = [
    (["--status", "Pending"], ["TCK-1000"]),
    (["--status", "new"], ["TCK-1003", "TCK-1002", "TCK-1001"]),
    (["--state", "resolved", "--state", "pending"], ["TCK-1004", "TCK-1000"]),
    (["--priority", "High"], ["TCK-1004", "TCK-1003"]),
    (["--department", "Billing"], ["TCK-1002"]),
    (["--assignee", "sam"], ["TCK-1001"]),
    (["--assignee", "me"], ["TCK-1003"]),
    (["--assignee", "none"], ["TCK-1004", "TCK-1000", "TCK-1002"]),
    (["--tag", "vpn"], ["TCK-1003", "TCK-1001"]),
    (["--tag", "vpn", "--tag", "network"], ["TCK-1001"]),
    (["--text", "vpn"], ["TCK-1003", "TCK-1001"]),
    (["--contact", "cfo@globex.example"], ["TCK-1002"]),
    (["--query", "status:new prio:urgent,high"], ["TCK-1003", "TCK-1001"]),
    (["--query", "tag:vpn", "--assignee", "sam"], ["TCK-1001"]),
    (["--query", "vpn", "--sort", "oldest"], ["TCK-1001", "TCK-1003"]),
]


def test_filters(queue, desk):
    for options, expected in FILTER_CASES:
        assert numbers(desk, *options) == expected, options
    # no organization of that name exists: the name is refused, not silently matched to nothing
    result = desk("--json", "ticket", "list", "--org", "Globex")
    assert result.code == EXIT_ERROR and result.error["field"] == "org"


def test_unknown_names_in_filters_are_errors(queue, desk):
    result = desk("--json", "ticket", "list", "--priority", "Sky-high")
    assert (
        result.code == EXIT_ERROR
        and result.error["field"] == "priority"
        and "Sky-high" in result.error["error"]
    )
    result = desk("--json", "ticket", "list", "--query", "colour:red")
    assert result.code == EXIT_ERROR and "colour" in result.error["error"]


def test_overdue_filter(queue, desk, sqlite_url):
    from sqlalchemy import update

    from tui_helpdesk.db import get_engine, session_scope
    from tui_helpdesk.models import Ticket

    with session_scope(get_engine(sqlite_url)) as s:  # the lifecycle timer's job, done by hand here
        s.execute(update(Ticket).where(Ticket.number == "TCK-1001").values(is_overdue=True))
    assert numbers(desk, "--overdue") == ["TCK-1001"]


def test_paging_with_the_printed_cursor_visits_every_ticket_once(queue, desk):
    for sort in ("updated", "newest", "oldest", "priority", "due"):
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            extra = ["--sort", sort, "--limit", "2"] + (["--after", cursor] if cursor else [])
            data = listing(desk, *extra)
            seen += [r["number"] for r in data["tickets"]]
            pages += 1
            cursor = data["next"]
            if cursor is None:
                break
        assert pages == 3
        assert seen == numbers(desk, "--sort", sort), sort
    # a cursor from one sort is refused under another
    cursor = listing(desk, "--limit", "2")["next"]
    assert desk("ticket", "list", "--sort", "oldest", "--after", cursor).code == 2


def test_human_list_is_an_aligned_table_with_the_next_cursor(queue, desk):
    result = desk("ticket", "list", "--limit", "3")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split()[:3] == ["NUMBER", "STATUS", "PRIORITY"]
    subject_col = lines[0].index("SUBJECT")
    assert [line[subject_col:] for line in lines[1:4]] == ["Password reset", "Printer jam", "VPN slow"]
    assert lines[-1].startswith("3 of 5; next page: --after ")
    cursor = lines[-1].rsplit(" ", 1)[1]
    assert numbers(desk, "--after", cursor) == ["TCK-1002", "TCK-1001"]


def test_an_agent_sees_only_their_departments(queue, desk):
    assert numbers(desk, "--as", "olly") == ["TCK-1002"]
    assert "TCK-1002" not in numbers(desk, "--as", "sam")
