"""The ticket rules of the service as `helpdesk ticket ...` shows them: exit codes, messages, and state."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tui_helpdesk import clock
from tui_helpdesk.cli import EXIT_CONFLICT, EXIT_ERROR, EXIT_PERMISSION
from tui_helpdesk.db import get_engine, session_scope
from tui_helpdesk.models import Department, HelpTopic


def show(run, ref) -> dict:
    result = run("--json", "ticket", "show", ref)
    assert result.code == 0, result.err
    return result.data


def numbers(run, *extra) -> list[str]:
    result = run("ticket", "list", "--json", *extra)
    assert result.code == 0, result.err
    return [row["number"] for row in result.data["tickets"]]


@pytest.mark.parametrize(
    ("value", "field"),
    [("due_at=garbage", "due_at"), ("priority=Sky-high", "priority"), ("contact=nobody", "contact"),
     ("topic=Nowhere", "topic")],
)
def test_edit_refuses_a_bad_value_naming_the_field_without_a_traceback(make, desk, value, field):
    t = make()
    result = desk("ticket", "edit", t["number"], "--set", value, "--reason", "x")
    assert result.code == EXIT_ERROR
    assert result.err.startswith(f"helpdesk: error: {field}: ") and "Traceback" not in result.err
    as_json = desk("--json", "ticket", "edit", t["number"], "--set", value, "--reason", "x")
    assert as_json.error["field"] == field
    assert show(desk, t["number"])["version"] == t["version"]


def test_a_number_is_found_after_the_prefix_changes(make, desk):
    t = make()
    assert desk("setting", "set", "number_prefix", "ITF").code == 0
    for typed in ("1000", "TCK-1000", "ITF-1000", "tck-1000"):
        assert show(desk, typed)["number"] == "TCK-1000", typed
    assert make("Later")["number"] == "ITF-1001"
    assert desk("ticket", "reply", "itf-1000", "--body", "still yours").code == 0
    assert show(desk, t["number"])["version"] > t["version"]


@pytest.fixture
def topics(desk, sqlite_url):
    with session_scope(get_engine(sqlite_url)) as s:
        support = s.execute(select(Department).where(Department.name == "Support")).scalar_one()
        network = HelpTopic(name="Network", department_id=support.id)
        s.add(network)
        s.flush()
        s.add(HelpTopic(name="VPN", parent_id=network.id, department_id=support.id))
        return support.id


def test_departments_and_topics_by_id_name_and_path_in_list_create_and_edit(make, desk, topics):
    vpn = make("VPN", department=str(topics), topic="Network / VPN")
    other = make("Printer", department="support")
    assert vpn["topic"] == "VPN" and other["department"] == "Support"
    assert numbers(desk, "--department", str(topics)) == numbers(desk, "--department", "SUPPORT")
    assert set(numbers(desk, "--department", str(topics))) == {vpn["number"], other["number"]}
    assert numbers(desk, "--topic", "Network / VPN") == numbers(desk, "--topic", "network/vpn") == [vpn["number"]]
    assert desk("ticket", "edit", other["number"], "--set", "topic=network / vpn", "--reason", "r").code == 0
    assert show(desk, other["number"])["topic"] == "VPN"
    unknown = desk("--json", "ticket", "list", "--topic", "Network / Nope")
    assert unknown.code == EXIT_ERROR and unknown.error["field"] == "topic"


def test_merged_threads_name_the_child_by_number(make, desk):
    parent, child = make("Outage"), make("No VPN")
    assert desk("ticket", "merge", parent["number"], child["number"]).code == 0
    out = desk("ticket", "show", parent["number"]).out
    assert f"from merged ticket {child['number']}" in out
    assert f"from merged ticket {child['id']}\n" not in out


def test_a_reply_to_a_merged_child_goes_to_the_parent_and_says_so(make, desk):
    parent, child = make("Outage"), make("No VPN")
    assert desk("ticket", "merge", parent["number"], child["number"]).code == 0
    result = desk("ticket", "reply", child["number"], "--body", "Working on it")
    assert result.code == 0
    assert result.out.startswith(f"{child['number']} is merged into {parent['number']}: replied there")
    as_json = desk("--json", "ticket", "note", child["number"], "--body", "internal")
    assert as_json.data["ticket"]["number"] == parent["number"]
    assert as_json.data["merged_from"] == child["number"]
    replies = [i for i in show(desk, parent["number"])["thread"] if i["kind"] in ("reply", "note")]
    assert [(i["body"], i["ticket_id"]) for i in replies] == [("Working on it", parent["id"]),
                                                             ("internal", parent["id"])]


def test_a_closed_ticket_is_not_shown_as_reopened(make, desk):
    t = make()
    assert desk("ticket", "status", t["number"], "Resolved", "--notes", "done").code == 0
    assert desk("ticket", "reopen", t["number"], "--reason", "broken again").code == 0
    assert "reopened" in desk("ticket", "show", t["number"]).out
    assert desk("ticket", "status", t["number"], "Closed").code == 0
    shown = desk("ticket", "show", t["number"])
    assert "Closed (closed)" in shown.out and "reopened" not in shown.out.split("\n\n")[1].splitlines()[0]
    assert show(desk, t["number"])["reopened"] is False


def test_if_version_refuses_a_stale_write_naming_who_and_when(make, desk):
    t = make()
    clock.advance(minutes=102)
    assert desk("ticket", "note", t["number"], "--body", "sam was here", "--as", "sam").code == 0
    for argv in (("edit", t["number"], "--set", "subject=New", "--reason", "x"), ("tag", t["number"], "vpn"),
                 ("reply", t["number"], "--body", "late"), ("time", t["number"], "5")):
        result = desk("ticket", *argv, "--if-version", str(t["version"]))
        assert result.code == EXIT_CONFLICT, argv
        assert f"{t['number']} was changed by sam at 10:42" in result.err
    after = show(desk, t["number"])
    assert after["subject"] == t["subject"] and after["version"] == t["version"] + 1
    fresh = desk("ticket", "edit", t["number"], "--set", "subject=New", "--reason", "x", "--if-version",
                 str(after["version"]))
    assert fresh.code == 0 and show(desk, t["number"])["subject"] == "New"


def test_a_body_over_the_limit_is_refused(make, desk):
    t = make()
    result = desk("--json", "ticket", "reply", t["number"], "--body", "-", stdin="x" * 1_000_001)
    assert result.code == EXIT_ERROR and result.error["field"] == "body"
    assert "limit is 1000000 bytes" in result.error["error"]
    assert show(desk, t["number"])["version"] == t["version"]


def test_entry_edit_rights_through_the_cli(make, desk):
    t = make(body="my password is hunter2")
    message_id = [i["id"] for i in show(desk, t["number"])["thread"] if i["kind"] == "message"][0]
    reply = desk("--json", "ticket", "reply", t["number"], "--body", "root's words")
    reply_id = reply.data["entry"]["id"]
    # a plain agent and a colleague's reply; an admin and a customer's message
    refused = desk("ticket", "edit-entry", str(reply_id), "--body", "sam's words", "--as", "sam")
    assert refused.code == EXIT_PERMISSION and "entry.edit_any" in refused.err
    refused = desk("ticket", "delete-entry", str(message_id))
    assert refused.code == EXIT_PERMISSION and "customer's message is never rewritten" in refused.err
    own = desk("--json", "ticket", "reply", t["number"], "--body", "tpyo", "--as", "sam").data["entry"]["id"]
    assert desk("ticket", "edit-entry", str(own), "--body", "typo", "--as", "sam").code == 0
    clock.advance(minutes=16)
    late = desk("ticket", "edit-entry", str(own), "--body", "later", "--as", "sam")
    assert late.code == EXIT_PERMISSION and "within 15 minutes" in late.err
    assert desk("ticket", "redact", str(message_id), "--reason", "password", "--as", "sam").code == EXIT_PERMISSION
    assert desk("ticket", "redact", str(message_id), "--reason", "password").code == 0
    thread = show(desk, t["number"])["thread"]
    bodies = {i["id"]: i["body"] for i in thread if i["kind"] != "event"}
    assert bodies == {message_id: "[redacted by Root Admin]", reply_id: "root's words", own: "typo"}
    assert "hunter2" not in desk("ticket", "show", t["number"]).out
