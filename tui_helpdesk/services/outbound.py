"""The outbox: queueing outgoing mail in the caller's transaction, and sending it with retries.

Queueing happens inside the ticket change that causes it, so a reply is either stored and queued or
neither. Sending (``send_due``) runs in the worker: network work happens outside any database
transaction (SQLite's write lock is never held across a slow server); each message's result is then
recorded in a short transaction of its own. Delivery is at least once: a crash between the server's
"250" and our commit resends that one message. The wire format and the SMTP conversation are
mail/smtp.py's; the signed ids and tokens are mail/threading.py's, keyed by the ``mail_secret``
setting, made on first use.
"""

from __future__ import annotations

import functools
import re
import secrets
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, insert, or_, select
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session

from tui_helpdesk import batch_cache, clock
from tui_helpdesk.db import session_scope
from tui_helpdesk.mail import smtp, templates
from tui_helpdesk.mail import threading as keys
from tui_helpdesk.models import (
    Agent,
    Collaborator,
    Contact,
    CustomField,
    Department,
    DepartmentAccess,
    Mailbox,
    OutboundMessage,
    Priority,
    Status,
    TeamMember,
    Ticket,
    TicketEntry,
)
from tui_helpdesk.untrusted import clean_line

from . import custom_fields, settings
from .context import Actor, Tx, event, transaction

SYNTHETIC_SUFFIX = keys.SYNTHETIC_SUFFIX
AUTORESPONSE_KINDS = ("autoresponse.new_ticket", "autoresponse.new_message")
# Alert kinds with the setting that switches them off; kinds not listed are always sent.
ALERT_SETTING = {
    "new_ticket": "alert_new_ticket",
    "new_message": "alert_new_message",
    "assignment": "alert_assignment",
    "transfer": "alert_transfer",
    "overdue": "alert_overdue",
    "reopened": "alert_new_message",
}
MAX_REFERENCES = 12
MAX_ATTEMPTS = 6
BASE_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=2)
BATCH = 50


# --- signing ---------------------------------------------------------------------------------------


def _secret(session: Session) -> bytes:
    value = settings.get(session, "mail_secret")
    if not value:
        value = secrets.token_hex(32)
        settings.put(session, "mail_secret", value)
        session.flush()
    return str(value).encode()


def make_message_id(session: Session, ticket_id: int, from_addr: str) -> str:
    return keys.make_message_id(_secret(session), ticket_id, from_addr)


def ticket_from_message_id(session: Session, message_id: str | None) -> int | None:
    """The ticket id a Message-ID of ours names, if its signature holds."""
    return keys.ticket_from_message_id(_secret(session), message_id)


def reply_token(session: Session, ticket_id: int) -> str:
    return keys.reply_token(_secret(session), ticket_id)


def ticket_from_token(session: Session, *texts: str | None) -> int | None:
    """The ticket named by a valid token found anywhere in the texts (quoted history included)."""
    return keys.ticket_from_token(_secret(session), *texts)


# --- addresses -----------------------------------------------------------------------------------


def our_addresses(session: Session) -> set[str]:
    """Every address we send from: mail from these is our own coming back, never a customer."""
    cached = session.info.get("helpdesk_our_addresses")
    if cached is not None:
        return cached
    _flush_pending(session, (Mailbox, Department))  # a Core read: this transaction's new addresses count
    found = {a.lower() for a in session.connection().execute(_our_addresses()).scalars() if a}
    default = settings.get(session, "default_from")
    if default:
        found.add(str(default).lower())
    session.info["helpdesk_our_addresses"] = found
    return found


@functools.cache
def _our_addresses() -> Any:
    return select(Mailbox.__table__.c.address).union_all(select(Department.__table__.c.email))


@functools.cache
def _active_mailboxes() -> Any:
    m = Mailbox.__table__.c
    return select(m.id, m.address, m.department_id).where(m.active.is_(True)).order_by(m.id)


def _flush_pending(session: Session, models: tuple[type, ...]) -> None:
    """Write what this transaction added or changed of these models before a Core read of their tables
    (the ORM's autoflush only runs before its own queries); nothing pending, no flush."""
    if any(isinstance(obj, models) for obj in session.new) or any(
        isinstance(obj, models) for obj in session.dirty
    ):
        session.flush()


def sender_for(session: Session, department_id: int | None) -> tuple[str, int | None]:
    """(From address, mailbox whose SMTP settings send it) for mail about a department's ticket."""
    dept = session.get(Department, department_id) if department_id else None
    return _sender(session, department_id, dept.email if dept is not None else None)


