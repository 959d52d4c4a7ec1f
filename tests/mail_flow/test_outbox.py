"""Mail out: threading headers, our own-mail markers, sending with retries, failures made visible."""

from __future__ import annotations

from datetime import timedelta

from mailflow_support import MailDesk, build_desk, message
from sqlalchemy import select, update

from tui_helpdesk import clock
from tui_helpdesk.db import get_engine, session_scope
from tui_helpdesk.models import EmailTemplate, Mailbox, OutboundMessage, Ticket, TicketEvent
from tui_helpdesk.services import outbound, settings, tickets


def _desk_with_smtp(sqlite_url: str, tmp_path, smtp_server) -> MailDesk:
    return build_desk(get_engine(sqlite_url), tmp_path, smtp=(smtp_server.host, smtp_server.port))


def test_reply_threads_in_the_customers_client(sqlite_url, tmp_path, smtp_server) -> None:
    desk = _desk_with_smtp(sqlite_url, tmp_path, smtp_server)
    first = desk.ingest(message(message_id="<m1@customer.test>", cc="erin@customer.test"))
    desk.ingest(message(message_id="<m2@customer.test>", in_reply_to="<m1@customer.test>", body="more"))
    with desk.tx() as tx:
        tickets.reply(tx, first.ticket_id, "We are on it.")
    smtp_server.clear()
    counts = outbound.send_due(desk.engine)
    assert counts["sent"] >= 1
    [wire] = [m for m in smtp_server.received() if "We are on it." in m.message.get_body().get_content()]
    msg = wire.message
    number = desk.ticket(first.ticket_id).number
    assert f"[{number}]" in msg["Subject"]
    assert msg["In-Reply-To"] == "<m2@customer.test>"
    refs = msg["References"].split()
    assert refs[0] == "<m1@customer.test>" and refs[-1] == "<m2@customer.test>"
    assert msg["Message-ID"].startswith(f"<tck.{first.ticket_id}.")
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg["To"] == "carol@customer.test" and msg["Cc"] == "erin@customer.test"
    assert set(wire.rcpt_tos) == {"carol@customer.test", "erin@customer.test"}
    assert "[ref:" in msg.get_body().get_content()
    # a reply to it comes back onto the ticket by its headers
    r = desk.ingest(message(in_reply_to=msg["Message-ID"], subject="Re: whatever", body="thanks"))
    assert r.ticket_id == first.ticket_id and r.outcome == "reply"


def test_automatic_mail_is_marked_so_robots_do_not_answer(sqlite_url, tmp_path, smtp_server) -> None:
    desk = _desk_with_smtp(sqlite_url, tmp_path, smtp_server)
    desk.ingest(message())
    outbound.send_due(desk.engine)
    kinds = {}
    for wire in smtp_server.received():
        kinds[wire.message["Auto-Submitted"]] = wire.message
    assert "auto-replied" in kinds and "auto-generated" in kinds  # autoresponse, agent alerts


def test_department_template_overrides_the_default(lite_desk: MailDesk) -> None:
    with session_scope(lite_desk.engine) as s:
        s.add(
            EmailTemplate(
                code="autoresponse.new_ticket",
                department_id=1,
                subject="Got it: %{ticket.subject}",
                body="Hi %{recipient.name}, ticket %{ticket.number} %{unknown.var}",
            )
        )
    r = lite_desk.ingest(message(sender="Carol Customer <carol@customer.test>"))
    [auto] = lite_desk.outbox("autoresponse")
    number = lite_desk.ticket(r.ticket_id).number
    assert auto.subject == f"Got it: Printer on fire [{number}]"
    assert auto.body.startswith(f"Hi Carol Customer, ticket {number} %{{unknown.var}}")


def test_outbox_retries_after_the_smtp_server_was_down(sqlite_url, tmp_path, smtp_server) -> None:
    desk = _desk_with_smtp(sqlite_url, tmp_path, smtp_server)
    desk.ingest(message())
    smtp_server.stop()
    queued = len(desk.outbox())
    counts = outbound.send_due(desk.engine)
    assert counts["retry"] == queued and counts["sent"] == 0
    row = desk.outbox()[0]
    assert row.state == "queued" and row.attempts == 1 and "refused" in row.last_error
    assert row.next_attempt_at > clock.now()
    # not due yet: nothing is tried
    assert outbound.send_due(desk.engine) == {"sent": 0, "retry": 0, "failed": 0}
    smtp_server.start()
    clock.advance(minutes=2)
    assert outbound.send_due(desk.engine)["sent"] == queued
    assert {m.state for m in desk.outbox()} == {"sent"}
    assert len(smtp_server.received()) == queued


