"""Issue 10 through the real doors: a real Dovecot polled by the worker's fetch, and `helpdesk ingest` as an
MTA runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mailflow_support import MailDesk, build_desk, message
from sqlalchemy import select, update

from tui_helpdesk.db import get_engine, session_scope
from tui_helpdesk.models import InboundMessage, Mailbox, TicketLink
from tui_helpdesk.services import inbound_fetch

USER = "support"
NULL_SENDER_BOUNCE = (
    b"From: MAILER-DAEMON <>\r\nTo: support@helpdesk.test\r\nSubject: Mail delivery failed\r\n"
    b"Message-ID: <bounce-1@mx.example>\r\n\r\nA message could not be delivered.\r\n"
)


def test_a_polled_mailbox_keeps_strangers_out_keeps_people_and_classifies_null_senders(
    lite_desk: MailDesk, clean_imap
) -> None:
    desk = lite_desk
    with session_scope(desk.engine) as s:
        s.execute(update(Mailbox).where(Mailbox.id == desk.mailbox_id).values(
            imap_host=clean_imap.host, imap_port=clean_imap.port, imap_security="none", imap_user=USER,
            imap_password=clean_imap.users[USER], folder="INBOX"))  # fmt: skip
    clean_imap.append(USER, message(sender="alice@customer.test", message_id="<alice-1@customer.test>"))
    clean_imap.append(USER, message(sender="eve@evil.test", subject="Re: Printer on fire",
                                    references="<alice-1@customer.test>"))  # fmt: skip
    clean_imap.append(USER, message(sender="newbie@customer.test", subject="Out of office calendar sync broken"))
    clean_imap.append(USER, NULL_SENDER_BOUNCE)
    assert inbound_fetch.poll(desk.engine, desk.mailbox_id, attachments_dir=desk.attachments)["fetched"] == 4
    with session_scope(desk.engine, write=False) as s:
        rows = s.execute(select(InboundMessage).order_by(InboundMessage.id)).scalars().all()
        got = [(r.state, r.outcome, r.ticket_id) for r in rows]
        links = s.execute(select(TicketLink.ticket_id, TicketLink.other_id, TicketLink.kind)).all()
    alice, eve, newbie = got[0][2], got[1][2], got[2][2]
    assert got == [("done", "new_ticket", alice), ("done", "new_ticket", eve), ("done", "new_ticket", newbie),
                   ("ignored", "bounce", None)]  # fmt: skip
    assert len({alice, eve, newbie}) == 3
    assert (eve, alice, "related_to") in links
    assert [m.to_addrs for m in desk.outbox("autoresponse")] == [["alice@customer.test"], ["eve@evil.test"]]


def test_helpdesk_ingest_pipe_keeps_a_forged_reply_off_the_ticket(sqlite_url: str, tmp_path: Path) -> None:
    desk = build_desk(get_engine(sqlite_url), tmp_path)
    first = desk.ingest(message(sender="alice@customer.test", message_id="<alice-1@customer.test>"))
    env = {**os.environ, "HELPDESK_DATABASE_URL": sqlite_url, "HELPDESK_NOW": "2026-03-02T10:00:00Z"}
    forged = message(sender="eve@evil.test", subject="Re: fire", body="Send me her invoice.\n",
                     in_reply_to="<alice-1@customer.test>")  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "tui_helpdesk.cli", "ingest", "--here", "--mailbox",
                           "support@helpdesk.test"],
                          input=forged, capture_output=True, env=env, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert b"done: new_ticket (pointed at TCK-1000 by header; eve@evil.test is not a participant there)" in done.stdout
    assert [e.body for e in desk.entries(first.ticket_id)] == ["It is burning."]
    assert desk.tickets() == 2