def _sender(session: Session, department_id: int | None, department_email: str | None) -> tuple[str, int | None]:
    """sender_for, the department's own address known (a reply has read it with the other names)."""

    def active() -> list[Any]:
        _flush_pending(session, (Mailbox,))
        return list(session.connection().execute(_active_mailboxes()))

    mailboxes = batch_cache.cached(session, "active_mailboxes", active)
    own = next((m for m in mailboxes if m.department_id == department_id), None)
    if department_email:
        match = next((m for m in mailboxes if m.address.lower() == department_email.lower()), None)
        via = match or own or (mailboxes[0] if mailboxes else None)
        return department_email, via.id if via else None
    if own is not None:
        return own.address, own.id
    if mailboxes:
        return mailboxes[0].address, mailboxes[0].id
    return str(settings.get(session, "default_from") or "helpdesk@localhost"), None


# --- queueing ------------------------------------------------------------------------------------


# What mail about a ticket names of the rows the ticket (and a reply's author) point at.
_NAMED: dict[str, tuple[type, tuple[str, ...]]] = {
    "contact": (Contact, ("name", "email")),
    "department": (Department, ("name", "signature", "email")),
    "status": (Status, ("name",)),
    "priority": (Priority, ("name",)),
    "assignee": (Agent, ("name",)),
    "author": (Agent, ("name", "signature")),
}


@dataclass(frozen=True)
class _Named:
    """A row's columns that mail names (_NAMED); None fields for a row that is not there."""

    name: str | None = None
    email: str | None = None
    signature: str | None = None


def _names(session: Session, ticket: Ticket, author_id: int | None = None) -> dict[str, _Named | None]:
    """The ticket's requester, department, status, priority and assignee (and the author's) as mail
    names them: from the session's own objects where it holds them (an ingest batch pins the small
    tables; they may carry this transaction's changes), the rest in one statement by primary key instead
    of an ORM load each (five of a reply's statements, a third of its CPU)."""
    ids = {"contact": ticket.contact_id, "department": ticket.department_id, "status": ticket.status_id,
           "priority": ticket.priority_id, "assignee": ticket.assignee_id, "author": author_id}  # fmt: skip
    found: dict[str, _Named | None] = {}
    missing: dict[str, int] = {}
    for role, ident in ids.items():
        model, columns = _NAMED[role]
        obj = session.identity_map.get(identity_key(model, ident)) if ident else None
        if obj is not None:
            found[role] = _Named(**{c: getattr(obj, c) for c in columns})
        elif ident:
            missing[role] = ident
        else:
            found[role] = None
    if missing:
        row = session.connection().execute(_names_statement(), {r: missing.get(r) for r in _NAMED}).one()
        for role in missing:
            values = {c: row._mapping[f"{role}_{c}"] for c in _NAMED[role][1]}
            found[role] = _Named(**values) if any(v is not None for v in values.values()) else None
    return found


@functools.cache
def _names_statement() -> Any:
    cells = []
    for role, (model, columns) in _NAMED.items():
        t = model.__table__.c
        cells += [select(t[c]).where(t.id == bindparam(role)).scalar_subquery().label(f"{role}_{c}") for c in columns]
    return select(*cells)


def _variables(
    session: Session,
    ticket: Ticket,
    *,
    whole_message: bool = False,
    names: dict[str, _Named | None] | None = None,
    **extra: Any,
) -> dict[str, object]:
    """The template variables for mail about a ticket. ``message`` is an excerpt unless this is the
    message itself (an agent's reply): alerts and notices quote a body, they never copy it whole."""
    names = names if names is not None else _names(session, ticket)
    contact, dept, status, prio, assignee = (names[r] for r in ("contact", "department", "status", "priority",
                                                                 "assignee"))  # fmt: skip
    values: dict[str, object] = {
        "ticket.id": ticket.id,
        "ticket.number": ticket.number,
        # the customer's read-only view: GET /api/public/tickets/%{ticket.number}?c=%{ticket.client_key}
        "ticket.client_key": ticket.client_key or "",
        "ticket.subject": ticket.subject,
        "ticket.status": status.name if status else "",
        "ticket.state": ticket.state,
        "ticket.priority": prio.name if prio else "",
        "ticket.department": dept.name if dept else "",
        "ticket.requester": (contact.name or contact.email) if contact else "",
        "ticket.requester_email": contact.email if contact else "",
        # who wrote the message an alert is about; the ingest names the real sender (issue 10)
        "sender": person_label(contact.name, contact.email or "") if contact else "",
        "ticket.due": ticket.due_at.strftime("%Y-%m-%d %H:%M UTC") if ticket.due_at else "",
        "ticket.assignee": assignee.name if assignee else "",
        "assignee": assignee.name if assignee else "",
        "helpdesk.name": settings.get(session, "helpdesk_name"),
        "message": "",
        "agent.name": "",
        "agent.signature": "",
        # seed 001: the resolution notes are the submitter's to read; the block is empty without notes
        "ticket.resolution": ticket.resolution_notes or "",
        "ticket.resolution_block": custom_fields.resolution_block(ticket.resolution_notes),
    }
    _flush_pending(session, (CustomField,))
    with session.no_autoflush:  # the field definitions' ORM read would write the whole pending change first
        custom = custom_fields.template_values(session, ticket.custom_fields)
    values.update({f"ticket.custom.{name}": value for name, value in custom.items()})
    values.update(extra)
    if not whole_message:
        values["message"] = templates.excerpt(str(values["message"] or ""))
    return values


