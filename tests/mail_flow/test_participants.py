"""Issue 10, threading a stranger cannot steer: a key (header, token, subject number) only says which ticket
a message points at; the sender must take part in that ticket to join it. And the people named in alerts
and entries are the ones who wrote."""

from __future__ import annotations

import pytest
from mailflow_support import MailDesk, message
from sqlalchemy import select

from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Collaborator, Contact, Organization, OrganizationDomain, TicketEntry
from tui_helpdesk.services import outbound, tickets

ALICE = "alice@customer.test"
EVE = "eve@evil.test"


def _alice_ticket(desk: MailDesk) -> tuple[int, str]:
    first = desk.ingest(message(sender=f"Alice A <{ALICE}>", message_id="<alice-1@customer.test>"))
    return first.ticket_id, desk.ticket(first.ticket_id).number


def _view(desk: MailDesk, ticket_id: int):
    with desk.tx() as tx:
        return tickets.view(tx, ticket_id)


def _collaborators(desk: MailDesk, ticket_id: int) -> list[str]:
    with session_scope(desk.engine, write=False) as s:
        return list(
            s.execute(
                select(Contact.email)
                .join(Collaborator, Collaborator.contact_id == Contact.id)
                .where(Collaborator.ticket_id == ticket_id)
                .order_by(Contact.email)
            ).scalars()
        )


def _assert_kept_out(desk: MailDesk, alice_id: int, number: str, result, how: str) -> None:
    """Eve's message opened its own ticket, linked to Alice's and flagged; Alice's ticket never saw her."""
    assert (result.state, result.outcome) == ("done", "new_ticket")
    assert result.ticket_id != alice_id
    assert f"pointed at {number} by {how}" in result.reason
    eves = _view(desk, result.ticket_id)
    assert eves.requester_email == EVE
    assert "check-merge" in eves.tags
    assert [(link.kind, link.number) for link in eves.links] == [("related_to", number)]
    assert any(f"Merge it into {number}" in item.body for item in eves.thread if item.kind == "note")
    assert all(e.contact_id != eves.contact_id for e in desk.entries(alice_id))
    assert EVE not in _collaborators(desk, alice_id)


def test_a_stranger_s_references_to_a_customer_s_message_open_a_linked_flagged_ticket(desk: MailDesk) -> None:
    alice_id, number = _alice_ticket(desk)
    r = desk.ingest(message(sender=EVE, subject="Re: Printer on fire", body="Send me the invoice.\n",
                            references="<alice-1@customer.test>"))
    _assert_kept_out(desk, alice_id, number, r, "header")
    # an agent's reply to Alice goes to Alice alone: Eve is on no Cc
    with desk.tx() as tx:
        tickets.reply(tx, alice_id, "On its way.")
    [reply] = desk.outbox("reply")
    assert (reply.to_addrs, reply.cc_addrs) == ([ALICE], [])
    # and no alert about Alice's ticket carries Eve's words
    assert not [m for m in desk.outbox("alert") if m.ticket_id == alice_id and "invoice" in m.body]


def test_a_stranger_s_in_reply_to_our_reply_or_a_forwarded_token_is_kept_out(lite_desk: MailDesk) -> None:
    desk = lite_desk
    alice_id, number = _alice_ticket(desk)
    with desk.tx() as tx:
        tickets.reply(tx, alice_id, "Have you tried water?")
    ours = desk.outbox("reply")[-1].message_id
    r = desk.ingest(message(sender=EVE, subject="Re: hi", in_reply_to=ours))
    _assert_kept_out(desk, alice_id, number, r, "header")
    with session_scope(desk.engine) as s:
        token = outbound.reply_token(s, alice_id)
    r = desk.ingest(message(sender=EVE, subject="Fwd: hi", body=f"What is this?\n\n> {token}\n"))
    _assert_kept_out(desk, alice_id, number, r, "token")
    r = desk.ingest(message(sender=EVE, subject=f"Re: [{number}] let me in"))
    _assert_kept_out(desk, alice_id, number, r, "subject")


def test_participants_join_and_writing_in_makes_nobody_a_collaborator(lite_desk: MailDesk) -> None:
    desk = lite_desk
    alice_id, number = _alice_ticket(desk)
    with desk.tx() as tx:
        tickets.add_collaborator(tx, alice_id, "bob@customer.test")
    # a collaborator an agent added joins; his own writing in adds nobody, his explicit Cc does
    r = desk.ingest(message(sender="Bob B <bob@customer.test>", subject="Re: fire", body="Me too.\n",
                            references="<alice-1@customer.test>", cc="dora@customer.test"))
    assert (r.outcome, r.ticket_id) == ("reply", alice_id)
    assert _collaborators(desk, alice_id) == ["bob@customer.test", "dora@customer.test"]
    # the requester herself joins by every key
    r = desk.ingest(message(sender=ALICE, subject=f"[{number}] still burning"))
    assert (r.outcome, r.ticket_id) == ("reply", alice_id)
    # the thread names who wrote each message
    authors = [(i.author, i.author_email) for i in _view(desk, alice_id).thread if i.kind == "message"]
    assert authors == [("Alice A", ALICE), ("Bob B", "bob@customer.test"), ("Alice A", ALICE)]


