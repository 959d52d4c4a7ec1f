"""Issue 10 item 9: a bounce's failed recipients come from flufl.bounce, whatever the MTA's format; the
recipient's contact is marked as bouncing and the ticket header says so."""

from __future__ import annotations

from mailflow_support import MailDesk, message
from sqlalchemy import select

from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Contact, Ticket
from tui_helpdesk.services import ticket_view, tickets
from tui_helpdesk.tui.widgets.header_fields import field_values


def _qmail_bounce(ours: str) -> bytes:
    # qmail's own format: no multipart/report, no X-Failed-Recipients; the failed address is in the text,
    # the enclosed copy names the original To (a list here, as a Cc'd reply would)
    return (
        "From: MAILER-DAEMON@mx.customer.test\r\nTo: support@helpdesk.test\r\nSubject: failure notice\r\n"
        "Message-ID: <q1@mx.customer.test>\r\nDate: Mon, 2 Mar 2026 09:30:00 +0000\r\n\r\n"
        "Hi. This is the qmail-send program at mx.customer.test.\r\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\r\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n"
        "<dave@customer.test>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n\r\n"
        "--- Below this line is a copy of the message.\r\n\r\n"
        "Return-Path: <support@helpdesk.test>\r\nFrom: support@helpdesk.test\r\n"
        "To: carol@customer.test, dave@customer.test\r\n"
        f"Subject: Re: Printer on fire\r\nMessage-ID: {ours}\r\n\r\nHave you tried water?\r\n"
    ).encode()


def test_a_qmail_bounce_names_the_failed_recipient_and_marks_the_contact(desk: MailDesk) -> None:
    first = desk.ingest(message(cc="dave@customer.test"))
    with desk.tx() as tx:
        dave = tx.session.execute(select(Contact).where(Contact.email == "dave@customer.test")).scalar_one_or_none()
        if dave is None:
            tx.session.add(Contact(email="dave@customer.test", name="Dave"))
        t = tickets.create(tx, subject="Dave's own", body="x", contact_email="dave@customer.test",
                           department="Support")  # fmt: skip
        tickets.reply(tx, first.ticket_id, "Have you tried water?")
    ours = desk.outbox("reply")[-1].message_id
    r = desk.ingest(_qmail_bounce(ours))
    assert (r.state, r.outcome, r.ticket_id) == ("done", "bounce", first.ticket_id)
    note = desk.entries(first.ticket_id)[-1]
    assert note.kind == "note" and "- dave@customer.test: failed" in note.body
    assert "carol@customer.test:" not in note.body  # carol's copy was delivered
    with session_scope(desk.engine, write=False) as s:
        marks = {c.email: c.bounced_at for c in s.execute(select(Contact)).scalars()}
    assert marks["dave@customer.test"] is not None and marks["carol@customer.test"] is None
    # the header of dave's own ticket warns whoever writes to him next
    with desk.tx() as tx:
        detail = ticket_view.detail(tx.session, tx.session.get(Ticket, t.id), thread=False)
    header = field_values(detail)["requester"].plain
    assert "mail bounced 2026-03-02: failed" in header
