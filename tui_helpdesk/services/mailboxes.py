"""Admin use cases for mail: mailboxes, the quarantine, the outbox. Plain rows out, never ORM objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from tui_helpdesk.models import (
    Department,
    HelpTopic,
    InboundMessage,
    Mailbox,
    OutboundMessage,
    Priority,
    Ticket,
)
from tui_helpdesk.untrusted import clean_line

from . import lookup
from .context import Actor, Tx, audit, reading, require_admin, transaction
from .errors import Conflict, NotFound, ValidationError
from .inbound_journal import read_raw, read_raw_head

SECURITY = ("ssl", "starttls", "none")
AFTER_FETCH = ("seen", "move", "delete")
EDITABLE = (
    "address", "name", "department", "priority", "topic", "imap_host", "imap_port", "imap_security", "imap_user",
    "imap_password", "folder", "poll_seconds", "after_fetch", "move_to", "smtp_host", "smtp_port",
    "smtp_security", "smtp_user", "smtp_password", "active",
)  # fmt: skip


@dataclass(frozen=True)
class MailboxInfo:
    id: int
    address: str
    name: str
    department: str
    priority: str
    topic: str
    imap_host: str
    imap_port: int
    imap_security: str
    imap_user: str
    folder: str
    poll_seconds: int
    after_fetch: str
    move_to: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_user: str
    active: bool
    uidvalidity: int | None
    last_uid: int
    last_polled_at: datetime | None
    last_error: str


@dataclass(frozen=True)
class JournalInfo:
    id: int
    received_at: datetime
    mailbox: str
    message_id: str
    sender: str
    subject: str
    state: str
    outcome: str
    reason: str
    attempts: int
    ticket: str
    size: int
    deliveries: int = 1  # the same bytes delivered again while quarantined count on the one row


@dataclass(frozen=True)
class OutboxInfo:
    id: int
    ticket: str
    kind: str
    to: tuple[str, ...]
    subject: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str
    created_at: datetime
    sent_at: datetime | None


def _name(tx: Tx, model: Any, ident: int | None) -> str:
    row = tx.session.get(model, ident) if ident else None
    return row.name if row is not None else ""


def _info(tx: Tx, box: Mailbox) -> MailboxInfo:
    return MailboxInfo(
        id=int(box.id),
        address=box.address,
        name=box.name,
        department=_name(tx, Department, box.department_id),
        priority=_name(tx, Priority, box.priority_id),
        topic=_name(tx, HelpTopic, box.topic_id),
        imap_host=box.imap_host,
        imap_port=box.imap_port,
        imap_security=box.imap_security,
        imap_user=box.imap_user,
        folder=box.folder,
        poll_seconds=box.poll_seconds,
        after_fetch=box.after_fetch,
        move_to=box.move_to,
        smtp_host=box.smtp_host,
        smtp_port=box.smtp_port,
        smtp_security=box.smtp_security,
        smtp_user=box.smtp_user,
        active=box.active,
        uidvalidity=box.uidvalidity,
        last_uid=box.last_uid,
        last_polled_at=box.last_polled_at,
        last_error=box.last_error,
    )


def _row(tx: Tx, ref: str | int) -> Mailbox:
    text = str(ref).strip()
    row = tx.session.get(Mailbox, int(text)) if text.isdigit() else None
    if row is None:
        row = (
            tx.session.execute(select(Mailbox).where(func.lower(Mailbox.address) == text.lower()))
            .scalars()
            .first()
        )
    if row is None:
        raise NotFound(f"no mailbox {ref}")
    return row


def _apply(tx: Tx, box: Mailbox, fields: dict[str, Any]) -> None:
    s = tx.session
    for key, value in fields.items():
        if key not in EDITABLE:
            raise ValidationError(key, f"not a mailbox field (fields: {', '.join(EDITABLE)})")
        if value is None:
            continue
        if "password" in key and value == "" and box.id is not None:
            # a password is write-only: a form shows it empty, so an empty value on an edit keeps it
            continue
        if key == "address":
            value = lookup.normalise_email(str(value))
            clash = s.execute(
                select(Mailbox.id).where(Mailbox.address == value, Mailbox.id != box.id)
            ).first()
            if clash:
                raise Conflict(f"a mailbox for {value} exists already")
            box.address = value
        elif key == "department":
            box.department_id = lookup.department(s, value).id if value != "" else None
        elif key == "priority":
            box.priority_id = lookup.priority(s, value).id if value != "" else None
        elif key == "topic":
            box.topic_id = lookup.topic(s, value).id if value != "" else None
        elif key in ("imap_security", "smtp_security"):
            if value not in SECURITY:
                raise ValidationError(key, f"must be one of {', '.join(SECURITY)}")
            setattr(box, key, value)
        elif key == "after_fetch":
            if value not in AFTER_FETCH:
                raise ValidationError(key, f"must be one of {', '.join(AFTER_FETCH)}")
            box.after_fetch = value
        elif key in ("imap_port", "smtp_port", "poll_seconds"):
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise ValidationError(key, f"expected a number, got {value!r}") from None
            if number < (1 if key != "poll_seconds" else 0) or (key != "poll_seconds" and number > 65535):
                raise ValidationError(key, f"{number} is out of range")
            setattr(box, key, number)
        elif key == "active":
            box.active = (
                value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
            )
        else:
            setattr(box, key, str(value).strip() if "password" not in key else str(value))
    if box.after_fetch == "move" and not box.move_to:
        raise ValidationError("move_to", "name the folder to move fetched mail to")


def add(tx: Tx, address: str, **fields: Any) -> MailboxInfo:
    require_admin(tx)
    box = Mailbox(address="")
    _apply(tx, box, {"address": address, **fields})
    tx.session.add(box)
    tx.session.flush()
    audit(tx, "mailbox.add", "mailbox", box.id, address=box.address)
    return _info(tx, box)


def edit(tx: Tx, ref: str | int, **fields: Any) -> MailboxInfo:
    require_admin(tx)
    box = _row(tx, ref)
    _apply(tx, box, fields)
    tx.session.add(box)
    tx.session.flush()
    audit(tx, "mailbox.edit", "mailbox", box.id, fields=sorted(k for k, v in fields.items() if v is not None))
    return _info(tx, box)


def list_all(tx: Tx) -> list[MailboxInfo]:
    require_admin(tx)
    return [_info(tx, b) for b in tx.session.execute(select(Mailbox).order_by(Mailbox.id)).scalars()]


def get(tx: Tx, ref: str | int) -> MailboxInfo:
    require_admin(tx)
    return _info(tx, _row(tx, ref))


def delete(tx: Tx, ref: str | int) -> str:
    """Delete a mailbox; one with journal or outbox rows is deactivated instead (history keeps its name)."""
    require_admin(tx)
    box = _row(tx, ref)
    used = tx.session.execute(
        select(InboundMessage.id).where(InboundMessage.mailbox_id == box.id).limit(1)
    ).first()
    used = (
        used
        or tx.session.execute(
            select(OutboundMessage.id).where(OutboundMessage.mailbox_id == box.id).limit(1)
        ).first()
    )
    if used:
        box.active = False
        tx.session.add(box)
        audit(tx, "mailbox.deactivate", "mailbox", box.id, address=box.address)
        return "deactivated"
    tx.session.delete(box)
    audit(tx, "mailbox.delete", "mailbox", box.id, address=box.address)
    return "deleted"


def id_for_delivery(engine: Engine, address: str) -> int | None:
    """The mailbox an MTA pipe names (`ingest --mailbox`), or None to route by the recipients. The
    pipe runs as the mail system, not as a person, so it needs no actor."""
    from .inbound_journal import mailbox_id_for

    return mailbox_id_for(engine, address)


def test(engine: Engine, actor: Actor, ref: str | int) -> str:
    """Connect to the mailbox's IMAP server and say, in words, whether it works."""
    from tui_helpdesk.mail import imap

    with reading(engine, actor) as tx:
        require_admin(tx)
        cfg = imap.MailboxConfig.of(_row(tx, ref))
    return imap.test_connection(cfg)