def person_label(name: str | None, email: str) -> str:
    return f"{name} <{email}>" if name and name != email else email


def _thread_ids(session: Session, ticket: Ticket) -> tuple[str | None, list[str]]:
    """(In-Reply-To, References) so the customer's client files our mail under their thread.

    In-Reply-To is the customer's latest message; References lists the thread in time order, root
    first and that parent last, trimmed in the middle when long.
    """
    _flush_pending(session, (TicketEntry, OutboundMessage))  # Core reads: this transaction's mail counts
    conn = session.connection()
    customer = conn.execute(_customer_ids(), {"ticket_id": ticket.id}).all()
    ours = conn.execute(_our_ids(), {"ticket_id": ticket.id}).all()
    real = [(at, 0, i, mid) for mid, at, i in customer if mid and not mid.endswith(SYNTHETIC_SUFFIX)]
    mine = [(at, 1, i, mid) for mid, at, i in ours]
    in_reply_to = real[-1][3] if real else (mine[-1][3] if mine else None)
    refs = list(dict.fromkeys(mid for *_, mid in sorted(real + mine, key=lambda r: r[:3])))
    if len(refs) > MAX_REFERENCES:
        # Keep the thread's root, which clients use to find the conversation, and the newest ids.
        refs = refs[:1] + refs[-(MAX_REFERENCES - 1) :]
    if in_reply_to:
        # RFC 5322: References ends with the parent, the message In-Reply-To names
        refs = [r for r in refs if r != in_reply_to] + [in_reply_to]
    return in_reply_to, refs


@functools.cache
def _customer_ids() -> Any:
    # statements built once: a reply runs them, and building them cost more than running them
    e = TicketEntry.__table__.c
    return (
        select(e.message_id, e.created_at, e.id)
        .where(e.ticket_id == bindparam("ticket_id"), e.kind == "message", e.message_id.is_not(None))
        .order_by(e.id)
    )


@functools.cache
def _our_ids() -> Any:
    o = OutboundMessage.__table__.c
    return (
        select(o.message_id, o.created_at, o.id)
        .where(o.ticket_id == bindparam("ticket_id"), o.kind.not_like("alert.%"))
        .order_by(o.id)
    )


def queue(
    tx: Tx,
    *,
    ticket: Ticket | None,
    kind: str,
    to: Iterable[str],
    subject: str,
    body: str,
    cc: Iterable[str] = (),
    entry_id: int | None = None,
    in_reply_to: str | None = None,
    references: Iterable[str] = (),
    automatic: bool = True,
    sender: tuple[str, int | None] | None = None,
) -> OutboundMessage | None:
    """Put one message in the outbox. Returns None when there is nobody to send it to. ``sender``: the
    (From, mailbox id) when the caller knows it (sender_for's answer), else it is looked up."""
    values = _outbox_row(tx, ticket=ticket, kind=kind, to=to, subject=subject, body=body, cc=cc,
                         entry_id=entry_id, in_reply_to=in_reply_to, references=references, automatic=automatic,
                         sender=sender)
    if values is None:
        return None
    row = OutboundMessage(**values)
    # written by the transaction's next flush (the ingest's is the journal row's, at the message's end):
    # a flush of its own per queued message was a unit of work each; reads of the outbox flush first
    tx.session.add(row)
    tx.changed = True
    return row


def flush_queued(session: Session) -> None:
    """Write the outbox rows `queue` added, before a Core read of the outbox (the ORM's autoflush only
    runs before its own queries)."""
    if any(isinstance(obj, OutboundMessage) for obj in session.new):
        session.flush()


