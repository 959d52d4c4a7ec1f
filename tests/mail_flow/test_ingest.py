"""Mail in: journal first, threading, senders, auto-replies, bounces, reopen, crash recovery."""

from __future__ import annotations

import pytest
from mailflow_support import SUPPORT, MailDesk, message
from sqlalchemy import select, update

from tui_helpdesk import clock
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import (
    Attachment,
    BanRule,
    Collaborator,
    Contact,
    Department,
    InboundMessage,
    Mailbox,
    Organization,
    OrganizationDomain,
    Ticket,
    TicketFilter,
    TicketLink,
)
from tui_helpdesk.services import inbound, outbound, tickets


def _reply_to_latest(desk: MailDesk, ticket_id: int, body: str = "Have you tried water?") -> str:
    with desk.tx() as tx:
        tickets.reply(tx, ticket_id, body)
    return desk.outbox("reply")[-1].message_id


def test_new_ticket_from_mail_keeps_the_full_original(desk: MailDesk) -> None:
    body = "It is burning.\n\nOn Mon, 2 Mar 2026, Bob wrote:\n> older text\n> more\n"
    r = desk.ingest(message(body=body, subject="Printer on fire"))
    assert (r.state, r.outcome) == ("done", "new_ticket")
    t = desk.ticket(r.ticket_id)
    assert t.subject == "Printer on fire" and t.source == "email" and t.number.startswith("TCK-")
    [entry] = desk.entries(t.id)
    assert entry.body == "It is burning."
    assert "older text" in entry.full_body
    # the requester got the autoresponse with the number in the subject, the department's agents an alert
    [auto] = desk.outbox("autoresponse")
    assert auto.to_addrs == ["carol@customer.test"] and f"[{t.number}]" in auto.subject
    assert {tuple(m.to_addrs) for m in desk.outbox("alert")} == {
        ("root@helpdesk.test",),
        ("sam@helpdesk.test",),
    }


def test_reply_by_headers_appends_to_the_ticket(desk: MailDesk) -> None:
    first = desk.ingest(message())
    ours = _reply_to_latest(desk, first.ticket_id)
    r = desk.ingest(message(subject="Re: something else entirely", body="Still burning.\n", in_reply_to=ours))
    assert (r.outcome, r.ticket_id) == ("reply", first.ticket_id)
    assert desk.tickets() == 1
    assert desk.entries(first.ticket_id)[-1].body == "Still burning."


def test_reply_by_references_to_a_customer_message(desk: MailDesk) -> None:
    # dave was on the requester's Cc, so he takes part (issue 10: a stranger would get a ticket of his own)
    first = desk.ingest(message(message_id="<root@customer.test>", cc="dave@customer.test"))
    r = desk.ingest(
        message(sender="dave@customer.test", subject="Re: fire", references="<x@y.test> <root@customer.test>")
    )
    assert r.ticket_id == first.ticket_id and r.outcome == "reply"


def test_forged_message_id_of_ours_is_not_trusted(desk: MailDesk) -> None:
    first = desk.ingest(message())
    forged = f"<tck.{first.ticket_id}.abcdef123456.{'0' * 20}@helpdesk.test>"
    r = desk.ingest(message(sender="mallory@evil.test", subject="hello", in_reply_to=forged))
    assert r.outcome == "new_ticket" and r.ticket_id != first.ticket_id


def test_reply_by_token_in_the_body(desk: MailDesk) -> None:
    first = desk.ingest(message())
    with session_scope(desk.engine) as s:
        token = outbound.reply_token(s, first.ticket_id)
    body = f"Here is more.\n\n> Earlier mail\n> {token}\n"
    r = desk.ingest(message(subject="no number here", body=body))
    assert (r.outcome, r.ticket_id) == ("reply", first.ticket_id)
    # a token with a wrong signature is ignored
    r2 = desk.ingest(message(subject="other", body=f"[ref:{first.ticket_id}-0123456789abcdef]"))
    assert r2.outcome == "new_ticket"


