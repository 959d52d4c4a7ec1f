"""Issue 10 items 10, 13, 14: re-delivered quarantine, undeclared charsets, local-domain senders."""

from __future__ import annotations

from mailflow_support import MailDesk, message
from sqlalchemy import select

from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Contact, InboundMessage


def _journal(desk: MailDesk) -> list[InboundMessage]:
    with session_scope(desk.engine, write=False) as s:
        return list(s.execute(select(InboundMessage).order_by(InboundMessage.id)).scalars())


def test_a_quarantined_message_delivered_three_times_is_one_row_with_a_count(desk: MailDesk) -> None:
    desk.set("max_message_bytes", 10_000)
    raw = message(subject="Scanned contract", body="A" * 20_000)
    results = [desk.ingest(raw, mailbox_id=None) for _ in range(3)]
    assert {r.state for r in results} == {"quarantined"}
    [row] = _journal(desk)
    assert row.state == "quarantined" and row.deliveries == 3
    assert {r.journal_id for r in results} == {row.id}
    # a different message with the same Message-ID is not folded into it (a Message-ID is no proof)
    other = raw.replace(b"Scanned contract", b"Another thing")
    desk.ingest(other, mailbox_id=None)
    assert [r.deliveries for r in _journal(desk)] == [3, 1]
    # after a retry succeeded, a further delivery is a duplicate of a done message, not a new quarantine
    desk.set("max_message_bytes", 25_000_000)
    from tui_helpdesk.services import inbound

    assert inbound.retry(desk.engine, row.id, attachments_dir=desk.attachments).outcome == "new_ticket"
    again = desk.ingest(raw, mailbox_id=None)
    assert (again.state, again.outcome) == ("ignored", "duplicate")


def _koi8(subject: str, body: str) -> bytes:
    # 8-bit KOI8-R in the Subject and the body, and no charset anywhere (as old Russian mailers sent it)
    head = (
        b"From: ivan@customer.test\r\nTo: support@helpdesk.test\r\nMessage-ID: <koi8-1@customer.test>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n"
    )
    return head + b"Subject: " + subject.encode("koi8-r") + b"\r\n\r\n" + body.encode("koi8-r") + b"\r\n"


def test_a_koi8r_subject_and_body_without_a_charset_are_read_as_russian(desk: MailDesk) -> None:
    subject = "Не работает принтер в бухгалтерии"
    body = "Здравствуйте! Принтер на втором этаже не печатает с утра. Помогите, пожалуйста."
    r = desk.ingest(_koi8(subject, body))
    assert r.outcome == "new_ticket"
    ticket = desk.ticket(r.ticket_id)
    assert ticket.subject == subject
    assert desk.entries(ticket.id)[0].body == body


def test_senders_at_a_local_domain_are_accepted(desk: MailDesk) -> None:
    r = desk.ingest(message(sender="root@localhost", subject="cron: disk full"))
    assert (r.state, r.outcome) == ("done", "new_ticket"), r.reason
    assert desk.ingest(message(sender="Ops <ops@intranet>", subject="backup failed")).outcome == "new_ticket"
    with session_scope(desk.engine, write=False) as s:
        emails = set(s.execute(select(Contact.email)).scalars())
    assert {"root@localhost", "ops@intranet"} <= emails
