"""A poll fetches, journals and processes mail a FETCH batch at a time (services/inbound_fetch.py): one
journal commit, one processing transaction with a SAVEPOINT per message, one after-fetch action. These
tests cut the pass at each new seam and check that every message still becomes exactly one ticket."""

from __future__ import annotations

import pytest
from mailflow_support import MailDesk, message
from sqlalchemy import select, text, update

from tui_helpdesk.db import session_scope
from tui_helpdesk.mail import imap
from tui_helpdesk.models import InboundMessage, Mailbox, Ticket
from tui_helpdesk.services import inbound, inbound_fetch

USER = "support"


def _configure(desk: MailDesk, server) -> None:
    with session_scope(desk.engine) as s:
        s.execute(update(Mailbox).where(Mailbox.id == desk.mailbox_id).values(
            imap_host=server.host, imap_port=server.port, imap_security="none", imap_user=USER,
            imap_password=server.users[USER], folder="INBOX",
        ))  # fmt: skip


def _poll(desk: MailDesk) -> dict[str, int]:
    return inbound_fetch.poll(desk.engine, desk.mailbox_id, attachments_dir=desk.attachments)


def _seen(server) -> list[bool]:
    with server.client(USER) as c:
        c.select_folder("INBOX", readonly=True)
        return [b"\\Seen" in d[b"FLAGS"] for _uid, d in sorted(c.fetch(c.search("ALL"), ["FLAGS"]).items())]


def _states(desk: MailDesk) -> list[str]:
    with session_scope(desk.engine, write=False) as s:
        return list(s.execute(select(InboundMessage.state).order_by(InboundMessage.id)).scalars())


def _subjects(desk: MailDesk) -> list[str]:
    with session_scope(desk.engine, write=False) as s:
        return sorted(s.execute(select(Ticket.subject)).scalars())


def test_a_bad_message_in_a_batch_is_quarantined_alone(desk: MailDesk, clean_imap, monkeypatch) -> None:
    _configure(desk, clean_imap)
    twice = message(subject="sent twice")
    for raw in (message(subject="one"), message(subject="poison"), twice, twice, message(subject="two")):
        clean_imap.append(USER, raw)
    real = inbound._new_ticket

    def failing(ctx, **kw):
        if ctx.parsed.subject == "poison":  # a database error: on PostgreSQL it aborts the transaction
            ctx.tx.session.execute(text("SELECT * FROM no_such_table"))
        return real(ctx, **kw)

    monkeypatch.setattr(inbound, "_new_ticket", failing)
    counts = _poll(desk)
    assert counts["fetched"] == 5 and counts["server_done"] == 5
    assert _subjects(desk) == ["one", "sent twice", "two"]
    assert _states(desk) == ["done", "quarantined", "done", "ignored", "done"]
    assert _seen(clean_imap) == [True] * 5  # the quarantined one is kept in the journal, not on the server
    monkeypatch.undo()
    with session_scope(desk.engine, write=False) as s:
        bad = s.execute(select(InboundMessage).where(InboundMessage.state == "quarantined")).scalar_one()
    assert "no_such_table" in bad.reason
    assert inbound.retry(desk.engine, bad.id, attachments_dir=desk.attachments).outcome == "new_ticket"
    assert _subjects(desk) == ["one", "poison", "sent twice", "two"]


def test_a_kill_between_journaling_a_batch_and_processing_it_loses_nothing(
    lite_desk: MailDesk, clean_imap, monkeypatch
) -> None:
    _configure(lite_desk, clean_imap)
    monkeypatch.setattr(imap, "FETCH_BATCH", 4)
    total = imap.FETCH_BATCH + 3  # two batches
    for i in range(total):
        clean_imap.append(USER, message(subject=f"issue {i:02d}"))

    def killed(*_a, **_k):
        raise KeyboardInterrupt("killed after the batch's journal commit")

    real_batch = inbound.process_batch

    monkeypatch.setattr(inbound, "process_batch", killed)
    with pytest.raises(KeyboardInterrupt):
        _poll(lite_desk)
    monkeypatch.setattr(inbound, "process_batch", real_batch)
    # the first batch is journaled (and the last UID moved past it), nothing is processed or flagged
    assert _states(lite_desk) == ["pending"] * imap.FETCH_BATCH
    assert lite_desk.tickets() == 0 and _seen(clean_imap) == [False] * total
    with clean_imap.client(USER) as c:
        c.select_folder("INBOX", readonly=True)
        batch_end = sorted(c.search("ALL"))[imap.FETCH_BATCH - 1]
    with session_scope(lite_desk.engine, write=False) as s:
        assert s.get(Mailbox, lite_desk.mailbox_id).last_uid == batch_end
    # the next pass: the poll fetches the rest, the journal step finishes the batch, the next poll flags it
    assert _poll(lite_desk)["fetched"] == 3
    assert inbound.process_pending(lite_desk.engine, attachments_dir=lite_desk.attachments) == {
        "done": imap.FETCH_BATCH
    }
    assert _poll(lite_desk) == {"fetched": 0, "server_done": imap.FETCH_BATCH}
    assert _subjects(lite_desk) == [f"issue {i:02d}" for i in range(total)]
    assert _states(lite_desk) == ["done"] * total and _seen(clean_imap) == [True] * total


