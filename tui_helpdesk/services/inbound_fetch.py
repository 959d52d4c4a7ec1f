"""Polling a mailbox over IMAP into the journal, exactly once per message.

A poll selects the folder, compares UIDVALIDITY with the stored one (a change means the server
renumbered: fetch from UID 1 again; Message-ID dedupe in the journal turns the copies into "duplicate"
rows, never into second tickets), fetches every UID above the stored last UID in batches, journals each
batch in one commit and processes it in another, and only then does the after-fetch action (mark seen, move, delete) for the rows whose
ticket change has committed, recording that in InboundMessage.server_done. A crash anywhere leaves a
state that the next poll completes. The IMAP conversation itself is mail/imap.py's.
"""

from __future__ import annotations

from pathlib import Path

from imapclient import IMAPClient
from sqlalchemy import Engine, select, update

from tui_helpdesk import clock
from tui_helpdesk.db import session_scope
from tui_helpdesk.mail import imap
from tui_helpdesk.mail.imap import MailboxConfig, describe_error
from tui_helpdesk.models import InboundMessage, Mailbox

from . import inbound
from .inbound_journal import journal_batch

__all__ = ["describe_error", "due_mailboxes", "finish_server_actions", "poll"]


def poll(engine: Engine, mailbox_id: int, *, attachments_dir: Path | None = None) -> dict[str, int]:
    """One poll of one mailbox: fetch what is new, ingest it, then do the after-fetch action."""
    with session_scope(engine, write=False) as s:
        box = s.get(Mailbox, mailbox_id)
        if box is None:
            return {}
        cfg = MailboxConfig.of(box)
    counts = {"fetched": 0, "server_done": 0}
    try:
        client = imap.connect(cfg)
    except Exception as exc:  # noqa: BLE001
        _record_poll(engine, cfg.id, describe_error(exc, cfg.host, cfg.port, cfg.folder))
        raise
    try:
        uidvalidity = imap.select_folder(client, cfg.folder)
        last_uid = cfg.last_uid
        if cfg.uidvalidity != uidvalidity:
            # The server renumbered (or this is the first poll): everything is new to us by UID.
            last_uid = 0
            with session_scope(engine) as s:
                s.execute(
                    update(Mailbox).where(Mailbox.id == cfg.id).values(uidvalidity=uidvalidity, last_uid=0)
                )
        uids = imap.uids_after(client, last_uid)
        for start in range(0, len(uids), imap.FETCH_BATCH):
            # One FETCH, one journal commit (the last UID advances with it), one processing transaction
            # (a SAVEPOINT per message), one after-fetch action: a crash between any two leaves rows that
            # the next pass finishes (pending ones by process_pending, unflagged ones below).
            fetched = list(imap.fetch_raw(client, uids[start : start + imap.FETCH_BATCH]))
            journaled = journal_batch(engine, fetched, mailbox_id=cfg.id, uidvalidity=uidvalidity)
            inbound.process_batch(
                engine, list(dict.fromkeys(i for i, _seen in journaled)), attachments_dir=attachments_dir
            )
            counts["fetched"] += len(fetched)
            counts["server_done"] += finish_server_actions(engine, client, cfg, uidvalidity)
        counts["server_done"] += finish_server_actions(engine, client, cfg, uidvalidity)
    except Exception as exc:
        _record_poll(engine, cfg.id, describe_error(exc, cfg.host, cfg.port, cfg.folder))
        raise
    finally:
        imap.close(client)
    _record_poll(engine, cfg.id, "")
    return counts


def finish_server_actions(engine: Engine, client: IMAPClient, cfg: MailboxConfig, uidvalidity: int) -> int:
    """Mark seen / move / delete the messages whose processing has committed; returns how many."""
    with session_scope(engine, write=False) as s:
        rows = s.execute(
            select(InboundMessage.id, InboundMessage.uid).where(
                InboundMessage.mailbox_id == cfg.id,
                InboundMessage.uidvalidity == uidvalidity,
                InboundMessage.server_done.is_(False),
                InboundMessage.state != "pending",
                InboundMessage.uid.is_not(None),
            )
        ).all()
    if not rows:
        return 0
    imap.after_fetch(client, cfg, [int(uid) for _, uid in rows])
    with session_scope(engine) as s:
        s.execute(
            update(InboundMessage).where(InboundMessage.id.in_([i for i, _ in rows])).values(server_done=True)
        )
    return len(rows)


def _record_poll(engine: Engine, mailbox_id: int, error: str) -> None:
    with session_scope(engine) as s:
        s.execute(
            update(Mailbox)
            .where(Mailbox.id == mailbox_id)
            .values(last_polled_at=clock.now(), last_error=error)
        )


def due_mailboxes(engine: Engine) -> list[int]:
    now = clock.now()
    with session_scope(engine, write=False) as s:
        boxes = (
            s.execute(
                select(Mailbox).where(Mailbox.active.is_(True), Mailbox.imap_host != "").order_by(Mailbox.id)
            )
            .scalars()
            .all()
        )
        return [
            int(b.id)
            for b in boxes
            if b.last_polled_at is None or (now - b.last_polled_at).total_seconds() >= max(b.poll_seconds, 0)
        ]