def _outbox_row(
    tx: Tx,
    *,
    ticket: Ticket | None,
    kind: str,
    to: Iterable[str],
    subject: str,
    body: str,
    cc: Iterable[str] = (),
    entry_id: int | None = None,
    in_reply_to: str | None = None,
    references: Iterable[str] = (),
    automatic: bool = True,
    sender: tuple[str, int | None] | None = None,
) -> dict[str, Any] | None:
    """The column values of the outbox row `queue` adds (alerts insert one per agent in one INSERT,
    without building a model object per agent: that cost more than the SQL)."""
    s = tx.session
    ours = our_addresses(s)
    to_list = list(dict.fromkeys(a.lower() for a in to if a and a.lower() not in ours))
    cc_list = [a for a in dict.fromkeys(a.lower() for a in cc if a) if a not in ours and a not in to_list]
    if not to_list and not cc_list:
        return None
    from_addr, mailbox_id = sender or sender_for(s, ticket.department_id if ticket else None)
    if ticket is not None and ticket.id is not None:
        message_id = make_message_id(s, ticket.id, from_addr)
        body = body.rstrip("\n") + "\n\n" + reply_token(s, ticket.id) + "\n"
    else:
        message_id = f"<hd.{secrets.token_hex(10)}@{from_addr.rpartition('@')[2] or 'localhost'}>"
    headers = {"X-Auto-Response-Suppress": "All"}
    if automatic:
        headers["Auto-Submitted"] = "auto-replied" if kind.startswith("autoresponse") else "auto-generated"
    if ticket is not None:
        headers["X-Helpdesk-Ticket"] = ticket.number
    refs = list(references)
    return dict(
        ticket_id=ticket.id if ticket else None,
        entry_id=entry_id,
        kind=kind,
        mailbox_id=mailbox_id,
        from_addr=from_addr,
        to_addrs=to_list,
        cc_addrs=cc_list,
        recipient=to_list[0] if len(to_list) == 1 and not cc_list else None,
        subject=clean_line(subject)[:500],
        body=body,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=" ".join(refs) if refs else None,
        headers=headers,
        state="queued",
        attempts=0,
        next_attempt_at=tx.now,
        last_error="",
        created_at=tx.now,
        sent_at=None,
    )


def _collaborators(session: Session, ticket: Ticket) -> list[str]:
    _flush_pending(session, (Collaborator, Contact))  # a Core read: a Cc added by this reply counts
    return [c for c in session.connection().execute(_collaborator_emails(), {"ticket_id": ticket.id}).scalars() if c]


@functools.cache
def _collaborator_emails() -> Any:
    c, k = Contact.__table__.c, Collaborator.__table__.c
    return select(c.email).join_from(Collaborator.__table__, Contact.__table__, c.id == k.contact_id).where(
        k.ticket_id == bindparam("ticket_id")).order_by(c.email)


def queue_reply(tx: Tx, ticket: Ticket, entry: TicketEntry) -> OutboundMessage | None:
    """An agent's public reply to the requester, with the collaborators on Cc."""
    s = tx.session
    names = _names(s, ticket, entry.agent_id)
    contact, agent, dept = names["contact"], names["author"], names["department"]
    if contact is None or not contact.email:
        return None
    cc = _collaborators(s, ticket)
    signature = (agent.signature if agent and agent.signature else "") or (dept.signature if dept else "") or ""
    variables = _variables(
        s,
        ticket,
        whole_message=True,
        names=names,
        message=entry.body,
        **{
            "agent.name": agent.name if agent else "",
            "agent.signature": signature,
            "recipient.name": contact.name or contact.email,
            "recipient.email": contact.email,
        },
    )
    rendered = templates.render(s, "reply", ticket.department_id, variables)
    in_reply_to, refs = _thread_ids(s, ticket)
    row = queue(
        tx,
        ticket=ticket,
        kind="reply",
        to=[contact.email],
        cc=cc,
        subject=keys.subject_with_number(rendered.subject, ticket.number),
        body=rendered.body,
        entry_id=entry.id,
        in_reply_to=in_reply_to,
        references=refs,
        automatic=False,
        sender=_sender(s, ticket.department_id, dept.email if dept is not None else None),
    )
    if row is not None and not entry.message_id:
        # Our own copy coming back (a Bcc to the mailbox, a list) is then seen as a duplicate.
        entry.message_id = row.message_id
        s.add(entry)
    return row