def test_a_kill_in_the_middle_of_a_batch_rolls_the_whole_batch_back(
    lite_desk: MailDesk, clean_imap, monkeypatch
) -> None:
    _configure(lite_desk, clean_imap)
    for i in range(4):
        clean_imap.append(USER, message(subject=f"issue {i}"))
    real = inbound._new_ticket

    def killed_at_the_third(ctx, **kw):
        if ctx.parsed.subject == "issue 2":
            raise KeyboardInterrupt("killed while the batch's transaction was open")
        return real(ctx, **kw)

    monkeypatch.setattr(inbound, "_new_ticket", killed_at_the_third)
    with pytest.raises(KeyboardInterrupt):
        _poll(lite_desk)
    monkeypatch.undo()
    # the two messages done before the kill were in the same uncommitted transaction: gone with it
    assert lite_desk.tickets() == 0 and _states(lite_desk) == ["pending"] * 4
    assert _seen(clean_imap) == [False] * 4
    inbound.process_pending(lite_desk.engine, attachments_dir=lite_desk.attachments)
    assert _poll(lite_desk) == {"fetched": 0, "server_done": 4}
    assert _subjects(lite_desk) == [f"issue {i}" for i in range(4)] and _seen(clean_imap) == [True] * 4


def test_piped_mail_is_processed_in_batches_and_a_batch_that_kills_goes_one_by_one(
    lite_desk: MailDesk, monkeypatch
) -> None:
    """What `helpdesk ingest` journals while a worker runs: one transaction for the lot, not one a message;
    a message that kills the process takes its batch down once, then only itself (quarantined after
    MAX_RECOVERY_ATTEMPTS) while the others are done, each exactly once."""
    from sqlalchemy import event

    ids = [inbound.journal(lite_desk.engine, message(subject=f"piped {i}"))[0] for i in range(4)]
    commits: list[int] = []

    def committed(_conn) -> None:
        commits.append(1)

    event.listen(lite_desk.engine, "commit", committed)
    try:
        assert inbound.process_pending(lite_desk.engine, attachments_dir=lite_desk.attachments) == {"done": 4}
    finally:
        event.remove(lite_desk.engine, "commit", committed)
    # the read of what is pending, the attempts counted, the batch (one at a time: 1 + 2 a message)
    assert len(commits) == 3 and lite_desk.tickets() == 4
    assert _states(lite_desk) == ["done"] * 4 and ids == sorted(ids)

    more = [inbound.journal(lite_desk.engine, message(subject=f"later {i}"))[0] for i in range(3)]
    real = inbound._new_ticket

    def kills_on_the_second(ctx, **kw):
        if ctx.parsed.subject == "later 1":
            raise KeyboardInterrupt("killed by this message")
        return real(ctx, **kw)

    monkeypatch.setattr(inbound, "_new_ticket", kills_on_the_second)
    for _ in range(inbound.MAX_RECOVERY_ATTEMPTS + 1):
        try:
            inbound.process_pending(lite_desk.engine, attachments_dir=lite_desk.attachments)
            break
        except KeyboardInterrupt:
            continue
    with session_scope(lite_desk.engine, write=False) as s:
        states = {r.id: r.state for r in s.execute(select(InboundMessage).where(InboundMessage.id.in_(more)))
                  .scalars()}  # fmt: skip
    assert [states[i] for i in more] == ["done", "quarantined", "done"]
    assert lite_desk.tickets() == 6
