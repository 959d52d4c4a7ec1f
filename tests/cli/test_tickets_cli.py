"""`helpdesk ticket ...` as scripts use it: JSON on stdout, errors on stderr, distinct exit codes."""

from __future__ import annotations

import pytest

from tui_helpdesk import clock
from tui_helpdesk.cli import EXIT_CONFLICT, EXIT_ERROR, EXIT_NOT_FOUND, EXIT_PERMISSION, EXIT_USAGE


def kinds(ticket: dict) -> list[str]:
    return [item["kind"] for item in ticket["thread"] if item["kind"] != "event"]


def events(ticket: dict) -> list[str]:
    return [item["event_kind"] for item in ticket["thread"] if item["kind"] == "event"]


def show(run, ref, *extra) -> dict:
    result = run("--json", "ticket", "show", ref, *extra)
    assert result.code == 0, result.err
    return result.data


def numbers(run, *extra) -> list[str]:
    result = run("ticket", "list", "--json", *extra)
    assert result.code == 0, result.err
    return [row["number"] for row in result.data["tickets"]]


# --- create ---------------------------------------------------------------------------------------


def test_create_prints_the_number_and_records_every_option(make, desk):
    t = make(
        tag=["VPN", "network"],
        field=["asset=LT-7"],
        cc=["amy@acme.example"],
        assignee="sam",
        name="Bob Builder",
    )
    assert t["number"] == "TCK-1000"
    assert t["state"] == "new" and t["priority"] == "High" and t["department"] == "Support"
    assert t["requester_email"] == "bob@acme.example" and t["requester"] == "Bob Builder"
    assert t["tags"] == ["network", "vpn"]
    assert t["custom_fields"] == {"asset": "LT-7"}
    assert t["collaborators"] == ["amy@acme.example"]
    assert t["assignee_username"] == "sam"
    assert t["source"] == "cli"
    assert make("Second")["number"] == "TCK-1001"
    # the human form leads with the number and subject
    human = desk("ticket", "show", "TCK-1000")
    assert human.code == 0 and human.out.startswith("TCK-1000  VPN is down")
    assert "Cannot connect since 8am" in human.out


def test_create_body_from_stdin(desk):
    result = desk(
        "--json",
        "ticket",
        "create",
        "--subject",
        "From a pipe",
        "--body",
        "-",
        "--contact",
        "c@acme.example",
        "--department",
        "Support",
        "--priority",
        "Low",
        stdin="line one\nline two\n",
    )
    assert result.code == 0, result.err
    assert result.data["thread"][0]["body"] == "line one\nline two"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (["--subject", " "], "subject"),
        (["--priority", "Sky-high"], "priority"),
        (["--department", "Old"], "department"),
        (["--department", "Nowhere"], "department"),
        (["--contact", "not-an-address"], "email"),
        (["--body", ""], "body"),
    ],
)
def test_invalid_input_names_the_field(desk, change, field):
    args = {
        "--subject": "Printer",
        "--body": "It jams",
        "--contact": "bob@acme.example",
        "--department": "Support",
        "--priority": "High",
    }
    args[change[0]] = change[1]
    argv = [x for pair in args.items() for x in pair]
    result = desk("--json", "ticket", "create", *argv)
    assert result.code == EXIT_ERROR
    assert result.error["field"] == field
    assert result.out == ""
    plain = desk("ticket", "create", *argv)
    assert plain.code == EXIT_ERROR
    assert plain.err.startswith("helpdesk: error: ") and field in plain.err and plain.err.count("\n") == 1


def test_archived_department_is_refused_by_name(desk):
    result = desk(
        "ticket",
        "create",
        "--subject",
        "S",
        "--body",
        "B",
        "--contact",
        "a@b.example",
        "--department",
        "Old",
        "--priority",
        "Normal",
    )
    assert result.code == EXIT_ERROR
    assert "'Old' is archived" in result.err


def test_missing_subject_option_names_subject(desk):
    result = desk(
        "--json", "ticket", "create", "--body", "B", "--contact", "a@b.example", "--department", "Support"
    )
    assert result.code == EXIT_ERROR and result.error["field"] == "subject"