# What an alert needs of an agent. A department's agents are read as these columns, not as model objects:
# a new ticket alerts all of them (60 on the big desk), and loading the objects cost more than the SQL.
_RECIPIENT = (Agent.id, Agent.name, Agent.email, Agent.active)


def _department_agents(session: Session, department_id: int) -> list[Any]:
    def load() -> list[Any]:
        extended = select(DepartmentAccess.agent_id).where(DepartmentAccess.department_id == department_id)
        return list(session.execute(
            select(*_RECIPIENT)
            .where(Agent.active.is_(True), or_(Agent.primary_department_id == department_id, Agent.id.in_(extended)))
            .order_by(Agent.id)
        ))  # fmt: skip

    return batch_cache.cached(session, ("department_agents", department_id), load)


def _team_agents(session: Session, team_id: int) -> list[Any]:
    return list(
        session.execute(
            select(*_RECIPIENT)
            .join(TeamMember, TeamMember.agent_id == Agent.id)
            .where(TeamMember.team_id == team_id, Agent.active.is_(True))
            .order_by(Agent.id)
        )
    )


def _alert_recipients(
    session: Session, ticket: Ticket, kind: str, ctx: dict[str, Any]
) -> list[tuple[int, str, str, str]]:
    """Who hears of this change, as _addressable agents."""
    if kind == "new_ticket":
        return _department_recipients(session, ticket.department_id)
    if kind == "assignment":
        agent, team = ctx.get("agent"), ctx.get("team")
        if agent is not None:
            return _addressable(session, [agent])
        return _addressable(session, _team_agents(session, team.id)) if team is not None else []
    if kind == "transfer":
        dept = session.get(Department, ticket.department_id)
        manager = session.get(Agent, dept.manager_id) if dept and dept.manager_id else None
        return _addressable(session, [manager]) if manager else _department_recipients(session, ticket.department_id)
    # new_message, reopened, overdue and anything else: whoever works the ticket, else its department
    assignee = session.get(Agent, ticket.assignee_id) if ticket.assignee_id else None
    if assignee is not None:
        return _addressable(session, [assignee])
    if ticket.team_id:
        return _addressable(session, _team_agents(session, ticket.team_id))
    return _department_recipients(session, ticket.department_id)


def _department_recipients(session: Session, department_id: int) -> list[tuple[int, str, str, str]]:
    # the same for every message of an ingest batch: filtered once
    return batch_cache.cached(session, ("department_recipients", department_id),
                              lambda: _addressable(session, _department_agents(session, department_id)))  # fmt: skip


def queue_alert(tx: Tx, ticket: Ticket, kind: str, **ctx: Any) -> int:
    """Tell the agents who should know (per the alert_* settings); never the agent who acted. Returns how
    many alerts were queued (one per agent, a fan-out row counting each agent it names)."""
    s = tx.session
    switch = ALERT_SETTING.get(kind)
    if switch and not settings.get(s, switch):
        return 0
    agents = _alert_recipients(s, ticket, kind, ctx)
    # never the agent who acted, nor those who already had their share of alerts on this ticket (notify's
    # rate limit)
    quiet = {q.lower() for q in ctx.get("quiet", ())}
    if tx.actor.agent_id is not None or quiet:
        agents = [a for a in agents if a[0] != tx.actor.agent_id and a[1] not in quiet]
    team = ctx.get("team")
    extra = {
        "kind": kind.replace("_", " "),
        "message": ctx.get("message", ""),
        "assignee": getattr(ctx.get("agent"), "name", None) or getattr(team, "name", None) or "",
        **ctx.get("variables", {}),
    }
    queued = 0
    if agents:
        alert = _alert_text(tx, ticket, kind, extra)
        if alert is not None:
            # on the session's connection, not through the ORM's unit of work (one statement per row and
            # the model objects built back cost more than the SQL); the ticket has its id, so its row is
            # written, and nothing pending needs to go first
            addressed = [a[1:] for a in agents]
            if len(agents) >= FANOUT_MIN:
                _insert_rows(s.connection(), [_fanout_row(alert, addressed)])
            else:
                _insert_rows(s.connection(), _agent_rows(alert, addressed, _secret(s)))
            tx.changed = True
            queued = len(agents)
    if kind == "new_ticket":
        queued += len(_distribution(tx, ticket, extra))
    return queued


