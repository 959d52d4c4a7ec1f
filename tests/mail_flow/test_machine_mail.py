"""Issue 10, classification that never makes a person vanish and never answers a machine, through the ingest."""

from __future__ import annotations

import pytest
from mailflow_support import MailDesk, message
from support.corpus import CORPUS, needs_corpus

from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Contact
from tui_helpdesk.services import tickets

SISIMAI = CORPUS / "bounces" / "sisimai"


def _view(desk: MailDesk, ticket_id: int):
    with desk.tx() as tx:
        return tickets.view(tx, ticket_id)


@pytest.mark.parametrize(
    ("sender", "subject"),
    [
        ("newbie@customer.test", "Out of office calendar sync broken"),
        ("newbie@customer.test", "Emails undelivered since yesterday"),
        ("postmaster@customer.test", "Your replies bounce off our server"),
    ],
)
def test_a_person_s_mail_that_sounds_automatic_becomes_a_flagged_ticket(
    lite_desk: MailDesk, sender: str, subject: str
) -> None:
    r = lite_desk.ingest(message(sender=sender, subject=subject, body="Please help.\n"))
    assert (r.state, r.outcome) == ("done", "new_ticket")
    view = _view(lite_desk, r.ticket_id)
    assert (view.subject, view.requester_email) == (subject, sender)
    assert "maybe-automatic" in view.tags
    assert any("may be automatic" in item.body for item in view.thread if item.kind == "note")
    # flagged: it may be a machine, so nothing answers it; the agents still hear of it
    assert lite_desk.outbox("autoresponse") == []
    assert len(lite_desk.outbox("alert.new_ticket")) == 2


def test_bulk_mail_from_a_customer_becomes_a_ticket_flagged_bulk(lite_desk: MailDesk) -> None:
    desk = lite_desk
    with session_scope(desk.engine) as s:
        s.add(Contact(email="dana@customer.test", name="Dana"))
    r = desk.ingest(message(sender="dana@customer.test", subject="Team newsletter: our VPN is down",
                            headers={"Precedence": "bulk", "List-Id": "<staff.customer.test>"}))
    assert (r.state, r.outcome) == ("done", "new_ticket")
    assert "bulk" in _view(desk, r.ticket_id).tags
    assert desk.outbox("autoresponse") == []
    # the same from nobody we know is not a ticket, but it is kept with its reason (the ignored list)
    r = desk.ingest(message(sender="news@vendor.test", subject="Spring sale", headers={"Precedence": "list"}))
    assert (r.state, r.outcome) == ("ignored", "bulk")
    assert "Precedence: list" in r.reason and "news@vendor.test" in r.reason


@needs_corpus
@pytest.mark.parametrize("name", ["lhost-dragonfly-01.eml", "lhost-sendmail-53.eml"])
def test_a_null_sender_bounce_is_classified_not_quarantined(lite_desk: MailDesk, name: str) -> None:
    # From: MAILER-DAEMON <>  /  From: Mail Delivery Subsystem <MAILER-DAEMON>
    r = lite_desk.ingest((SISIMAI / "maildir" / "bsd" / name).read_bytes())
    assert (r.state, r.outcome) == ("ignored", "bounce")
    assert r.reason == "a delivery failure for no message of ours"
    assert lite_desk.tickets() == 0 and lite_desk.outbox() == []


def test_a_null_sender_bounce_of_our_reply_lands_on_its_ticket(lite_desk: MailDesk) -> None:
    desk = lite_desk
    first = desk.ingest(message())
    with desk.tx() as tx:
        tickets.reply(tx, first.ticket_id, "Have you tried water?")
    ours = desk.outbox("reply")[-1]
    bounce = (
        "From: <>\r\nTo: support@helpdesk.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <b1@mx.customer.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n"
        f"Your message could not be delivered.\r\n\r\nMessage-ID: {ours.message_id}\r\n"
    ).encode()
    sent_before = len(desk.outbox())
    r = desk.ingest(bounce)
    assert (r.state, r.outcome, r.ticket_id) == ("done", "bounce", first.ticket_id)
    note = desk.entries(first.ticket_id)[-1]
    assert note.kind == "note" and "(report from a null sender, From: <>):" in note.body
    assert len(desk.outbox()) == sent_before


MACHINES = [
    "maildir/bsd/lhost-amazonses-09.eml",  # Amazon SES/SNS JSON notification
    "maildir/bsd/lhost-amazonses-13.eml",
    "maildir/bsd/lhost-fml-02.eml",  # fml list server
    "maildir/bsd/lhost-fml-03.eml",
    "maildir/bsd/lhost-verizon-02.eml",  # post_master@vtext.com
    "maildir/bsd/lhost-apachejames-01.eml",
    "maildir/bsd/arf-22.eml",  # an ARF complaint without the report structure
    "maildir/bsd/rfc3834-06.eml",  # Precedence: bulk
    "to-be-debugged-because/something-is-wrong/issue-15-01.eml",  # Precedence: bulk
    "maildir/bsd/lhost-kddi-01.eml",
    "maildir/bsd/lhost-imailserver-01.eml",
]


@needs_corpus
def test_no_machine_from_the_corpus_gets_an_autoresponse(lite_desk: MailDesk) -> None:
    desk = lite_desk
    desk.set("autoresponse_new_message", True)
    results = [desk.ingest((SISIMAI / name).read_bytes()) for name in MACHINES]
    results += [
        desk.ingest(message(sender="robot@x.test", subject="Re: hi", headers={"X-Precedence": "auto_reply"})),
        desk.ingest(message(sender="ops@x.test", subject="[AUTO GENERATED] disk report")),
    ]
    assert all(r.state in ("done", "ignored") for r in results), [(r.outcome, r.reason) for r in results]
    assert desk.outbox("autoresponse") == []
    assert desk.outbox("notice") == []


def test_a_mail_loop_without_auto_headers_is_rate_limited(lite_desk: MailDesk) -> None:
    desk = lite_desk
    desk.set("autoresponse_new_message", True)
    first = desk.ingest(message(sender="loop@robot.test", subject="Ping"))
    for i in range(49):
        # a robot that answers our latest mail to it and sets no automatic header
        latest = [m for m in desk.outbox() if "loop@robot.test" in m.to_addrs][-1]
        r = desk.ingest(message(sender="loop@robot.test", subject=f"Re: Ping {i}", in_reply_to=latest.message_id))
        assert r.ticket_id == first.ticket_id
    out = desk.outbox()
    alerts = [m for m in out if m.kind.startswith("alert.")]
    per_agent = {a: sum(a in m.to_addrs for m in alerts) for a in ("root@helpdesk.test", "sam@helpdesk.test")}
    assert per_agent == {"root@helpdesk.test": 10, "sam@helpdesk.test": 10}  # the default limit
    assert len([m for m in out if m.kind.startswith("autoresponse")]) == 5  # per sender and hour
    assert len(out) == 25
