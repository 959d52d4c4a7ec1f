"""A small help desk with one mailbox, and helpers to write and ingest mail."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import format_datetime, make_msgid
from pathlib import Path

from sqlalchemy import Engine, func, select

from tui_helpdesk import clock
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Agent, Department, Mailbox, OutboundMessage, Role, Ticket, TicketEntry
from tui_helpdesk.services import inbound, settings, setup
from tui_helpdesk.services.context import Actor, resolve_actor, transaction

SUPPORT = "support@helpdesk.test"


def message(
    sender: str = "carol@customer.test",
    subject: str = "Printer on fire",
    body: str = "It is burning.\n",
    *,
    to: str = SUPPORT,
    cc: str | None = None,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    lines = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Date: {format_datetime(clock.now())}",
        f"Message-ID: {message_id or make_msgid(domain='customer.test')}",
    ]
    if cc:
        lines.append(f"Cc: {cc}")
    if in_reply_to:
        lines.append(f"In-Reply-To: {in_reply_to}")
    if references or in_reply_to:
        lines.append(f"References: {references or in_reply_to}")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", body]
    return "\r\n".join(lines).encode()


@dataclass
class MailDesk:
    engine: Engine
    admin: Actor
    agent: Actor
    mailbox_id: int
    attachments: Path

    def ingest(self, raw: bytes, **kw) -> inbound.IngestResult:
        kw.setdefault("mailbox_id", self.mailbox_id)
        return inbound.ingest_raw(self.engine, raw, attachments_dir=self.attachments, **kw)

    def tx(self, actor: Actor | None = None):
        return transaction(self.engine, actor or self.admin)

    def set(self, key: str, value) -> None:
        with session_scope(self.engine) as s:
            settings.put(s, key, value)

    def count(self, model, *where) -> int:
        with session_scope(self.engine, write=False) as s:
            return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()

    def tickets(self) -> int:
        return self.count(Ticket)

    def outbox(self, kind_prefix: str = "") -> list[OutboundMessage]:
        with session_scope(self.engine, write=False) as s:
            q = select(OutboundMessage).order_by(OutboundMessage.id)
            if kind_prefix:
                q = q.where(OutboundMessage.kind.like(f"{kind_prefix}%"))
            return list(s.execute(q).scalars())

    def entries(self, ticket_id: int) -> list[TicketEntry]:
        with session_scope(self.engine, write=False) as s:
            return list(
                s.execute(
                    select(TicketEntry).where(TicketEntry.ticket_id == ticket_id).order_by(TicketEntry.id)
                ).scalars()
            )

    def ticket(self, ticket_id: int) -> Ticket:
        with session_scope(self.engine, write=False) as s:
            return s.get(Ticket, ticket_id)

    def raw(self, journal_id: int) -> bytes:
        """A journal row's bytes, as the ingest reads them."""
        with self.engine.connect() as conn:
            return inbound.read_raw(conn, journal_id)


def build_desk(engine: Engine, tmp_path: Path, *, smtp: tuple[str, int] | None = None) -> MailDesk:
    clock.set_now("2026-03-02T09:00:00Z")
    with session_scope(engine) as s:
        setup.create_first_admin(s, "root", "Root Admin", "root@helpdesk.test")
        support = s.execute(select(Department).where(Department.name == "Support")).scalar_one()
        role = s.execute(select(Role).where(Role.name == "Agent")).scalar_one()
        s.add(
            Agent(
                username="sam",
                name="Sam Agent",
                email="sam@helpdesk.test",
                primary_department_id=support.id,
                role_id=role.id,
            )
        )
        box = Mailbox(
            address=SUPPORT,
            department_id=support.id,
            imap_host="",
            smtp_host=smtp[0] if smtp else "",
            smtp_port=smtp[1] if smtp else 25,
            smtp_security="none",
        )
        s.add(box)
        s.flush()
        box_id = box.id
    with session_scope(engine) as s:
        return MailDesk(
            engine,
            resolve_actor(s, "root", "cli"),
            resolve_actor(s, "sam", "cli"),
            box_id,
            tmp_path / "attachments",
        )