def _addressable(session: Session, found: list[Any]) -> list[tuple[int, str, str, str]]:
    """(id, lower-cased email, name, email as written) of each active agent with an address that is not
    one we send from, once each, in order."""
    ours = our_addresses(session)
    agents: dict[int, tuple[int, str, str, str]] = {}
    for a in found:
        if a and a.email and a.active and a.email.lower() not in ours:
            agents.setdefault(a.id, (a.id, a.email.lower(), str(a.name or ""), str(a.email)))
    return list(agents.values())


# An alert to this many agents or more is queued as one "fanout" row, split into one row per agent by
# the sender (expand_fanouts): a new ticket's 60 rows written by the ingest, each with five indexes,
# were a fifth of its CPU a message. Fewer are written at once, as cheap as the one row.
FANOUT_MIN = 8
FANOUT_BATCH = 20  # fan-out rows split per expand_fanouts transaction (20 x 60 agents: 1,200 rows)


@dataclass(frozen=True)
class _AlertText:
    """One alert's text, filled once for every agent: ``marks`` stand where each agent's name and
    address go (string replacement, not a template pass per agent)."""

    shared: dict[str, Any]  # the outbox row's columns that every agent's row has
    subject: str
    body: str
    marks: dict[str, str]
    token: str  # the signed reference every agent's body ends with ("" without a ticket)


def _alert_text(tx: Tx, ticket: Ticket, kind: str, extra: dict[str, Any]) -> _AlertText | None:
    s = tx.session
    # no control character: a fan-out row stores the text with its marks (PostgreSQL's text has no NUL)
    marks = {key: f"{{{{{key}:{secrets.token_hex(8)}}}}}" for key in ("recipient.name", "recipient.email")}
    base = _variables(s, ticket, **extra)
    rendered = templates.fill(*templates.source(s, f"alert.{kind}", ticket.department_id), {**base, **marks})
    sender = sender_for(s, ticket.department_id)
    shared = _outbox_row(tx, ticket=ticket, kind=f"alert.{kind}", to=["-"], subject="", body="", sender=sender)
    if shared is None:
        return None
    return _AlertText(shared, rendered.subject, rendered.body, marks, _token_line(_secret(s), ticket.id))


def _token_line(secret: bytes, ticket_id: int | None) -> str:
    return "\n\n" + keys.reply_token(secret, ticket_id) + "\n" if ticket_id is not None else ""


def _fanout_row(alert: _AlertText, agents: list[tuple[str, str, str]]) -> dict[str, Any]:
    """The one outbox row of an alert to many agents. Its own Message-ID is never sent (each agent's row
    gets one when it is split), and the per-ticket alert limit counts every agent it lists."""
    return {
        **alert.shared,
        "state": "fanout",
        "to_addrs": [email for email, _name, _address in agents],
        "recipient": None,
        "subject": clean_line(" ".join(_personal(alert.subject, alert.marks, "", "").split()))[:500],
        "body": alert.body,
        "fanout": {"agents": [[address, name] for _email, name, address in agents], "subject": alert.subject,
                   "marks": alert.marks},
    }


def _personal(text: str, marks: dict[str, str], name: str, address: str) -> str:
    return text.replace(marks["recipient.name"], name).replace(marks["recipient.email"], address)


def _agent_rows(alert: _AlertText, agents: list[tuple[str, str, str]], secret: bytes) -> list[dict[str, Any]]:
    """Every agent's outbox row of one alert: (lower-cased email, name, address as written) each."""
    shared = {**alert.shared, "state": "queued"}
    body, token, marks = alert.body, alert.token, alert.marks
    # a subject that names no recipient (the usual one) is the same line for every agent: cleaned once
    personal = any(mark in alert.subject for mark in marks.values())
    common = None if personal else clean_line(" ".join(alert.subject.split()))[:500]
    ticket_id, from_addr = shared["ticket_id"], shared["from_addr"]
    rows: list[dict[str, Any]] = []
    for email, name, address in agents:
        text = _personal(body, marks, name, address).strip() + "\n"
        row = {
            **shared,
            "to_addrs": [email],
            "recipient": email,
            "subject": common if common is not None else clean_line(
                " ".join(_personal(alert.subject, marks, name, address).split()))[:500],
            "body": text.rstrip("\n") + token if token else text,
        }
        if ticket_id is not None:
            row["message_id"] = keys.make_message_id(secret, ticket_id, from_addr)
        else:
            host = from_addr.rpartition("@")[2] or "localhost"
            row["message_id"] = f"<hd.{secrets.token_hex(10)}@{host}>"
        rows.append(row)
    return rows