def test_subject_number_only_from_requester_or_collaborator(desk: MailDesk) -> None:
    first = desk.ingest(message(cc="erin@customer.test"))
    number = desk.ticket(first.ticket_id).number
    r = desk.ingest(message(subject=f"Re: [{number}] update"))
    assert (r.outcome, r.ticket_id) == ("reply", first.ticket_id)
    collab = desk.ingest(message(sender="erin@customer.test", subject=f"[{number}] me too"))
    assert collab.ticket_id == first.ticket_id
    stranger = desk.ingest(message(sender="mallory@evil.test", subject=f"Re: [{number}] let me in"))
    assert stranger.outcome == "new_ticket" and stranger.ticket_id != first.ticket_id
    assert all(e.contact_id is not None for e in desk.entries(first.ticket_id))
    with session_scope(desk.engine) as s:
        mallory = s.execute(select(Contact).where(Contact.email == "mallory@evil.test")).scalar_one()
        assert s.get(Collaborator, (first.ticket_id, mallory.id)) is None


def test_cc_becomes_collaborators_per_setting(desk: MailDesk) -> None:
    r = desk.ingest(message(cc="frank@customer.test, support@helpdesk.test"))
    with session_scope(desk.engine) as s:
        emails = (
            s.execute(
                select(Contact.email)
                .join(Collaborator, Collaborator.contact_id == Contact.id)
                .where(Collaborator.ticket_id == r.ticket_id)
            )
            .scalars()
            .all()
        )
    assert emails == ["frank@customer.test"]  # never our own address
    desk.set("add_cc_as_collaborators", False)
    r2 = desk.ingest(message(cc="gina@customer.test", subject="second"))
    assert desk.count(Collaborator, Collaborator.ticket_id == r2.ticket_id) == 0


def test_duplicate_delivery_creates_nothing_twice(desk: MailDesk) -> None:
    raw = message(message_id="<once@customer.test>")
    first = desk.ingest(raw)
    again = desk.ingest(raw)
    assert (again.state, again.outcome) == ("ignored", "duplicate")
    assert desk.tickets() == 1 and len(desk.outbox("autoresponse")) == 1
    # both deliveries are in the journal with their raw bytes
    assert desk.count(InboundMessage) == 2 and first.journal_id != again.journal_id


def test_message_without_message_id_is_deduplicated_by_content(desk: MailDesk) -> None:
    raw = b"From: hal@customer.test\r\nTo: support@helpdesk.test\r\nSubject: no id\r\n\r\nbody\r\n"
    assert desk.ingest(raw).outcome == "new_ticket"
    assert desk.ingest(raw).outcome == "duplicate"


def test_same_uid_delivered_twice_is_journaled_once(desk: MailDesk) -> None:
    # no Message-ID: the UID check is the only thing that knows this is the same delivery
    raw = b"From: ida@customer.test\r\nTo: support@helpdesk.test\r\nSubject: no id\r\n\r\nbody\r\n"
    first = desk.ingest(raw, uidvalidity=7, uid=42)
    again = desk.ingest(raw, uidvalidity=7, uid=42)
    assert (first.outcome, first.already_journaled) == ("new_ticket", False)
    assert again.already_journaled and again.journal_id == first.journal_id
    assert (again.state, again.outcome, again.ticket_id) == ("done", "new_ticket", first.ticket_id)
    assert desk.count(InboundMessage) == 1 and desk.tickets() == 1
    # the same UID under a new UIDVALIDITY is another message to the journal (the server renumbered)
    renumbered = desk.ingest(raw, uidvalidity=8, uid=42)
    assert not renumbered.already_journaled and renumbered.outcome == "duplicate"
    assert desk.count(InboundMessage) == 2 and desk.tickets() == 1


