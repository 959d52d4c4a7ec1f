"""IMAP with imapclient: connecting, describing failures in words, fetching by UID, after-fetch actions.

Messages are fetched with BODY.PEEK[] (so the \\Seen flag neither hides mail from us nor gets set
early). The poll that journals them and decides when the after-fetch action may run is
services/inbound_fetch.py's.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from tui_helpdesk.models import Mailbox

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
    except Exception:
        close(client)
        raise
    except BaseException:
        # Ctrl-C or SIGTERM: a polite LOGOUT would wait up to TIMEOUT on a server that stopped
        # answering, so the interrupted worker would hang instead of stopping; drop the socket.
        _drop(client)
        raise
    return client


def _drop(client: IMAPClient) -> None:
    try:
        client.shutdown()
    except Exception:  # noqa: BLE001 - the connection may already be gone
        pass


def close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - the connection may already be gone
        _drop(client)


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
        close(client)


def select_folder(client: IMAPClient, folder: str) -> int:
    """Open the folder; returns its UIDVALIDITY."""
    info = client.select_folder(folder)
    return int(info[b"UIDVALIDITY"])


def uids_after(client: IMAPClient, last_uid: int) -> list[int]:
    # "N:*" always matches the highest UID, even when it is below N: filter again
    return sorted(u for u in client.search(["UID", f"{last_uid + 1}:*"]) if u > last_uid)


def fetch_raw(client: IMAPClient, uids: list[int]) -> Iterator[tuple[int, bytes]]:
    """(uid, raw bytes) for each UID still on the server; ones expunged meanwhile are skipped."""
    fetched = client.fetch(uids, [b"BODY.PEEK[]"])
    for uid in uids:
        raw = fetched.get(uid, {}).get(b"BODY[]")
        if raw is not None:
            yield uid, raw


def after_fetch(client: IMAPClient, cfg: MailboxConfig, uids: list[int]) -> None:
    """The mailbox's after-fetch action on these UIDs: mark seen, move, or delete."""
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