def expand_fanouts(engine: Engine, limit: int = FANOUT_BATCH) -> int:
    """Split queued fan-out alerts into one queued row per agent, each then sent, retried and failed on
    its own (one agent's failed send never resends to the others). Each row is split once: it is deleted
    in the transaction that writes its agents' rows, and a row someone else deleted first is skipped.
    Returns how many agent rows were queued."""
    c = OutboundMessage.__table__.c
    made = 0
    with session_scope(engine) as s:
        conn = s.connection()
        rows = conn.execute(
            select(OutboundMessage.__table__).where(c.state == "fanout").order_by(c.next_attempt_at, c.id).limit(limit)
        ).mappings().all()
        if not rows:
            return 0
        secret = _secret(s)
        for row in rows:
            gone = conn.execute(
                OutboundMessage.__table__.delete().where(c.id == row["id"], c.state == "fanout")
            ).rowcount
            if gone != 1:
                continue
            spec = row["fanout"] or {}
            shared = {k: v for k, v in row.items() if k not in ("id", "fanout")}
            marks = spec.get("marks") or {"recipient.name": "", "recipient.email": ""}
            alert = _AlertText(shared, spec.get("subject", row["subject"]), row["body"], marks,
                               _token_line(secret, row["ticket_id"]))  # fmt: skip
            agents = [(str(address).lower(), str(name), str(address)) for address, name in spec.get("agents", [])]
            values = _agent_rows(alert, agents, secret)
            if values:
                _insert_rows(conn, values)
                made += len(values)
    return made


# What differs between the agents' rows of one alert (_agent_rows); every other column is the same.
_PER_AGENT = ("to_addrs", "recipient", "subject", "body", "message_id")


def _insert_rows(conn: Any, rows: list[dict[str, Any]]) -> None:
    """One INSERT of an alert's rows, with each value converted for the driver by its column's own
    conversion (a JSON column's, a timestamp's), the shared ones once instead of once a row, and the
    rows handed to the driver's executemany as they are: for 60 rows, converting every value of every
    row and building each row's parameters took twice as long as the INSERT itself."""
    sql, names, positional, converters = _alert_insert_sql(conn.dialect, tuple(rows[0]))
    personal = _PER_AGENT + (("fanout",) if "fanout" in rows[0] else ())
    first = rows[0]
    shared = {}
    for name in names:
        if name not in personal:
            convert, value = converters[name], first[name]
            shared[name] = convert(value) if convert is not None else value
    own = [(name, converters[name]) for name in personal]
    params = []
    for row in rows:
        values = {**shared, **{n: c(row[n]) if c is not None else row[n] for n, c in own}}
        params.append(tuple(values[n] for n in names) if positional else values)
    conn.exec_driver_sql(sql, params)


@functools.cache
def _alert_insert_sql(dialect: Any, keys: tuple[str, ...]) -> tuple[str, tuple[str, ...], bool, dict[str, Any]]:
    """(the INSERT of these columns in the driver's own parameter style, the columns in parameter
    order, whether the parameters are positional, each column's conversion for the driver or None)."""
    columns = OutboundMessage.__table__.c
    names = tuple(c.name for c in columns if c.name in keys)
    compiled = insert(OutboundMessage.__table__).compile(dialect=dialect, column_keys=list(names))
    order = tuple(compiled.positiontup) if compiled.positional else names
    # what a typed INSERT applies to each value
    converters = {name: columns[name].type._cached_bind_processor(dialect) for name in keys}
    return compiled.string, order, bool(compiled.positional), converters


def _distribution(tx: Tx, ticket: Ticket, extra: dict[str, Any]) -> list[OutboundMessage]:
    raw = str(settings.get(tx.session, "new_ticket_distribution") or "")
    addresses = [a.strip().lower() for a in re.split(r"[,;\s]+", raw) if "@" in a]
    if not addresses:
        return []
    variables = _variables(tx.session, ticket, **extra, **{"recipient.name": "team"})
    rendered = templates.render(tx.session, "alert.new_ticket", ticket.department_id, variables)
    row = queue(
        tx,
        ticket=ticket,
        kind="alert.distribution",
        to=addresses,
        subject=rendered.subject,
        body=rendered.body,
    )
    return [row] if row else []