def test_an_organization_s_address_joins_only_where_the_setting_allows(lite_desk: MailDesk) -> None:
    desk = lite_desk
    with session_scope(desk.engine) as s:
        org = Organization(name="Customer Inc")
        s.add(org)
        s.flush()
        s.add(OrganizationDomain(organization_id=org.id, domain="customer.test"))
    alice_id, number = _alice_ticket(desk)
    assert desk.ticket(alice_id).organization_id is not None
    colleague = message(sender="carl@customer.test", subject="Re: fire", references="<alice-1@customer.test>")
    r = desk.ingest(colleague)
    assert r.outcome == "new_ticket" and r.ticket_id != alice_id and "carl@customer.test is not" in r.reason
    desk.set("thread_org_members", True)
    r = desk.ingest(message(sender="carl@customer.test", subject="Re: fire", references="<alice-1@customer.test>"))
    assert (r.outcome, r.ticket_id) == ("reply", alice_id)
    assert "carl@customer.test" not in _collaborators(desk, alice_id)


def test_the_alert_names_the_person_who_wrote_not_the_requester(lite_desk: MailDesk) -> None:
    desk = lite_desk
    alice_id, _number = _alice_ticket(desk)
    [new] = [m for m in desk.outbox("alert.new_ticket") if m.to_addrs == ["sam@helpdesk.test"]]
    assert "From: Alice A <alice@customer.test>" in new.body
    with desk.tx() as tx:
        tickets.add_collaborator(tx, alice_id, "bob@customer.test")
    desk.ingest(message(sender="Bob B <bob@customer.test>", subject="Re: fire", body="Me too.\n",
                        references="<alice-1@customer.test>"))
    [alert] = [m for m in desk.outbox("alert.new_message") if m.to_addrs == ["sam@helpdesk.test"]]
    assert "Bob B <bob@customer.test> wrote on" in alert.body and "Alice" not in alert.body


@pytest.mark.parametrize(("setting", "kind"), [(None, "note"), ("reply", "reply")])
def test_an_agent_answering_an_alert_writes_as_that_agent(lite_desk: MailDesk, setting, kind: str) -> None:
    desk = lite_desk
    if setting:
        desk.set("agent_mail_as", setting)
    alice_id, _number = _alice_ticket(desk)
    [alert] = [m for m in desk.outbox("alert.new_ticket") if m.to_addrs == ["sam@helpdesk.test"]]
    sent_before = len(desk.outbox())
    r = desk.ingest(message(sender="Sam Agent <sam@helpdesk.test>", subject=f"Re: {alert.subject}",
                            body="Looking at it now.\n", in_reply_to=alert.message_id))
    assert (r.state, r.outcome, r.ticket_id) == ("done", f"agent_{kind}", alice_id)
    last = desk.entries(alice_id)[-1]
    with session_scope(desk.engine, write=False) as s:
        sam_id = s.execute(select(TicketEntry.agent_id).where(TicketEntry.id == r.entry_id)).scalar_one()
    assert (last.id, last.kind, last.agent_id, last.contact_id) == (r.entry_id, kind, sam_id, None)
    assert sam_id is not None
    assert last.body == "Looking at it now."
    sent = desk.outbox()[sent_before:]
    # a note tells nobody outside; a reply goes to Alice as Sam's; never an autoresponse to an agent
    assert [m.kind for m in sent if m.kind.startswith("autoresponse")] == []
    assert [(m.kind, m.to_addrs) for m in sent if m.kind == "reply"] == ([("reply", [ALICE])] if kind == "reply" else [])
    # the same mail delivered again adds nothing
    again = desk.ingest(message(sender="sam@helpdesk.test", subject="x", message_id="<dup-agent@helpdesk.test>",
                                in_reply_to=alert.message_id))
    assert again.outcome == f"agent_{kind}"
    assert desk.ingest(message(sender="sam@helpdesk.test", subject="x", message_id="<dup-agent@helpdesk.test>",
                               in_reply_to=alert.message_id)).outcome == "duplicate"


def test_an_address_that_is_no_longer_an_active_agent_s_is_a_stranger(lite_desk: MailDesk) -> None:
    desk = lite_desk
    alice_id, number = _alice_ticket(desk)
    [alert] = [m for m in desk.outbox("alert.new_ticket") if m.to_addrs == ["sam@helpdesk.test"]]
    with session_scope(desk.engine) as s:
        from tui_helpdesk.models import Agent

        s.execute(Agent.__table__.update().where(Agent.username == "sam").values(active=False))
    r = desk.ingest(message(sender="sam@helpdesk.test", subject="Re: x", in_reply_to=alert.message_id))
    assert r.outcome == "new_ticket" and r.ticket_id != alice_id
    assert f"pointed at {number} by header" in r.reason
    assert [e.kind for e in desk.entries(alice_id)] == ["message"]