# --- errors -----------------------------------------------------------------------------------------


def test_unknown_ticket_exits_3_with_one_line(desk):
    result = desk("ticket", "show", "TCK-9999")
    assert result.code == EXIT_NOT_FOUND
    assert result.err == "helpdesk: error: no ticket TCK-9999\n"
    result = desk("--json", "ticket", "reply", "4242", "--body", "hi")
    assert result.code == EXIT_NOT_FOUND
    assert result.error == {"error": "no ticket 4242", "field": None, "code": 3}


def test_usage_errors_exit_2(desk):
    assert desk("ticket", "frobnicate").code == EXIT_USAGE
    assert desk("ticket", "list", "--sort", "sideways").code == EXIT_USAGE
    result = desk("ticket", "list", "--after", "garbage!", "--json")
    assert result.code == EXIT_USAGE and result.error["field"] == "after"


def test_an_unknown_login_is_refused(desk):
    result = desk("--as", "mallory", "ticket", "list")
    assert result.code == EXIT_PERMISSION
    assert "mallory" in result.err


def test_permission_denied_exits_4(make, desk):
    t = make()
    result = desk("--as", "olly", "--json", "ticket", "reply", t["number"], "--body", "hi")
    assert result.code == EXIT_PERMISSION
    assert "olly" in result.error["error"]
    # an agent without the archive permission
    assert desk("ticket", "archive", t["number"], "--as", "sam").code == EXIT_PERMISSION


def test_stale_expect_version_is_a_conflict(make, desk):
    t = make()
    assert (
        desk("ticket", "note", t["number"], "--body", "first", "--expect-version", str(t["version"])).code
        == 0
    )
    stale = desk("--json", "ticket", "status", t["number"], "Open", "--expect-version", str(t["version"]))
    assert stale.code == EXIT_CONFLICT
    assert f"{t['number']} was changed by root at 09:00" in stale.error["error"]
    assert show(desk, t["number"])["state"] == "new"  # nothing was written
    # the same refusal on a write whose service has no version argument
    assert (
        desk("ticket", "link", t["number"], make("Other")["number"], "--expect-version", "1").code
        == EXIT_CONFLICT
    )


# --- thread ------------------------------------------------------------------------------------------------


def test_reply_and_note_appear_in_show_in_either_order(make, desk):
    t = make()
    clock.advance(minutes=5)
    reply = desk("--json", "ticket", "reply", t["number"], "--body", "We are **on it**", "--time", "12")
    assert reply.code == 0, reply.err
    assert reply.data["entry"]["kind"] == "reply" and reply.data["ticket"]["state"] == "open"
    clock.advance(minutes=5)
    note = desk("--json", "ticket", "note", str(t["id"]), "--body", "-", stdin="internal: check the VPN logs")
    assert note.code == 0, note.err
    shown = show(desk, t["number"])
    assert kinds(shown) == ["message", "reply", "note"]
    assert "created" in events(shown)  # events are included by default
    assert [i["body"] for i in shown["thread"] if i["kind"] == "note"] == ["internal: check the VPN logs"]
    assert shown["time_logged"] == 12
    newest_first = show(desk, t["number"], "--order", "desc", "--no-events")
    assert kinds(newest_first) == ["note", "reply", "message"]
    assert events(newest_first) == []
    human = desk("ticket", "show", t["number"])
    assert "Internal note" in human.out and "We are **on it**" in human.out


def test_reply_with_status_resolves_with_notes(make, desk):
    t = make()
    result = desk(
        "--json",
        "ticket",
        "reply",
        t["number"],
        "--body",
        "Fixed",
        "--status",
        "Resolved",
        "--notes",
        "Replaced the router",
    )
    assert result.code == 0, result.err
    shown = show(desk, t["number"])
    assert shown["state"] == "resolved" and shown["resolution_notes"] == "Replaced the router"


def test_note_with_a_status(make, desk):
    t = make()
    assert desk("ticket", "note", t["number"], "--body", "waiting on them", "--status", "Pending").code == 0
    assert show(desk, t["number"])["status"] == "Pending"


