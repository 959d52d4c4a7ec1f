"""A reply's outgoing mail: what it names and whom, read with a few statements built once (issue 11)."""

from __future__ import annotations

from sqlalchemy import event, select

from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Agent, Contact, EmailTemplate, OutboundMessage
from tui_helpdesk.services import notify, tickets


def _reply_mail(desk, number: str) -> OutboundMessage:
    with session_scope(desk.engine) as s:
        return s.execute(select(OutboundMessage).where(OutboundMessage.kind == "reply")
                         .order_by(OutboundMessage.id.desc()).limit(1)).scalar_one()  # fmt: skip


def test_a_reply_mail_sees_what_its_own_transaction_changed(desk):
    with desk.tx() as tx:
        t = tickets.create(tx, subject="VPN", body="down", contact_email="bob@acme.example",
                           department="Support", detail=False)  # fmt: skip
        number = t.number
    with desk.tx(desk.supervisor) as tx:
        # the template, the requester's name and the author's signature edited in the reply's transaction,
        # and a Cc it adds: the mail is built from them, not from what was stored before
        tx.session.add(EmailTemplate(code="reply", subject="Answer: %{ticket.subject}",
                                     body="Hi %{recipient.name},\n%{message}\n-- %{agent.signature}"))
        bob = tx.session.execute(select(Contact).where(Contact.email == "bob@acme.example")).scalar_one()
        bob.name = "Bob Renamed"
        sue = tx.session.get(Agent, desk.supervisor.agent_id)
        sue.signature = "Sue, second line"
        tickets.reply(tx, number, "Try now.", cc=["erin@acme.example"])
    mail = _reply_mail(desk, number)
    assert mail.to_addrs == ["bob@acme.example"] and mail.cc_addrs == ["erin@acme.example"]
    assert mail.subject == f"Answer: VPN [{number}]"
    assert mail.body.startswith("Hi Bob Renamed,\nTry now.\n-- Sue, second line")


def test_a_reply_mail_costs_a_few_statements(desk):
    with desk.tx() as tx:
        numbers = [tickets.create(tx, subject=f"VPN {i}", body="down", contact_email="bob@acme.example",
                                  department="Support", detail=False).number for i in range(3)]  # fmt: skip
    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many) -> None:
        seen.append(statement)

    def statements(number: str, muted: bool) -> int:
        seen.clear()
        event.listen(desk.engine, "before_cursor_execute", record)
        try:
            with desk.tx(desk.supervisor) as tx:
                if muted:
                    with notify.suppressed():
                        tickets.reply(tx, number, "Try now.")
                else:
                    tickets.reply(tx, number, "Try now.")
        finally:
            event.remove(desk.engine, "before_cursor_execute", record)
        return len(seen)

    statements(numbers[0], False)  # the caches (settings, statements) warm
    mail = statements(numbers[1], False) - statements(numbers[2], True)
    # the names of the requester, author, department, status and priority in one statement, the Cc, the
    # field names, the template, the thread's ids (two), the mailboxes, the addresses we send from, the
    # row and the entry's Message-ID: 10, where an ORM load or select of each was 15
    assert mail <= 10, mail