def test_auto_reply_to_our_autoresponse_creates_and_sends_nothing(desk: MailDesk) -> None:
    first = desk.ingest(message())
    [auto] = desk.outbox("autoresponse")
    sent_before = len(desk.outbox())
    vacation = message(
        subject="Out of office: Printer on fire",
        body="I am away until Monday.",
        in_reply_to=auto.message_id,
        headers={"Auto-Submitted": "auto-replied"},
    )
    r = desk.ingest(vacation)
    assert r.outcome == "auto_reply" and r.ticket_id == first.ticket_id
    assert desk.tickets() == 1 and len(desk.outbox()) == sent_before
    # seen by agents as an internal note, and it changes nothing else
    assert desk.entries(first.ticket_id)[-1].kind == "note"
    # an unthreaded robot mail neither opens a ticket nor gets an answer
    r2 = desk.ingest(message(sender="robot@list.test", subject="Newsletter", headers={"Precedence": "bulk"}))
    assert (r2.state, r2.outcome) == ("ignored", "bulk")  # issue 10: bulk, from no known customer
    assert desk.tickets() == 1 and len(desk.outbox()) == sent_before


def test_auto_reply_never_reopens(desk: MailDesk) -> None:
    first = desk.ingest(message())
    with desk.tx() as tx:
        tickets.resolve(tx, first.ticket_id)
    ours = desk.outbox("autoresponse")[-1].message_id
    desk.ingest(message(in_reply_to=ours, headers={"Auto-Submitted": "auto-replied"}, subject="Auto: away"))
    assert desk.ticket(first.ticket_id).state == "resolved"


def _bounce_for(message_id: str, recipient: str = "carol@customer.test") -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>\r\n"
        f"To: {SUPPORT}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce1@mx.customer.test>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="BB"\r\n\r\n'
        "--BB\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered: 550 5.1.1 user unknown.\r\n"
        "--BB\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.customer.test\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        "--BB\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: {SUPPORT}\r\nTo: {recipient}\r\nSubject: Re: Printer on fire\r\nMessage-ID: {message_id}\r\n"
        "--BB--\r\n"
    ).encode()


def test_bounce_becomes_an_internal_note_on_its_ticket(desk: MailDesk) -> None:
    first = desk.ingest(message())
    ours = _reply_to_latest(desk, first.ticket_id)
    count = len(desk.outbox())
    r = desk.ingest(_bounce_for(ours))
    assert (r.outcome, r.ticket_id) == ("bounce", first.ticket_id)
    note = desk.entries(first.ticket_id)[-1]
    assert note.kind == "note" and "5.1.1" in note.body and "carol@customer.test" in note.body
    assert desk.tickets() == 1 and len(desk.outbox()) == count
    # a bounce of something we never sent opens nothing
    other = desk.ingest(_bounce_for("<unknown@elsewhere.test>"))
    assert other.state == "ignored" and desk.tickets() == 1


@pytest.mark.parametrize(
    ("policy", "org_domain", "expected"),
    [
        ("create", False, "new_ticket"),
        ("reject", False, "unknown_sender"),
        ("domain", False, "unknown_sender"),
        ("domain", True, "new_ticket"),
    ],
)
def test_unknown_sender_policy(desk: MailDesk, policy: str, org_domain: bool, expected: str) -> None:
    desk.set("unknown_sender_policy", policy)
    if org_domain:
        with session_scope(desk.engine) as s:
            org = Organization(name="Customer Ltd")
            s.add(org)
            s.flush()
            s.add(OrganizationDomain(organization_id=org.id, domain="customer.test"))
    r = desk.ingest(message())
    assert r.outcome == expected
    assert desk.tickets() == (1 if expected == "new_ticket" else 0)
    if expected != "new_ticket":
        assert r.state == "ignored" and desk.outbox() == []
        assert desk.raw(r.journal_id)  # kept for an admin
    if org_domain:
        with session_scope(desk.engine) as s:
            assert s.get(Ticket, r.ticket_id).organization_id is not None