def test_reply_body_from_editor(make, desk, tmp_path, monkeypatch):
    script = tmp_path / "fake-editor.sh"
    script.write_text('#!/bin/sh\nprintf "written in the editor" > "$1"\n')
    script.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(script))
    t = make()
    assert desk("ticket", "reply", t["number"], "--edit").code == 0
    assert "written in the editor" in [i["body"] for i in show(desk, t["number"])["thread"]]


def test_reply_needs_a_body(make, desk):
    t = make()
    result = desk("--json", "ticket", "reply", t["number"])
    assert result.code == EXIT_ERROR and result.error["field"] == "body"


# --- status, assignment, fields ---------------------------------------------------------------------------


def test_status_resolved_with_notes_and_notes_need_resolved(make, desk):
    t = make()
    bad = desk("--json", "ticket", "status", t["number"], "Open", "--notes", "nope")
    assert bad.code == EXIT_ERROR and bad.error["field"] == "notes"
    ok = desk("--json", "ticket", "status", t["number"], "resolved", "--notes", "Rebooted the gateway")
    assert ok.code == 0, ok.err
    assert ok.data["state"] == "resolved" and ok.data["resolution_notes"] == "Rebooted the gateway"
    unknown = desk("--json", "ticket", "status", t["number"], "Limbo")
    assert unknown.code == EXIT_ERROR and unknown.error["field"] == "status"


def test_closed_ticket_reopen_follows_the_policy(make, desk):
    t = make()
    assert desk("ticket", "status", t["number"], "Closed").code == 0
    assert desk("setting", "set", "closed_reopen_policy", "never").code == 0
    refused = desk("--json", "ticket", "reopen", t["number"])
    assert refused.code == EXIT_CONFLICT and "cannot be reopened" in refused.error["error"]
    assert desk("ticket", "status", t["number"], "Open").code == EXIT_CONFLICT
    assert desk("setting", "set", "closed_reopen_policy", "staff").code == 0
    reopened = desk("--json", "ticket", "reopen", t["number"], "--reason", "customer called")
    assert reopened.code == 0, reopened.err
    assert reopened.data["state"] == "open" and reopened.data["reopened"] is True
    assert desk("ticket", "reopen", t["number"]).code == EXIT_CONFLICT  # not resolved or closed now


def test_assign_me_team_release_and_transfer(make, desk):
    t = make()
    mine = desk("--json", "ticket", "assign", t["number"], "me")
    assert mine.code == 0 and mine.data["assignee_username"] == "root"
    to_sam = desk("--json", "ticket", "assign", t["number"], "sam")
    assert to_sam.data["assignee_username"] == "sam"
    unknown = desk("--json", "ticket", "assign", t["number"], "nobody")
    assert unknown.code == EXIT_ERROR and unknown.error["field"] == "agent"
    assert desk("ticket", "release", t["number"]).code == EXIT_USAGE  # --reason is required
    released = desk("--json", "ticket", "release", t["number"], "--reason", "on leave")
    assert released.code == 0 and released.data["assignee_username"] == ""
    moved = desk("--json", "ticket", "transfer", t["number"], "Billing", "--reason", "it is an invoice")
    assert moved.code == 0 and moved.data["department"] == "Billing"
    assert desk("--json", "ticket", "transfer", t["number"], "Old").error["field"] == "department"
    assert "transferred" in events(show(desk, t["number"]))


def test_edit_fields_with_a_reason(make, desk):
    t = make()
    assert desk("ticket", "edit", t["number"], "--set", "priority=Low").code == EXIT_USAGE  # no reason
    result = desk(
        "--json",
        "ticket",
        "edit",
        t["number"],
        "--set",
        "priority=Urgent",
        "--set",
        "subject=VPN down",
        "--set",
        "custom.asset=LT-9",
        "--reason",
        "whole floor affected",
    )
    assert result.code == 0, result.err
    assert result.data["priority"] == "Urgent" and result.data["subject"] == "VPN down"
    assert result.data["custom_fields"] == {"asset": "LT-9"}
    edits = [i["data"] for i in show(desk, t["number"])["thread"] if i.get("event_kind") == "field_edited"]
    assert {e["field"] for e in edits} == {"priority", "subject", "custom"}
    assert all(e["reason"] == "whole floor affected" for e in edits)
    bad = desk("--json", "ticket", "edit", t["number"], "--set", "state=closed", "--reason", "x")
    assert bad.code == EXIT_ERROR and bad.error["field"] == "state"


