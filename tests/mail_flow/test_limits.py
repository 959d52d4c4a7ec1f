"""Size limits (issue 8 defect 11): big mail is kept and quarantined, big bodies never fan out whole."""

from __future__ import annotations

from mailflow_support import MailDesk, message

from tui_helpdesk.db import session_scope
from tui_helpdesk.models import InboundMessage
from tui_helpdesk.services import inbound, tickets

TEN_MB = 10 * 1024 * 1024
SMALL = 8_000  # an excerpt, the template around it and the reply token fit in this easily


def test_an_agents_huge_body_reaches_alerts_and_notices_as_an_excerpt(desk: MailDesk) -> None:
    desk.set("max_body_bytes", 0)  # the body limit (services/tickets.py) off: this test is about copies
    body = "First line the agents should see.\n" + "x" * TEN_MB
    with desk.tx() as tx:
        t = tickets.create(tx, subject="Huge", body=body, contact_email="carol@customer.test",
                           department="Support")
    automatic = desk.outbox("alert") + desk.outbox("notice")
    assert {m.kind for m in automatic} == {"alert.new_ticket", "notice.created"}
    for m in automatic:
        assert len(m.body) < SMALL, (m.kind, len(m.body))
        assert "First line the agents should see." in m.body and "…" in m.body
    # the reply itself is the message: it goes out whole
    with desk.tx() as tx:
        tickets.reply(tx, t.id, "Answer\n" + "y" * TEN_MB)
    [reply] = desk.outbox("reply")
    assert len(reply.body) > TEN_MB
    assert all(len(m.body) < SMALL for m in desk.outbox() if m.kind != "reply")


def test_a_big_mail_body_reaches_the_alerts_as_an_excerpt(desk: MailDesk) -> None:
    desk.set("autoresponse_new_message", True)
    body = "Please read this first.\n" + "z " * 1_500_000  # 3 MB, under the message limit
    r = desk.ingest(message(body=body))
    assert r.outcome == "new_ticket"
    assert desk.entries(r.ticket_id)[0].body.startswith("Please read this first.")
    again = desk.ingest(message(subject=f"Re: [{desk.ticket(r.ticket_id).number}]", body=body))
    assert again.outcome == "reply"
    sent = desk.outbox()
    assert {m.kind for m in sent} >= {"alert.new_ticket", "alert.new_message", "autoresponse.new_ticket"}
    assert all(len(m.body) < SMALL for m in sent), [(m.kind, len(m.body)) for m in sent]


def test_an_oversized_message_is_kept_and_quarantined_with_the_reason(desk: MailDesk) -> None:
    desk.set("max_message_bytes", 100_000)
    raw = message(subject="Scanned contract", body="A" * 150_000)
    r = desk.ingest(raw)
    assert r.state == "quarantined"
    assert "max_message_bytes" in r.reason and f"{len(raw)} bytes" in r.reason and "100000" in r.reason
    assert desk.tickets() == 0
    # the sender is told, once, however often the message comes again
    assert desk.ingest(raw).journal_id == r.journal_id
    [notice] = desk.outbox()
    assert (notice.kind, notice.to_addrs) == ("notice.too_big", ["carol@customer.test"])
    assert "Scanned contract" in notice.subject and "0.1 MB" in notice.body
    assert notice.headers.get("Auto-Submitted") == "auto-generated"
    with session_scope(desk.engine) as s:
        row = s.get(InboundMessage, r.journal_id)
        assert row.state == "quarantined" and row.deliveries == 2 and row.size == len(raw)
    assert desk.raw(r.journal_id) == raw
    # nothing is lost: once an admin raises the limit, the same journal row opens its ticket
    desk.set("max_message_bytes", 25_000_000)
    again = inbound.retry(desk.engine, r.journal_id, attachments_dir=desk.attachments)
    assert (again.state, again.outcome) == ("done", "new_ticket")
    assert desk.tickets() == 1


def test_a_message_at_the_limit_is_accepted(desk: MailDesk) -> None:
    raw = message(subject="Exactly", body="B" * 5_000)
    desk.set("max_message_bytes", len(raw))
    assert desk.ingest(raw).outcome == "new_ticket"


def test_oversized_mail_from_a_machine_gets_no_notice(desk: MailDesk) -> None:
    desk.set("max_message_bytes", 50_000)
    big = "B" * 60_000
    machines = [
        message(subject="Out of office", body=big, headers={"Auto-Submitted": "auto-replied"}),
        message(sender="MAILER-DAEMON@mx.customer.test", subject="Undelivered", body=big),
        message(subject="Newsletter", body=big, headers={"Precedence": "bulk", "List-Id": "<news.customer.test>"}),
        message(subject="null sender", body=big, headers={"Return-Path": "<>"}),
    ]
    for raw in machines:
        assert desk.ingest(raw).state == "quarantined"
    assert desk.outbox() == []
    # a person sending two big messages in an hour is told once
    desk.ingest(message(subject="first", body=big))
    desk.ingest(message(subject="second", body=big))
    assert [m.kind for m in desk.outbox()] == ["notice.too_big"]


def test_the_default_size_limit_is_50_mb(desk: MailDesk) -> None:
    from tui_helpdesk.services import settings

    with session_scope(desk.engine) as s:
        assert settings.get(s, "max_message_bytes") == 50 * 1024 * 1024