def test_known_contact_passes_a_reject_policy(desk: MailDesk) -> None:
    with session_scope(desk.engine) as s:
        s.add(Contact(email="carol@customer.test", name="Carol"))
    desk.set("unknown_sender_policy", "reject")
    assert desk.ingest(message()).outcome == "new_ticket"


def test_ban_list_by_address_and_domain(desk: MailDesk) -> None:
    with session_scope(desk.engine) as s:
        s.add(BanRule(pattern="@spam.test"))
        s.add(BanRule(pattern="pest@customer.test"))
    assert desk.ingest(message(sender="a@spam.test")).outcome == "banned"
    assert desk.ingest(message(sender="Pest@Customer.test")).outcome == "banned"
    assert desk.ingest(message(sender="ok@customer.test")).outcome == "new_ticket"


def test_filters_set_fields_tag_and_skip_autoresponse(desk: MailDesk) -> None:
    with session_scope(desk.engine) as s:
        s.add(
            TicketFilter(
                name="urgent",
                conditions=[{"field": "subject", "op": "contains", "value": "urgent"}],
                actions={
                    "priority": "Urgent",
                    "tag": "vip",
                    "assignee": "sam",
                    "skip_autoresponse": True,
                    "team": "no such team",
                },
            )
        )
        s.add(
            TicketFilter(
                name="spam",
                conditions=[{"field": "header:X-Spam-Flag", "op": "equals", "value": "YES"}],
                actions={"reject": True},
            )
        )
    r = desk.ingest(message(subject="URGENT: down"))
    detail = desk.ticket(r.ticket_id)
    assert detail.priority_rank == 4 and detail.assignee_id is not None
    assert desk.outbox("autoresponse") == []
    # the broken action is named in a note rather than failing the message
    assert any("no such team" in e.body for e in desk.entries(r.ticket_id) if e.kind == "note")
    spam = desk.ingest(message(subject="buy", headers={"X-Spam-Flag": "YES"}))
    assert (spam.state, spam.outcome) == ("ignored", "rejected")


def test_reply_within_the_window_reopens(desk: MailDesk) -> None:
    first = desk.ingest(message())
    with desk.tx() as tx:
        tickets.assign(tx, first.ticket_id, "sam")
        tickets.resolve(tx, first.ticket_id)
    clock.advance(days=3)
    alerts_before = len(desk.outbox("alert.reopened"))
    r = desk.ingest(message(subject=f"Re: [{desk.ticket(first.ticket_id).number}]", body="Broken again"))
    assert (r.outcome, r.ticket_id) == ("reopened", first.ticket_id)
    t = desk.ticket(first.ticket_id)
    assert t.state == "new" and t.reopened
    assert [m.to_addrs for m in desk.outbox("alert.reopened")][alerts_before:] == [["sam@helpdesk.test"]]


def test_reply_after_the_window_opens_a_linked_ticket(desk: MailDesk) -> None:
    first = desk.ingest(message())
    with desk.tx() as tx:
        tickets.resolve(tx, first.ticket_id)
    clock.advance(days=8)
    number = desk.ticket(first.ticket_id).number
    r = desk.ingest(message(subject=f"Re: [{number}] again", body="New problem"))
    assert r.outcome == "new_ticket_late" and r.ticket_id != first.ticket_id
    assert desk.ticket(first.ticket_id).state == "resolved"
    with session_scope(desk.engine) as s:
        link = s.get(TicketLink, (r.ticket_id, first.ticket_id))
        assert link is not None and link.kind == "related_to"