# --- quarantine ----------------------------------------------------------------------------------------


def _sender_subject(raw: bytes) -> tuple[str, str]:
    from email.parser import BytesHeaderParser
    from email.policy import compat32

    try:
        h = BytesHeaderParser(policy=compat32).parsebytes(raw[:65536])
        return clean_line(str(h.get("from", "")))[:200], clean_line(str(h.get("subject", "")))[:200]
    except Exception:  # noqa: BLE001 - a listing must show broken mail too
        return "", ""


def _journal_info(tx: Tx, row: InboundMessage) -> JournalInfo:
    sender, subject = _sender_subject(read_raw_head(tx.session.connection(), int(row.id), 65536))
    box = tx.session.get(Mailbox, row.mailbox_id) if row.mailbox_id else None
    ticket = tx.session.get(Ticket, row.ticket_id) if row.ticket_id else None
    return JournalInfo(
        id=int(row.id),
        received_at=row.received_at,
        mailbox=box.address if box else "",
        message_id=clean_line(row.message_id or ""),
        sender=sender,
        subject=subject,
        state=row.state,
        outcome=row.outcome,
        reason=clean_line(row.reason),
        attempts=row.attempts,
        ticket=ticket.number if ticket else "",
        size=row.size,
        deliveries=row.deliveries,
    )