def test_tag_replaces_the_whole_set(make, desk):
    t = make(tag=["vpn", "urgent"])
    result = desk("--json", "ticket", "tag", t["number"], "network", "VPN")
    assert result.data["tags"] == ["network", "vpn"]
    assert desk("--json", "ticket", "tag", t["number"]).data["tags"] == []


def test_time_is_logged(make, desk):
    t = make()
    result = desk("--json", "ticket", "time", t["number"], "45", "--no-billable", "--note", "on site")
    assert result.code == 0, result.err
    assert (
        result.data["minutes"] == 45 and result.data["billable"] is False and result.data["time_logged"] == 45
    )
    assert desk("--json", "ticket", "time", t["number"], "0").error["field"] == "minutes"


# --- links, merge, archive -----------------------------------------------------------------------------------


def test_link_is_bidirectional_and_unlink_removes_both(make, desk):
    a, b = make("Parent"), make("Child")
    result = desk("--json", "ticket", "link", a["number"], b["number"], "--type", "parent_of")
    assert result.code == 0, result.err
    assert [(x["kind"], x["number"]) for x in result.data["links"]] == [("parent_of", b["number"])]
    assert [(x["kind"], x["number"]) for x in show(desk, b["number"])["links"]] == [("child_of", a["number"])]
    assert desk("ticket", "link", a["number"], "TCK-9999").code == EXIT_NOT_FOUND
    assert desk("ticket", "link", a["number"], b["number"], "--type", "sibling_of").code == EXIT_USAGE
    assert desk("--json", "ticket", "unlink", b["number"], a["number"]).data["links"] == []
    assert show(desk, a["number"])["links"] == []


def test_resolve_children_copies_the_parents_notes(make, desk):
    parent, c1, c2 = make("Outage"), make("Me too"), make("Also me")
    for child in (c1, c2):
        assert desk("ticket", "link", child["number"], parent["number"], "--type", "child_of").code == 0
    assert desk("ticket", "status", parent["number"], "Resolved", "--notes", "Gateway restarted").code == 0
    result = desk("--json", "ticket", "resolve-children", parent["number"])
    assert result.code == 0, result.err
    assert sorted(result.data["resolved"]) == sorted([c1["number"], c2["number"]])
    assert show(desk, c2["number"])["resolution_notes"] == "Gateway restarted"


def test_merge_hides_children_from_the_list_and_combines_threads(make, desk):
    parent = make("Printer jam", contact="amy@acme.example")
    child = make("Printer still jammed", body="Same here", contact="zed@acme.example")
    assert child["number"] in numbers(desk)
    result = desk("--json", "ticket", "merge", parent["number"], child["number"])
    assert result.code == 0, result.err
    assert result.data["merged_children"] == [child["number"]]
    assert "zed@acme.example" in result.data["collaborators"]
    assert "Same here" in [i["body"] for i in result.data["thread"]]
    assert numbers(desk) == [parent["number"]]
    assert show(desk, child["number"])["merged_into"] == parent["number"]
    assert desk("ticket", "merge", parent["number"], parent["number"]).code == EXIT_ERROR


def test_archive_hides_and_restore_shows(make, desk):
    t, other = make(), make("Other")
    assert desk("ticket", "archive", t["number"]).code == 0
    assert numbers(desk) == [other["number"]]
    assert numbers(desk, "--archived") == [t["number"]]
    assert desk("ticket", "archive", t["number"]).code == EXIT_CONFLICT
    assert desk("--json", "ticket", "restore", t["number"]).data["archived"] is False
    assert sorted(numbers(desk)) == sorted([t["number"], other["number"]])