def test_reply_after_the_window_refused_per_setting(desk: MailDesk) -> None:
    first = desk.ingest(message())
    with desk.tx() as tx:
        tickets.resolve(tx, first.ticket_id)
    desk.set("late_reply_policy", "refuse")
    clock.advance(days=8)
    number = desk.ticket(first.ticket_id).number
    r = desk.ingest(message(subject=f"Re: [{number}] again", body="New problem"))
    assert (r.state, r.outcome, r.ticket_id) == ("ignored", "refused", first.ticket_id)
    assert desk.tickets() == 1
    [notice] = desk.outbox("notice.refused")
    assert notice.to_addrs == ["carol@customer.test"]


def test_reply_to_merged_ticket_lands_on_the_parent(desk: MailDesk) -> None:
    a = desk.ingest(message(subject="one", message_id="<a@customer.test>"))
    b = desk.ingest(message(subject="two"))
    with session_scope(desk.engine) as s:
        child = s.get(Ticket, a.ticket_id)
        child.merged_into_id = b.ticket_id
        child.visible = False
        s.add(child)
    r = desk.ingest(message(subject="Re: one", in_reply_to="<a@customer.test>"))
    assert r.ticket_id == b.ticket_id


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the cleaning is Python's, before any SQL
def test_control_sequences_in_subject_are_never_stored(desk: MailDesk) -> None:
    r = desk.ingest(message(subject="Hi \x1b]0;pwned\x07there \x1b[31mred\x1b[0m \u202eevil"))
    subject = desk.ticket(r.ticket_id).subject
    assert "\x1b" not in subject and "\x07" not in subject and "\u202e" not in subject
    assert "Hi" in subject and "red" in subject


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the policy is Python's; the files go to disk
def test_blocked_and_oversized_attachments_named_in_a_note(desk: MailDesk) -> None:
    desk.set("attachment_max_mb", 1)
    big = "A" * (2 * 1024 * 1024)
    raw = (
        "From: carol@customer.test\r\nTo: support@helpdesk.test\r\nSubject: files\r\n"
        "Message-ID: <files@customer.test>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n'
        "--XX\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
        '--XX\r\nContent-Type: text/plain; name="notes.txt"\r\nContent-Disposition: attachment; filename="notes.txt"\r\n\r\nhello\r\n'
        '--XX\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="setup.exe"\r\n\r\nMZ\r\n'
        f'--XX\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="big.log"\r\n\r\n{big}\r\n'
        "--XX--\r\n"
    ).encode()
    r = desk.ingest(raw)
    with session_scope(desk.engine) as s:
        stored = s.execute(select(Attachment).where(Attachment.ticket_id == r.ticket_id)).scalars().all()
    assert [a.filename for a in stored] == ["notes.txt"]
    assert (desk.attachments / stored[0].storage_name).read_bytes().strip() == b"hello"
    note = next(e.body for e in desk.entries(r.ticket_id) if e.kind == "note")
    assert "setup.exe" in note and "big.log" in note


def test_crash_between_journal_and_commit_recovers_exactly_once(desk: MailDesk, monkeypatch) -> None:
    raw = message(message_id="<crash@customer.test>")

    def boom(*_a, **_k):
        raise KeyboardInterrupt("killed mid-transaction")  # not an Exception: nothing catches it

    monkeypatch.setattr(inbound, "_new_ticket", boom)
    with pytest.raises(KeyboardInterrupt):
        desk.ingest(raw)
    with session_scope(desk.engine) as s:
        [row] = s.execute(select(InboundMessage)).scalars().all()
        assert row.state == "pending"
    assert desk.raw(row.id) == raw
    assert desk.tickets() == 0  # the half-done transaction left nothing behind
    monkeypatch.undo()
    assert inbound.process_pending(desk.engine, attachments_dir=desk.attachments) == {"done": 1}
    assert desk.tickets() == 1
    # the MTA delivers again, and recovery runs again: still one ticket
    assert desk.ingest(raw).outcome == "duplicate"
    assert inbound.process_pending(desk.engine) == {}
    assert desk.tickets() == 1