def journal(tx: Tx, state: str | None = "quarantined", limit: int = 100) -> list[JournalInfo]:
    """Journal rows (newest first), by default the quarantined ones."""
    require_admin(tx)
    q = select(InboundMessage).order_by(InboundMessage.id.desc()).limit(limit)
    if state:
        q = q.where(InboundMessage.state == state)
    return [_journal_info(tx, r) for r in tx.session.execute(q).scalars()]


def raw_message(tx: Tx, journal_id: int) -> bytes:
    require_admin(tx)
    row = tx.session.get(InboundMessage, journal_id)
    if row is None:
        raise NotFound(f"no journal row {journal_id}")
    return read_raw(tx.session.connection(), journal_id)


def retry_quarantined(engine: Engine, actor: Actor, journal_id: int):
    """Process a quarantined message again; returns the ingest result."""
    from tui_helpdesk.services import inbound as ingest

    with transaction(engine, actor) as tx:
        require_admin(tx)
        row = tx.session.get(InboundMessage, journal_id)
        if row is None:
            raise NotFound(f"no journal row {journal_id}")
        if row.state not in ("quarantined", "pending"):
            raise Conflict(f"journal row {journal_id} is {row.state}, not quarantined")
        audit(tx, "mail.retry", "inbound_message", journal_id)
    return ingest.retry(engine, journal_id)


# --- outbox ------------------------------------------------------------------------------------------


def _outbox_info(tx: Tx, row: OutboundMessage) -> OutboxInfo:
    ticket = tx.session.get(Ticket, row.ticket_id) if row.ticket_id else None
    return OutboxInfo(
        id=int(row.id),
        ticket=ticket.number if ticket else "",
        kind=row.kind,
        to=tuple(row.to_addrs or []) + tuple(row.cc_addrs or []),
        subject=row.subject,
        # a department's alert not split per agent yet is waiting to go out like any queued row: the split
        # is the sender's bookkeeping, not a state an admin acts on
        state="queued" if row.state == "fanout" else row.state,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )


def outbox(
    tx: Tx, state: str | None = None, ticket: str | int | None = None, limit: int = 100
) -> list[OutboxInfo]:
    """Outgoing mail, newest first; agents see a ticket's, admins everything."""
    q = select(OutboundMessage).order_by(OutboundMessage.id.desc()).limit(limit)
    if ticket is not None:
        from .context import require_access

        row = lookup.ticket(tx.session, ticket)
        require_access(tx, row)
        q = q.where(OutboundMessage.ticket_id == row.id)
    else:
        require_admin(tx)
    if state:
        q = q.where(OutboundMessage.state.in_(("queued", "fanout") if state == "queued" else (state,)))
    return [_outbox_info(tx, r) for r in tx.session.execute(q).scalars()]


def outbox_retry(tx: Tx, outbound_id: int) -> OutboxInfo:
    """Queue a failed (or waiting) message for sending now."""
    require_admin(tx)
    row = tx.session.get(OutboundMessage, outbound_id)
    if row is None:
        raise NotFound(f"no outgoing message {outbound_id}")
    if row.state == "sent":
        raise Conflict(f"message {outbound_id} was sent at {row.sent_at}")
    if row.state != "fanout":  # a department's alert not split per agent yet stays one: the sender splits it
        row.state = "queued"
        row.attempts = 0
    row.next_attempt_at = tx.now
    tx.session.add(row)
    audit(tx, "outbox.retry", "outbound_message", row.id)
    return _outbox_info(tx, row)
