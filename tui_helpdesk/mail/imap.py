"""Fetching a mailbox over IMAP by UID, exactly once per message.

A poll selects the folder, compares UIDVALIDITY with the stored one (a change means the server
renumbered: fetch from UID 1 again; Message-ID dedupe in the journal turns the copies into "duplicate"
rows, never into second tickets), fetches every UID above the stored last UID with BODY.PEEK[] (so
the \\Seen flag neither hides mail from us nor gets set early), journals and processes each message,
and only then does the after-fetch action (mark seen, move, delete) for the rows whose ticket change
has committed, recording that in InboundMessage.server_done. A crash anywhere leaves a state that
the next poll completes.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError
from sqlalchemy import Engine, select, update

from tui_helpdesk import clock
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import InboundMessage, Mailbox

from . import ingest

FETCH_BATCH = 25
TIMEOUT = 30
SEEN = b"\\Seen"


@dataclass(frozen=True)
class MailboxConfig:
    """What a poll needs, copied out of the ORM row so no session crosses the network wait."""

    id: int
    address: str
    host: str
    port: int
    security: str
    user: str
    password: str
    folder: str
    after_fetch: str
    move_to: str
    uidvalidity: int | None
    last_uid: int

    @classmethod
    def of(cls, box: Mailbox) -> MailboxConfig:
        return cls(
            int(box.id),
            box.address,
            box.imap_host,
            box.imap_port,
            box.imap_security,
            box.imap_user,
            box.imap_password,
            box.folder or "INBOX",
            box.after_fetch,
            box.move_to,
            box.uidvalidity,
            box.last_uid or 0,
        )


def connect(cfg: MailboxConfig | Mailbox) -> IMAPClient:
    host, port, security = (
        (cfg.host, cfg.port, cfg.security)
        if isinstance(cfg, MailboxConfig)
        else (cfg.imap_host, cfg.imap_port, cfg.imap_security)
    )
    user, password = (
        (cfg.user, cfg.password) if isinstance(cfg, MailboxConfig) else (cfg.imap_user, cfg.imap_password)
    )
    context = ssl.create_default_context()
    client = IMAPClient(host, port=port, ssl=security == "ssl", ssl_context=context, timeout=TIMEOUT)
    try:
        if security == "starttls":
            client.starttls(context)
        client.login(user, password)
    except BaseException:
        _close(client)
        raise
    return client


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - the connection may already be gone
        try:
            client.shutdown()
        except Exception:  # noqa: BLE001
            pass


def describe_error(exc: BaseException, host: str = "", port: int = 0, folder: str = "") -> str:
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host name {host!r} (DNS): {exc.strerror or exc}"
    if isinstance(exc, ConnectionRefusedError):
        return f"{host}:{port} refused the connection (is the server running, is the port right?)"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"{host}:{port} did not answer within {TIMEOUT} seconds"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"the server's TLS certificate is not trusted: {exc.verify_message or exc}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc}); check the encryption setting (ssl, starttls, none) and the port"
    if isinstance(exc, LoginError):
        return "the server refused the login: user name or password wrong"
    if isinstance(exc, _MissingFolder):
        return f"the folder {folder!r} does not exist on the server"
    if isinstance(exc, OSError):
        return f"network error talking to {host}:{port}: {exc.strerror or exc}"
    if isinstance(exc, IMAPClientError):
        text = str(exc)
        if "STARTTLS" in text.upper():
            return "the server does not offer STARTTLS; choose ssl or none"
        return f"the IMAP server said: {text}"
    return f"{type(exc).__name__}: {exc}"


class _MissingFolder(Exception):
    pass


def test_connection(mailbox: Mailbox | MailboxConfig) -> str:
    """Connect, log in and open the folder; a sentence saying it worked or what went wrong."""
    cfg = mailbox if isinstance(mailbox, MailboxConfig) else MailboxConfig.of(mailbox)
    if not cfg.host:
        return "no IMAP host is set"
    try:
        client = connect(cfg)
    except Exception as exc:  # noqa: BLE001 - reported in words
        return "failed: " + describe_error(exc, cfg.host, cfg.port, cfg.folder)
    try:
        if not client.folder_exists(cfg.folder):
            return "failed: " + describe_error(_MissingFolder(), cfg.host, cfg.port, cfg.folder)
        status = client.folder_status(cfg.folder, [b"MESSAGES", b"UIDVALIDITY"])
        if cfg.after_fetch == "move" and cfg.move_to and not client.folder_exists(cfg.move_to):
            note = f"; the move-to folder {cfg.move_to!r} does not exist yet (it will be created)"
        else:
            note = ""
        return (
            f"ok: logged in to {cfg.host}:{cfg.port} as {cfg.user}; {cfg.folder} holds "
            f"{status.get(b'MESSAGES', 0)} messages{note}"
        )
    except Exception as exc:  # noqa: BLE001
        return "failed: " + describe_error(exc, cfg.host, cfg.port, cfg.folder)
    finally:
        _close(client)


def poll(engine: Engine, mailbox_id: int, *, attachments_dir: Path | None = None) -> dict[str, int]:
    """One poll of one mailbox: fetch what is new, ingest it, then do the after-fetch action."""
    with session_scope(engine, write=False) as s:
        box = s.get(Mailbox, mailbox_id)
        if box is None:
            return {}
        cfg = MailboxConfig.of(box)
    counts = {"fetched": 0, "server_done": 0}
    try:
        client = connect(cfg)
    except Exception as exc:  # noqa: BLE001
        _record_poll(engine, cfg.id, describe_error(exc, cfg.host, cfg.port, cfg.folder))
        raise
    try:
        info = client.select_folder(cfg.folder)
        uidvalidity = int(info[b"UIDVALIDITY"])
        last_uid = cfg.last_uid
        if cfg.uidvalidity != uidvalidity:
            # The server renumbered (or this is the first poll): everything is new to us by UID.
            last_uid = 0
            with session_scope(engine) as s:
                s.execute(
                    update(Mailbox).where(Mailbox.id == cfg.id).values(uidvalidity=uidvalidity, last_uid=0)
                )
        uids = sorted(u for u in client.search(["UID", f"{last_uid + 1}:*"]) if u > last_uid)
        for start in range(0, len(uids), FETCH_BATCH):
            batch = uids[start : start + FETCH_BATCH]
            fetched = client.fetch(batch, [b"BODY.PEEK[]"])
            for uid in batch:
                data = fetched.get(uid, {})
                raw = data.get(b"BODY[]")
                if raw is None:
                    continue  # expunged meanwhile by someone else
                ingest.ingest_raw(
                    engine,
                    raw,
                    mailbox_id=cfg.id,
                    uidvalidity=uidvalidity,
                    uid=uid,
                    attachments_dir=attachments_dir,
                )
                counts["fetched"] += 1
            counts["server_done"] += finish_server_actions(engine, client, cfg, uidvalidity)
        counts["server_done"] += finish_server_actions(engine, client, cfg, uidvalidity)
    except Exception as exc:
        _record_poll(engine, cfg.id, describe_error(exc, cfg.host, cfg.port, cfg.folder))
        raise
    finally:
        _close(client)
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
    uids = [int(uid) for _, uid in rows]
    if cfg.after_fetch == "delete":
        client.delete_messages(uids)
        client.expunge(uids) if client.has_capability("UIDPLUS") else client.expunge()
    elif cfg.after_fetch == "move" and cfg.move_to:
        if not client.folder_exists(cfg.move_to):
            client.create_folder(cfg.move_to)
        if client.has_capability("MOVE"):
            client.move(uids, cfg.move_to)
        else:
            client.copy(uids, cfg.move_to)
            client.delete_messages(uids)
            client.expunge(uids) if client.has_capability("UIDPLUS") else client.expunge()
    else:
        client.add_flags(uids, [SEEN])
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