def test_processing_error_quarantines_and_retry_succeeds(desk: MailDesk, monkeypatch) -> None:
    def broken(*_a, **_k):
        raise RuntimeError("database hiccup in a filter")

    monkeypatch.setattr(inbound, "_new_ticket", broken)
    r = desk.ingest(message())
    assert r.state == "quarantined" and "hiccup" in r.reason
    assert desk.tickets() == 0
    monkeypatch.undo()
    again = inbound.retry(desk.engine, r.journal_id, attachments_dir=desk.attachments)
    assert (again.state, again.outcome) == ("done", "new_ticket")


def test_garbage_is_quarantined_not_raised(desk: MailDesk) -> None:
    for raw in (b"", b"\x00\x01\x02", b"not a mail at all", b"From: \r\n\r\n"):
        r = desk.ingest(raw)
        assert r.state in ("quarantined", "ignored", "done")
    with session_scope(desk.engine) as s:
        rows = s.execute(select(InboundMessage)).scalars().all()
    assert len(rows) == 4 and all(row.state != "pending" for row in rows)


def test_autoresponse_rate_limit_per_sender(desk: MailDesk) -> None:
    desk.set("autoresponse_rate_limit_per_hour", 2)
    for i in range(4):
        desk.ingest(message(subject=f"issue {i}"))
    assert desk.tickets() == 4 and len(desk.outbox("autoresponse")) == 2
    clock.advance(hours=1, minutes=1)
    desk.ingest(message(subject="later"))
    assert len(desk.outbox("autoresponse")) == 3


def test_the_rate_limit_counts_the_sender_exactly_with_wildcards_and_non_ascii(desk: MailDesk) -> None:
    # the count is narrowed in SQL by the stored JSON text: "_" and "%" are LIKE wildcards, "ü" is escaped
    desk.set("autoresponse_rate_limit_per_hour", 1)
    for sender in ("jürgen_k@customer.test", "jürgen_k@customer.test", "jürgenxk@customer.test", "100%@customer.test"):
        desk.ingest(message(sender=sender, subject=f"from {sender}"))
    assert sorted(m.to_addrs[0] for m in desk.outbox("autoresponse")) == [
        "100%@customer.test", "jürgen_k@customer.test", "jürgenxk@customer.test"
    ]  # fmt: skip


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # its one statement runs in every ingest
def test_own_mail_coming_back_is_ignored(desk: MailDesk) -> None:
    r = desk.ingest(message(sender=SUPPORT, subject="loop"))
    assert (r.state, r.outcome) == ("ignored", "own_mail") and desk.tickets() == 0


# --- issue 8 defects 4, 5 and 10: numbers under a changed prefix, late replies, archived departments ----


@pytest.mark.parametrize("written", ["TCK", "ITF", "itf"])
def test_subject_number_under_old_or_new_prefix_threads_after_a_prefix_change(
    desk: MailDesk, written: str
) -> None:
    first = desk.ingest(message())
    number = desk.ticket(first.ticket_id).number
    assert number.startswith("TCK-")
    desk.set("number_prefix", "ITF")
    digits = number.split("-")[1]
    r = desk.ingest(message(subject=f"Re: [{written}-{digits}] still burning", body="Still."))
    assert (r.outcome, r.ticket_id) == ("reply", first.ticket_id)
    assert desk.tickets() == 1
    assert desk.entries(first.ticket_id)[-1].body == "Still."
    # the ticket keeps its number, and an unknown prefix is nobody's ticket
    assert desk.ticket(first.ticket_id).number == number
    other = desk.ingest(message(subject=f"Re: [FOO-{digits}] hello"))
    assert other.outcome == "new_ticket" and other.ticket_id != first.ticket_id