def test_outbox_gives_up_visibly_after_max_attempts(sqlite_url, tmp_path, smtp_server) -> None:
    desk = _desk_with_smtp(sqlite_url, tmp_path, smtp_server)
    r = desk.ingest(message())
    smtp_server.stop()
    for _ in range(outbound.MAX_ATTEMPTS):
        outbound.send_due(desk.engine)
        clock.advance(hours=3)
    rows = desk.outbox()
    assert {m.state for m in rows} == {"failed"} and all(m.attempts == outbound.MAX_ATTEMPTS for m in rows)
    with session_scope(desk.engine) as s:
        events = (
            s.execute(
                select(TicketEvent).where(
                    TicketEvent.ticket_id == r.ticket_id, TicketEvent.kind == "mail_failed"
                )
            )
            .scalars()
            .all()
        )
    assert len(events) == len(rows)


def test_no_smtp_server_configured_is_an_error_in_words(lite_desk: MailDesk) -> None:
    lite_desk.ingest(message())
    outbound.send_due(lite_desk.engine)
    assert all("no SMTP server" in m.last_error for m in lite_desk.outbox())


def test_global_smtp_settings_are_the_fallback(sqlite_url, tmp_path, smtp_server) -> None:
    desk = build_desk(get_engine(sqlite_url), tmp_path)
    desk.set("smtp_host", smtp_server.host)
    desk.set("smtp_port", smtp_server.port)
    desk.ingest(message())
    with session_scope(desk.engine) as s:
        s.execute(update(Mailbox).values(smtp_host=""))
        assert s.execute(select(OutboundMessage)).scalars().first() is not None
    queued = desk.outbox()
    smtp_server.clear()
    assert outbound.send_due(desk.engine) == {"sent": len(queued), "retry": 0, "failed": 0}
    # every queued message arrived at the global relay, from the mailbox's address to its recipient
    wire = {(m.mail_from, m.rcpt_tos, m.message["Subject"]) for m in smtp_server.received()}
    assert wire == {(row.from_addr, tuple(row.to_addrs), row.subject) for row in queued}
    [auto] = [m for m in smtp_server.received() if m.rcpt_tos == ("carol@customer.test",)]
    number = desk.ticket(desk.outbox()[0].ticket_id).number
    assert auto.mail_from == "support@helpdesk.test" and auto.message["From"] == "support@helpdesk.test"
    assert auto.message["Subject"] == f"Printer on fire [{number}]"
    assert {m.state for m in desk.outbox()} == {"sent"}


def test_outbox_backoff_doubles_per_failure_up_to_a_cap(lite_desk: MailDesk) -> None:
    lite_desk.ingest(message())  # no SMTP server anywhere: every attempt fails and is retried
    waits = []
    for _ in range(outbound.MAX_ATTEMPTS - 1):
        assert outbound.send_due(lite_desk.engine)["retry"] >= 1
        row = lite_desk.outbox()[0]
        waits.append(row.next_attempt_at - clock.now())
        clock.set_now(row.next_attempt_at)
        # not a second earlier: nothing is due before its time
        clock.advance(seconds=-1)
        assert outbound.send_due(lite_desk.engine) == {"sent": 0, "retry": 0, "failed": 0}
        clock.advance(seconds=1)
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16)]
    assert outbound.send_due(lite_desk.engine)["failed"] >= 1
    # and the wait never grows past the cap, however many attempts a policy allows
    assert [outbound.backoff(n) for n in (7, 8, 9, 30)] == [timedelta(minutes=64)] + [outbound.MAX_DELAY] * 3
    assert outbound.MAX_DELAY == timedelta(hours=2)


def test_one_settings_cache_a_change_is_seen_by_the_outbox_in_the_same_transaction(lite_desk: MailDesk) -> None:
    r = lite_desk.ingest(message())
    before = len(lite_desk.outbox("alert"))
    with lite_desk.tx() as tx:
        ticket = tx.session.get(Ticket, r.ticket_id)
        assert outbound.queue_alert(tx, ticket, "new_message", message="one")  # reads the settings
        settings.put(tx.session, "alert_new_message", False)
        assert outbound.queue_alert(tx, ticket, "new_message", message="two") == 0
    assert len(lite_desk.outbox("alert")) == before + 1  # sam, once (root acted: never alerted)
