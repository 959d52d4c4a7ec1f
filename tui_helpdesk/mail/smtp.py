"""Sending the outbox with smtplib: building the wire message, connecting, retrying with backoff.

Network work happens outside any database transaction (SQLite's write lock is never held across a
slow server); each message's result is then recorded in a short transaction of its own. Delivery is
at least once: a crash between the server's "250" and our commit resends that one message.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from sqlalchemy import Engine, select

from tui_helpdesk import clock
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Mailbox, OutboundMessage, Ticket
from tui_helpdesk.services import settings

MAX_ATTEMPTS = 6
BASE_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=2)
BATCH = 50
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


def config_for(session, mailbox_id: int | None) -> SmtpConfig | None:
    """The mailbox's own SMTP server, else the global one from settings; None when neither is set."""
    box = session.get(Mailbox, mailbox_id) if mailbox_id else None
    if box is not None and box.smtp_host:
        return SmtpConfig(box.smtp_host, box.smtp_port, box.smtp_security, box.smtp_user, box.smtp_password)
    host = settings.get(session, "smtp_host")
    if not host:
        return None
    return SmtpConfig(
        str(host),
        int(settings.get(session, "smtp_port")),
        str(settings.get(session, "smtp_security")),
        str(settings.get(session, "smtp_user")),
        str(settings.get(session, "smtp_password")),
    )


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


def backoff(attempts: int) -> timedelta:
    return min(BASE_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)


def send_due(engine: Engine, limit: int = BATCH) -> dict[str, int]:
    """Send queued messages whose time has come; returns counts of sent, retried and failed."""
    now = clock.now()
    with session_scope(engine, write=False) as s:
        rows = (
            s.execute(
                select(OutboundMessage)
                .where(OutboundMessage.state == "queued", OutboundMessage.next_attempt_at <= now)
                .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id)
                .limit(limit)
            )
            .scalars()
            .all()
        )
        jobs = [(row, config_for(s, row.mailbox_id)) for row in rows]
    counts = {"sent": 0, "retry": 0, "failed": 0}
    connections: dict[tuple, smtplib.SMTP] = {}
    try:
        for row, cfg in jobs:
            error = _send_one(row, cfg, connections)
            counts[_record(engine, row.id, error)] += 1
    finally:
        for conn in connections.values():
            try:
                conn.quit()
            except Exception:  # noqa: BLE001 - the server may already have gone
                conn.close()
    return counts


def _send_one(row: OutboundMessage, cfg: SmtpConfig | None, connections: dict) -> str | None:
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


def _record(engine: Engine, row_id: int, error: str | None) -> str:
    from tui_helpdesk.services.context import Actor, event, transaction

    with transaction(engine, Actor.system("worker")) as tx:
        row = tx.session.get(OutboundMessage, row_id)
        if row is None or row.state != "queued":
            return "sent" if error is None else "retry"
        row.attempts += 1
        if error is None:
            row.state = "sent"
            row.sent_at = tx.now
            row.last_error = ""
            outcome = "sent"
        else:
            row.last_error = error
            permanent = error.startswith("permanent:")
            if permanent or row.attempts >= MAX_ATTEMPTS:
                row.state = "failed"
                outcome = "failed"
                ticket = tx.session.get(Ticket, row.ticket_id) if row.ticket_id else None
                if ticket is not None:
                    # shown in the ticket's thread so the agent knows the customer never got it
                    event(
                        tx,
                        ticket,
                        "mail_failed",
                        outbound_id=row.id,
                        kind=row.kind,
                        to=list(row.to_addrs or []),
                        error=error,
                    )
            else:
                row.next_attempt_at = tx.now + backoff(row.attempts)
                outcome = "retry"
        tx.session.add(row)
        tx.changed = True
    return outcome