def test_late_reply_opens_one_new_ticket_and_the_thread_stays_on_it(desk: MailDesk) -> None:
    first = desk.ingest(message(subject="Printer on fire"))
    old = desk.ticket(first.ticket_id).number
    with desk.tx() as tx:
        tickets.resolve(tx, first.ticket_id)
    clock.advance(days=8)
    late = desk.ingest(message(subject=f"Re: Printer on fire [{old}]", body="It is back."))
    assert late.outcome == "new_ticket_late" and late.ticket_id != first.ticket_id
    new = desk.ticket(late.ticket_id)
    # the new ticket's subject no longer names the old ticket; the link does
    assert old not in new.subject and new.subject == "Re: Printer on fire"
    with session_scope(desk.engine) as s:
        link = s.get(TicketLink, (new.id, first.ticket_id))
        assert link is not None and link.kind == "related_to"
    assert old in late.reason
    [auto] = [m for m in desk.outbox("autoresponse") if m.ticket_id == new.id]
    assert old not in auto.subject and f"[{new.number}]" in auto.subject
    # the customer answers the autoresponse from a client that keeps only the subject
    r = desk.ingest(message(subject=f"Re: {auto.subject}", body="Any news?"))
    assert (r.outcome, r.ticket_id) == ("reply", new.id)
    # a subject that still carries both numbers (mail written before the fix) goes to the newer ticket
    both = desk.ingest(message(subject=f"Re: [{old}] [{new.number}] again", body="Hello?"))
    assert (both.outcome, both.ticket_id) == ("reply", new.id)
    assert desk.tickets() == 2
    assert desk.ticket(first.ticket_id).state == "resolved"
    assert [e.body for e in desk.entries(new.id) if e.kind == "message"] == ["It is back.", "Any news?", "Hello?"]


def test_reply_to_a_closed_ticket_of_an_archived_department_opens_a_new_ticket(desk: MailDesk) -> None:
    with session_scope(desk.engine) as s:
        sales = Department(name="Sales")
        s.add(sales)
        s.flush()
        sales_id = sales.id
    first = desk.ingest(message(subject="Invoice wrong"))
    old = desk.ticket(first.ticket_id)
    with desk.tx() as tx:
        tickets.set_status(tx, first.ticket_id, "closed")
    with session_scope(desk.engine) as s:
        s.execute(update(Department).where(Department.id == old.department_id).values(state="archived"))
    r = desk.ingest(message(subject=f"Re: Invoice wrong [{old.number}]", body="Still wrong."))
    assert (r.state, r.outcome) == ("done", "new_ticket_late")
    new = desk.ticket(r.ticket_id)
    # the mailbox's department is the archived one too: the default (first active) department takes it
    assert new.id != old.id and new.department_id == sales_id and new.state == "new"
    assert desk.entries(new.id)[0].body == "Still wrong."
    with session_scope(desk.engine) as s:
        row = s.get(InboundMessage, r.journal_id)
        assert row.state == "done" and row.outcome == "new_ticket_late"
        assert old.number in row.reason and "archived" in row.reason and "Sales" in row.reason
    assert desk.ticket(old.id).state == "closed"


def test_late_reply_prefers_the_mailbox_department_when_the_old_one_is_archived(desk: MailDesk) -> None:
    with session_scope(desk.engine) as s:
        billing = Department(name="Billing")
        sales = Department(name="Sales")
        s.add_all([billing, sales])
        s.flush()
        billing_id, sales_id = billing.id, sales.id
    first = desk.ingest(message(subject="Invoice wrong"))
    old = desk.ticket(first.ticket_id)
    with desk.tx() as tx:
        tickets.set_status(tx, first.ticket_id, "closed")
    with session_scope(desk.engine) as s:
        s.execute(update(Department).where(Department.id == old.department_id).values(state="archived"))
        s.execute(update(Mailbox).where(Mailbox.id == desk.mailbox_id).values(department_id=sales_id))
    r = desk.ingest(message(subject=f"Re: [{old.number}]", body="Still wrong."))
    assert r.outcome == "new_ticket_late"
    assert desk.ticket(r.ticket_id).department_id == sales_id != billing_id
    assert "Sales" in r.reason
