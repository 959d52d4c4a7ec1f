"""Fetching from a real Dovecot: by UID, exactly once, server-side action only after commit."""

from __future__ import annotations

import pytest
from imapclient.exceptions import LoginError
from mailflow_support import MailDesk, message
from sqlalchemy import select, update

from tui_helpdesk.db import session_scope
from tui_helpdesk.mail import imap
from tui_helpdesk.models import InboundMessage, Mailbox
from tui_helpdesk.services import inbound, inbound_fetch

USER = "support"


def _configure(desk: MailDesk, server, **extra) -> None:
    values = {
        "imap_host": server.host,
        "imap_port": server.port,
        "imap_security": "none",
        "imap_user": USER,
        "imap_password": server.users[USER],
        "folder": "INBOX",
        **extra,
    }
    with session_scope(desk.engine) as s:
        s.execute(update(Mailbox).where(Mailbox.id == desk.mailbox_id).values(**values))


def _poll(desk: MailDesk) -> dict[str, int]:
    return inbound_fetch.poll(desk.engine, desk.mailbox_id, attachments_dir=desk.attachments)


def _flags(server) -> dict[int, set[bytes]]:
    with server.client(USER) as c:
        c.select_folder("INBOX", readonly=True)
        return {uid: set(data[b"FLAGS"]) for uid, data in c.fetch(c.search("ALL"), ["FLAGS"]).items()}


def test_fetches_every_message_once_seen_or_not(lite_desk: MailDesk, clean_imap, monkeypatch) -> None:
    _configure(lite_desk, clean_imap)
    # small batches, so a few messages span several (25 a batch took 61 messages, each a ticket)
    monkeypatch.setattr(imap, "FETCH_BATCH", 4)
    clean_imap.append(USER, message(subject="already read by someone"), flags=(b"\\Seen",))
    for i in range(9):  # more than two fetch batches between two polls
        clean_imap.append(USER, message(subject=f"issue {i}"))
    counts = _poll(lite_desk)
    assert counts["fetched"] == 10 and lite_desk.tickets() == 10
    assert all(b"\\Seen" in f for f in _flags(clean_imap).values())
    # nothing new: nothing fetched, nothing created
    assert _poll(lite_desk)["fetched"] == 0 and lite_desk.tickets() == 10
    clean_imap.append(USER, message(subject="one more"))
    assert _poll(lite_desk)["fetched"] == 1 and lite_desk.tickets() == 11


def test_uidvalidity_change_refetches_without_duplicates(lite_desk: MailDesk, clean_imap) -> None:
    _configure(lite_desk, clean_imap)
    for i in range(3):
        clean_imap.append(USER, message(subject=f"issue {i}"))
    _poll(lite_desk)
    clean_imap.change_uidvalidity(USER)
    clean_imap.append(USER, message(subject="after the rebuild"))
    counts = _poll(lite_desk)
    assert counts["fetched"] == 4
    assert lite_desk.tickets() == 4
    assert lite_desk.count(InboundMessage, InboundMessage.outcome == "duplicate") == 3


def test_server_action_only_after_the_ticket_change_committed(
    lite_desk: MailDesk, clean_imap, monkeypatch
) -> None:
    _configure(lite_desk, clean_imap, after_fetch="delete")
    clean_imap.append(USER, message(subject="crash on me"))

    def killed(*_a, **_k):
        raise KeyboardInterrupt("process killed between fetch and commit")

    monkeypatch.setattr(inbound, "_new_ticket", killed)
    with pytest.raises(KeyboardInterrupt):
        _poll(lite_desk)
    # journaled, not processed, and still on the server untouched
    assert lite_desk.tickets() == 0
    assert list(_flags(clean_imap).values()) == [set()]
    monkeypatch.undo()
    inbound.process_pending(lite_desk.engine, attachments_dir=lite_desk.attachments)
    assert lite_desk.tickets() == 1
    # the next poll fetches nothing new (the UID was journaled) and finishes the server action
    counts = _poll(lite_desk)
    assert counts["fetched"] == 0 and counts["server_done"] == 1
    assert _flags(clean_imap) == {}
    assert lite_desk.tickets() == 1
    with session_scope(lite_desk.engine) as s:
        assert s.execute(select(InboundMessage.server_done)).scalar_one() is True


def test_move_after_fetch(lite_desk: MailDesk, clean_imap) -> None:
    _configure(lite_desk, clean_imap, after_fetch="move", move_to="Processed")
    clean_imap.append(USER, message())
    _poll(lite_desk)
    assert _flags(clean_imap) == {}
    with clean_imap.client(USER) as c:
        assert c.folder_status("Processed", [b"MESSAGES"])[b"MESSAGES"] == 1


def test_connection_problems_in_words(lite_desk: MailDesk, clean_imap) -> None:
    _configure(lite_desk, clean_imap)
    with session_scope(lite_desk.engine) as s:
        box = s.get(Mailbox, lite_desk.mailbox_id)
        cfg = imap.MailboxConfig.of(box)
    assert imap.test_connection(cfg).startswith("ok")
    wrong_pw = imap.MailboxConfig(**{**cfg.__dict__, "password": "nope"})
    assert "password" in imap.test_connection(wrong_pw)
    no_folder = imap.MailboxConfig(**{**cfg.__dict__, "folder": "Nowhere"})
    assert "does not exist" in imap.test_connection(no_folder)
    refused = imap.MailboxConfig(**{**cfg.__dict__, "port": 1})
    assert "refused" in imap.test_connection(refused)
    dns = imap.MailboxConfig(**{**cfg.__dict__, "host": "no-such-host.invalid"})
    assert "DNS" in imap.test_connection(dns)
    tls = imap.MailboxConfig(**{**cfg.__dict__, "security": "ssl"})
    assert "TLS" in imap.test_connection(tls)


def test_poll_error_is_recorded_on_the_mailbox(lite_desk: MailDesk, clean_imap) -> None:
    _configure(lite_desk, clean_imap, imap_password="wrong")
    with pytest.raises(LoginError):
        _poll(lite_desk)
    with session_scope(lite_desk.engine) as s:
        assert "password" in s.get(Mailbox, lite_desk.mailbox_id).last_error
