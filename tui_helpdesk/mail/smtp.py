"""SMTP with smtplib: the wire message built from an outbox row, the connection, one delivery.

Which rows to send, when to retry and what to record is services/outbound.py's.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from tui_helpdesk.models import OutboundMessage

TIMEOUT = 30


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str  # ssl | starttls | none
    user: str = ""
    password: str = ""

    @property
    def key(self) -> tuple[str, int, str, str]:
        return (self.host, self.port, self.security, self.user)


def build(row: OutboundMessage) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr(("", row.from_addr)) if row.from_addr else "helpdesk@localhost"
    if row.to_addrs:
        msg["To"] = ", ".join(row.to_addrs)
    if row.cc_addrs:
        msg["Cc"] = ", ".join(row.cc_addrs)
    msg["Subject"] = row.subject
    msg["Date"] = format_datetime(row.created_at)
    msg["Message-ID"] = row.message_id
    if row.in_reply_to:
        msg["In-Reply-To"] = row.in_reply_to
    if row.references:
        msg["References"] = row.references
    for name, value in (row.headers or {}).items():
        msg[name] = str(value)
    msg.set_content(row.body or "")
    return msg


def connect(cfg: SmtpConfig) -> smtplib.SMTP:
    if cfg.security == "ssl":
        conn: smtplib.SMTP = smtplib.SMTP_SSL(
            cfg.host, cfg.port, timeout=TIMEOUT, context=ssl.create_default_context()
        )
    else:
        conn = smtplib.SMTP(cfg.host, cfg.port, timeout=TIMEOUT)
        if cfg.security == "starttls":
            conn.starttls(context=ssl.create_default_context())
    if cfg.user:
        conn.login(cfg.user, cfg.password)
    return conn


def describe_error(exc: BaseException) -> str:
    """What went wrong, in words an admin can act on."""
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the SMTP host ({exc})"
    if isinstance(exc, ConnectionRefusedError):
        return "the SMTP server refused the connection (is it running, is the port right?)"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "the SMTP server did not answer in time"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {exc}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "the SMTP server refused the login (user or password wrong)"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "every recipient was refused: " + "; ".join(
            f"{addr}: {code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for addr, (code, msg) in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        )
        return f"the SMTP server said {exc.smtp_code} {text}"
    return f"{type(exc).__name__}: {exc}"


def send_one(row: OutboundMessage, cfg: SmtpConfig | None, connections: dict) -> str | None:
    """Deliver one row, reusing a connection per server; None when sent, else the error in words."""
    if cfg is None:
        return "no SMTP server is configured (set one on the mailbox or the smtp_host setting)"
    recipients = list(row.to_addrs or []) + list(row.cc_addrs or [])
    try:
        message = build(row)
    except Exception as exc:  # noqa: BLE001 - a message we cannot build will never send: fail it
        return f"permanent: cannot build the message: {exc}"
    for attempt in range(2):
        conn = connections.get(cfg.key)
        try:
            if conn is None:
                conn = connect(cfg)
                connections[cfg.key] = conn
            conn.send_message(message, from_addr=row.from_addr, to_addrs=recipients)
            return None
        except smtplib.SMTPServerDisconnected as exc:
            connections.pop(cfg.key, None)
            if attempt:
                return describe_error(exc)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
            connections.pop(cfg.key, None)
            return describe_error(exc)
    return "the SMTP server disconnected"
