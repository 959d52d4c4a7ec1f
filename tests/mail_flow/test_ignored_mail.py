"""Issue 10 item 6: mail that became no ticket is listed with its reason, and one command makes it a ticket."""

from __future__ import annotations

import json

import pytest
from mailflow_support import MailDesk, message

from tui_helpdesk import cli
from tui_helpdesk.services import mail_admin, tickets
from tui_helpdesk.services.errors import Conflict, PermissionDenied


def _ignore_some(desk: MailDesk) -> dict[str, int]:
    newsletter = desk.ingest(message(sender="news@vendor.test", subject="Spring sale", headers={"Precedence": "bulk"}))
    vacation = desk.ingest(message(sender="away@x.test", subject="Away", headers={"Auto-Submitted": "auto-replied"}))
    kept = desk.ingest(message(message_id="<twice@customer.test>"))
    twice = desk.ingest(message(message_id="<twice@customer.test>"))
    assert (newsletter.state, vacation.state, twice.outcome) == ("ignored", "ignored", "duplicate")
    return {"bulk": newsletter.journal_id, "auto_reply": vacation.journal_id, "dup": twice.journal_id,
            "ticket": kept.ticket_id}


def test_the_ignored_list_shows_each_message_with_its_reason_and_one_call_tickets_it(lite_desk: MailDesk) -> None:
    desk = lite_desk
    ids = _ignore_some(desk)
    with desk.tx() as tx:
        rows = mail_admin.list_ignored(tx)
    # newest first; a duplicate is not listed: its content is on a ticket already
    assert [(r.id, r.outcome, r.sender, r.subject) for r in rows] == [
        (ids["auto_reply"], "auto_reply", "away@x.test", "Away"),
        (ids["bulk"], "bulk", "news@vendor.test", "Spring sale"),
    ]
    assert "Precedence: bulk" in rows[1].reason
    result = mail_admin.ticket_from_ignored(desk.engine, desk.admin, ids["bulk"], attachments_dir=desk.attachments)
    assert (result.state, result.outcome) == ("done", "new_ticket")
    assert result.reason.startswith("was ignored (bulk: bulk or list mail")
    with desk.tx() as tx:
        view = tickets.view(tx, result.ticket_id)
        assert [r.id for r in mail_admin.list_ignored(tx)] == [ids["auto_reply"]]
    assert (view.subject, view.requester_email) == ("Spring sale", "news@vendor.test")
    assert "bulk" in view.tags
    assert desk.outbox("autoresponse.new_ticket")[-1].ticket_id == ids["ticket"]  # the bulk one got none
    # once is enough; a duplicate cannot become a second ticket
    with pytest.raises(Conflict, match="is done, not ignored"):
        mail_admin.ticket_from_ignored(desk.engine, desk.admin, ids["bulk"])
    with pytest.raises(Conflict, match="duplicate"):
        mail_admin.ticket_from_ignored(desk.engine, desk.admin, ids["dup"])


def test_only_an_admin_may_see_or_ticket_ignored_mail(lite_desk: MailDesk) -> None:
    desk = lite_desk
    ids = _ignore_some(desk)
    with desk.tx(desk.agent) as tx, pytest.raises(PermissionDenied):
        mail_admin.list_ignored(tx)
    with pytest.raises(PermissionDenied):
        mail_admin.ticket_from_ignored(desk.engine, desk.agent, ids["bulk"])
    with desk.tx() as tx:
        assert len(mail_admin.list_ignored(tx)) == 2


def test_helpdesk_mail_ignored_list_and_ticket(
    lite_desk: MailDesk, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    desk = lite_desk
    ids = _ignore_some(desk)
    monkeypatch.setenv("HELPDESK_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("HELPDESK_AGENT", "root")
    capsys.readouterr()
    assert cli.main(["mail", "ignored", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["outcome"]) for r in listed] == [(ids["auto_reply"], "auto_reply"), (ids["bulk"], "bulk")]
    assert all(r["reason"] for r in listed)
    assert cli.main(["mail", "ignored", "ticket", str(ids["auto_reply"])]) == 0
    out = capsys.readouterr().out
    assert f"message {ids['auto_reply']}: done: new_ticket TCK-" in out
    assert cli.main(["mail", "ignored", "list"]) == 0
    assert "Spring sale" in capsys.readouterr().out
    monkeypatch.setenv("HELPDESK_AGENT", "sam")
    assert cli.main(["mail", "ignored", "ticket", str(ids["bulk"])]) != 0
    assert "admin" in capsys.readouterr().err
    assert desk.tickets() == 2  # the duplicate's one and the vacation reply made a ticket; not the bulk one