def queue_client_notice(tx: Tx, ticket: Ticket, kind: str, **ctx: Any) -> OutboundMessage | None:
    """A notice to the requester: "created", "closed", "chaser", "refused" (per settings where one exists)."""
    s = tx.session
    if kind == "created" and not settings.get(s, "notify_client_on_create"):
        return None
    if kind == "closed" and not settings.get(s, "notify_client_on_close"):
        return None
    contact = ctx.get("contact") or (s.get(Contact, ticket.contact_id) if ticket.contact_id else None)
    if contact is None:
        return None
    variables = _variables(
        s,
        ticket,
        message=ctx.get("message", ""),
        **{"recipient.name": contact.name or contact.email, "recipient.email": contact.email},
    )
    rendered = templates.render(s, f"notice.{kind}", ticket.department_id, variables)
    in_reply_to, refs = _thread_ids(s, ticket)
    if ctx.get("in_reply_to"):
        in_reply_to = ctx["in_reply_to"]
        refs = [*refs, in_reply_to]
    return queue(
        tx,
        ticket=ticket,
        kind=f"notice.{kind}",
        to=[contact.email],
        subject=keys.subject_with_number(rendered.subject, ticket.number),
        body=rendered.body,
        in_reply_to=in_reply_to,
        references=refs,
    )


def autoresponses_sent_recently(session: Session, address: str, now) -> int:
    """How many autoresponses went to this address in the hour before ``now``: one range of
    ix_outbound_recipient_created, whatever the desk's volume of mail (0024)."""
    flush_queued(session)  # a Core read: this transaction's autoresponses count too
    found = session.connection().execute(
        _recent_autoresponses(), {"address": address.lower(), "since": now - timedelta(hours=1)}
    ).scalar()
    return int(found or 0)


@functools.cache
def _recent_autoresponses() -> Any:
    # built once: every new ticket and message asks, and building the SELECT cost more than running it
    from sqlalchemy import func

    c = OutboundMessage.__table__.c
    return select(func.count()).where(
        c.recipient == bindparam("address"), c.created_at >= bindparam("since"), c.kind.in_(AUTORESPONSE_KINDS)
    )


def queue_autoresponse(
    tx: Tx, ticket: Ticket, contact: Contact, kind: str, message: str = "", in_reply_to: str | None = None
) -> OutboundMessage | None:
    """The autoresponse on a new ticket ("new_ticket") or a new message ("new_message").

    Off per settings, and rate-limited per sender, so two robots can never keep each other busy.
    """
    s = tx.session
    if not settings.get(s, f"autoresponse_{kind}"):
        return None
    limit = int(settings.get(s, "autoresponse_rate_limit_per_hour"))
    if limit and autoresponses_sent_recently(s, contact.email, tx.now) >= limit:
        return None
    variables = _variables(
        s,
        ticket,
        message=message,
        **{"recipient.name": contact.name or contact.email, "recipient.email": contact.email},
    )
    rendered = templates.render(s, f"autoresponse.{kind}", ticket.department_id, variables)
    refs = [in_reply_to] if in_reply_to and not in_reply_to.endswith(SYNTHETIC_SUFFIX) else []
    return queue(
        tx,
        ticket=ticket,
        kind=f"autoresponse.{kind}",
        to=[contact.email],
        subject=keys.subject_with_number(rendered.subject, ticket.number),
        body=rendered.body,
        in_reply_to=refs[0] if refs else None,
        references=refs,
    )


# --- sending -------------------------------------------------------------------------------------


def config_for(session: Session, mailbox_id: int | None) -> smtp.SmtpConfig | None:
    """The mailbox's own SMTP server, else the global one from settings; None when neither is set."""
    box = session.get(Mailbox, mailbox_id) if mailbox_id else None
    if box is not None and box.smtp_host:
        return smtp.SmtpConfig(box.smtp_host, box.smtp_port, box.smtp_security, box.smtp_user, box.smtp_password)
    host = settings.get(session, "smtp_host")
    if not host:
        return None
    return smtp.SmtpConfig(
        str(host),
        int(settings.get(session, "smtp_port")),
        str(settings.get(session, "smtp_security")),
        str(settings.get(session, "smtp_user")),
        str(settings.get(session, "smtp_password")),
    )


def backoff(attempts: int) -> timedelta:
    return min(BASE_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)


def send_due(engine: Engine, limit: int = BATCH) -> dict[str, int]:
    """Send queued messages whose time has come; returns counts of sent, retried and failed."""
    expand_fanouts(engine)  # a department's alerts become one row per agent before any of them is sent
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
            error = smtp.send_one(row, cfg, connections)
            counts[_record(engine, row.id, error)] += 1
    finally:
        for conn in connections.values():
            try:
                conn.quit()
            except Exception:  # noqa: BLE001 - the server may already have gone
                conn.close()
    return counts


def _record(engine: Engine, row_id: int, error: str | None) -> str:
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
