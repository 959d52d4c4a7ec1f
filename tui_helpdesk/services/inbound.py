"""Raw mail in, tickets out: the journal first, then one transaction that does the work.

Parsing, classifying and quote stripping are mail/'s; this module turns the result into tickets
and entries through the ticket services, and the alerts and autoresponses into outbox rows.

1. ``journal()`` stores the raw bytes in ``inbound_message`` and commits (for IMAP, in the same
   transaction that advances the mailbox's last UID). From here on nothing can be lost.
2. ``process()`` parses, threads and applies the change, and marks the journal row done in the same
   transaction. A crash before that commit leaves the row pending; ``process_pending()`` picks it up
   and, because the row's state is re-checked under a lock and Message-IDs are deduplicated, nothing
   is created twice.

Nothing here raises on bad input: a message that cannot be processed is quarantined with the reason
(its raw bytes stay) and can be retried once the cause is fixed.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, select, update
from sqlmodel import Session

from tui_helpdesk import batch_cache, clock
from tui_helpdesk.db import session_scope
from tui_helpdesk.mail import bounces, filters, templates
from tui_helpdesk.mail import classify as classify_module
from tui_helpdesk.mail import threading as mail_keys
from tui_helpdesk.mail.parse import ParsedMessage, normalize_msgid, parse_message
from tui_helpdesk.mail.quotes import strip_reply
from tui_helpdesk.models import (
    Attachment,
    Contact,
    Department,
    InboundMessage,
    Mailbox,
    OutboundMessage,
    Priority,
    Status,
    Ticket,
    TicketEntry,
)
from tui_helpdesk.untrusted import clean_line

from . import custom_fields, inbound_match, links, lookup, notify, outbound, settings, tickets
from .context import Actor, Tx, transaction
from .errors import ServiceError
from .inbound_journal import IngestResult, journal, journal_message_id, read_raw, read_raw_head
from .tickets import add_participant

log = logging.getLogger(__name__)

MAX_RECOVERY_ATTEMPTS = 5
NO_SUBJECT = "(no subject)"
NO_TEXT = "(no text)"
_TOKEN_LINE = re.compile(r"^.*\[ref:\d+-[0-9a-f]{16}\].*$\n?", re.MULTILINE)


class Quarantine(Exception):
    """The message cannot be processed as it is; the reason is shown to admins."""


@dataclass
class _Outcome:
    state: str
    outcome: str
    ticket: Ticket | None = None
    entry_id: int | None = None
    reason: str = ""


# --- the journal -------------------------------------------------------------------------------------


# journal, journal_message_id and IngestResult live in inbound_journal (Core only, for the MTA pipe)


def ingest_raw(
    engine: Engine,
    raw: bytes,
    *,
    mailbox_id: int | None = None,
    uidvalidity: int | None = None,
    uid: int | None = None,
    attachments_dir: Path | None = None,
) -> IngestResult:
    """Journal one message, then process it. Raises only when the database itself is unreachable."""
    journal_id, seen = journal(engine, raw, mailbox_id=mailbox_id, uidvalidity=uidvalidity, uid=uid)
    result = process(engine, journal_id, attachments_dir=attachments_dir)
    if seen:
        return IngestResult(**{**result.__dict__, "already_journaled": True})
    return result


# --- processing ----------------------------------------------------------------------------------------


def _result(row: InboundMessage) -> IngestResult:
    return IngestResult(
        journal_id=int(row.id),
        state=row.state,
        outcome=row.outcome,
        ticket_id=row.ticket_id,
        entry_id=row.entry_id,
        reason=row.reason,
    )


def process(
    engine: Engine,
    journal_id: int,
    *,
    retry: bool = False,
    attachments_dir: Path | None = None,
    force_ticket: bool = False,
) -> IngestResult:
    """Process one journal row (pending, or quarantined when ``retry``). Never raises on bad mail.

    ``force_ticket`` turns an ignored row into a new ticket after all (an admin's word from the ignored
    list): the classification, bans, filters' reject and the unknown-sender policy are not asked again."""
    written: list[Path] = []
    try:
        with transaction(engine, Actor.system("mail")) as tx:
            batch_cache.enable(tx.session)
            row = tx.session.execute(
                select(InboundMessage)
                .where(InboundMessage.id == journal_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).scalar_one()
            if not (
                row.state == "pending"
                or (retry and row.state == "quarantined")
                or (force_ticket and row.state == "ignored")
            ):
                return _result(row)  # someone else finished it meanwhile
            out = _route(tx, row, attachments_dir, written, force_ticket=force_ticket)
            _record(tx, row, out)
            result = _result(row)
        _unlink_spools(written)  # big parts no attachment row took (refused, a bounce's copy, ...)
        return result
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, the message is kept and shown
        for path in written:
            path.unlink(missing_ok=True)
        if _is_database_down(exc):
            raise
        return quarantine(engine, journal_id, _quarantine_reason(journal_id, exc))


def _record(tx: Tx, row: InboundMessage, out: _Outcome) -> None:
    """The journal row says what became of its message, in the transaction that did it."""
    row.state = out.state
    row.outcome = out.outcome
    row.reason = out.reason
    row.ticket_id = out.ticket.id if out.ticket is not None else None
    row.entry_id = out.entry_id
    row.processed_at = tx.now
    row.attempts += 1
    tx.session.add(row)
    tx.changed = True


def _quarantine_reason(journal_id: int, exc: Exception) -> str:
    reason = str(exc) if isinstance(exc, Quarantine) else f"{type(exc).__name__}: {exc}"
    if not isinstance(exc, Quarantine):
        log.warning("quarantined journal row %s: %s", journal_id, reason)
    return reason


def process_batch(
    engine: Engine, journal_ids: list[int], *, attachments_dir: Path | None = None
) -> list[IngestResult]:
    """Process pending journal rows in one transaction, each message inside a SAVEPOINT of its own: a
    message that fails is rolled back alone and quarantined in the same commit (its bytes stay), and the
    others go on. What each message does is ``_route``'s, exactly as ``process`` does it one at a time;
    the batch only shares the transaction, the commit and the session's cached reference rows and
    settings. If the commit itself fails, each message is processed again on its own.

    A crash before the commit leaves every row of the batch pending, for ``process_pending``."""
    if len(journal_ids) <= 1:
        return [process(engine, i, attachments_dir=attachments_dir) for i in journal_ids]
    results: dict[int, IngestResult] = {}
    kept: list[Path] = []
    try:
        with transaction(engine, Actor.system("mail")) as tx:
            s = tx.session
            batch_cache.enable(s)
            pinned = _pin_reference_rows(s)  # noqa: F841 - held for the whole batch
            rows = s.execute(
                select(InboundMessage)
                .where(InboundMessage.id.in_(journal_ids))
                .order_by(InboundMessage.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            ).scalars().all()
            for row in rows:
                journal_id = int(row.id)
                if row.state == "pending":
                    one = Tx(session=s, actor=tx.actor, now=clock.now())
                    written: list[Path] = []
                    try:
                        with s.begin_nested():
                            _record(one, row, _route(one, row, attachments_dir, written))
                        kept.extend(written)
                    except Exception as exc:  # noqa: BLE001 - this message alone is rolled back and kept
                        for path in written:
                            path.unlink(missing_ok=True)
                        if _is_database_down(exc):
                            raise
                        _mark_quarantined(s, row, _quarantine_reason(journal_id, exc))
                    tx.changed = True
                results[journal_id] = _result(row)
        _unlink_spools(kept)
    except Exception as exc:  # noqa: BLE001 - the batch as a whole failed: one message at a time instead
        for path in kept:
            path.unlink(missing_ok=True)
        if _is_database_down(exc):
            raise
        log.warning("journal batch %s failed (%s: %s); processing its messages one by one",
                    journal_ids, type(exc).__name__, exc)  # fmt: skip
        return [process(engine, i, attachments_dir=attachments_dir) for i in journal_ids]
    return [results[i] for i in journal_ids if i in results]


def _pin_reference_rows(s: Session) -> list[Any]:
    """Load the small lookup tables once and hold them for the transaction.

    The session's identity map keeps rows only while something references them, so the services'
    many `session.get(Department/Status/Priority, id)` calls each went back to the database (about
    seven queries per message). Three small SELECTs up front turn them all into identity-map hits.
    """
    pinned = s.info.get(_PINNED)
    if pinned is not None:  # a batch pinned them for all its messages
        return pinned
    rows: list[Any] = []
    for model in (Department, Status, Priority, Mailbox):
        rows.extend(s.execute(select(model)).scalars().all())
    s.info[_PINNED] = rows
    return rows


_PINNED = "helpdesk_pinned_reference_rows"


def _is_database_down(exc: BaseException) -> bool:
    from sqlalchemy.exc import InterfaceError, OperationalError

    from tui_helpdesk.db import DatabaseUnavailable

    if isinstance(exc, DatabaseUnavailable | InterfaceError):
        return True
    if isinstance(exc, OperationalError):
        text = str(exc).lower()
        return any(word in text for word in ("connect", "unable to open", "server closed", "terminating"))
    return False


def quarantine(engine: Engine, journal_id: int, reason: str) -> IngestResult:
    with session_scope(engine) as s:
        row = s.get(InboundMessage, journal_id)
        _mark_quarantined(s, row, reason)
        return _result(row)


def _mark_quarantined(s: Session, row: InboundMessage, reason: str) -> None:
    row.state = "quarantined"
    row.outcome = "quarantined"
    row.reason = reason[:4000]
    row.attempts += 1
    row.processed_at = _now()
    s.add(row)


def _now():
    from tui_helpdesk import clock

    return clock.now()


def process_pending(
    engine: Engine,
    *,
    include_quarantined: bool = False,
    limit: int = 200,
    attachments_dir: Path | None = None,
) -> dict[str, int]:
    """Finish journal rows left pending by a crash (and quarantined ones, when asked)."""
    states = ("pending", "quarantined") if include_quarantined else ("pending",)
    with session_scope(engine, write=False) as s:
        found = s.execute(
            select(InboundMessage.id, InboundMessage.state, InboundMessage.attempts)
            .where(InboundMessage.state.in_(states))
            .order_by(InboundMessage.id)
            .limit(limit)
        ).all()
    counts: dict[str, int] = {}
    # Mail no pass has tried yet (journaled by `helpdesk ingest` while a worker runs, or by a poll whose
    # batch never ran) is processed in batches, as a poll does. Each batch's attempt is counted first,
    # so if it kills the process, its rows come back tried once and go one at a time below: the message
    # that kills is then quarantined after MAX_RECOVERY_ATTEMPTS, and the others are done on their own.
    untried = [int(i) for i, state, attempts in found if state == "pending" and not attempts]
    for start in range(0, len(untried), PENDING_BATCH):
        claimed = _count_attempt(engine, untried[start : start + PENDING_BATCH])
        for result in process_batch(engine, claimed, attachments_dir=attachments_dir):
            counts[result.state] = counts.get(result.state, 0) + 1
    batched = set(untried)
    for journal_id in [int(i) for i, _state, _attempts in found if int(i) not in batched]:
        # Count the attempt before trying: a message that kills the process every time must not keep
        # killing the worker, so after a few tries it is quarantined without being processed again.
        with session_scope(engine) as s:
            row = s.get(InboundMessage, journal_id)
            if row is None or row.state not in states:
                continue
            if row.state == "pending" and row.attempts >= MAX_RECOVERY_ATTEMPTS:
                row.state, row.outcome = "quarantined", "quarantined"
                row.reason = f"processing did not finish after {row.attempts} attempts"
                s.add(row)
                counts["quarantined"] = counts.get("quarantined", 0) + 1
                continue
            if row.state == "pending":
                row.attempts += 1
                s.add(row)
        result = process(engine, journal_id, retry=include_quarantined, attachments_dir=attachments_dir)
        counts[result.state] = counts.get(result.state, 0) + 1
    return counts


PENDING_BATCH = 25  # as many as a poll's FETCH (mail/imap.py)


def _count_attempt(engine: Engine, journal_ids: list[int]) -> list[int]:
    """Count one attempt on each row still pending and untried, in a commit of its own; returns those."""
    with session_scope(engine) as s:
        rows = s.execute(
            select(InboundMessage).where(InboundMessage.id.in_(journal_ids)).order_by(InboundMessage.id)
        ).scalars().all()
        claimed = []
        for row in rows:
            if row.state == "pending" and not row.attempts:
                row.attempts = 1
                s.add(row)
                claimed.append(int(row.id))
    return claimed


def retry(engine: Engine, journal_id: int, *, attachments_dir: Path | None = None) -> IngestResult:
    """Process a quarantined (or pending) row again, e.g. after an admin fixed a filter or a setting."""
    return process(engine, journal_id, retry=True, attachments_dir=attachments_dir)


# --- routing -------------------------------------------------------------------------------------------


# Tags that flag a mail-made ticket for an agent (shown in the ticket header, searchable with tag:).
TAG_MERGE = "check-merge"  # a stranger's message pointed at another ticket: merge it if it belongs
TAG_AUTOMATIC = "maybe-automatic"  # words or a role sender look automatic; no autoresponse went back
TAG_BULK = "bulk"  # Precedence: bulk/list or list headers; no autoresponse went back


def _route(
    tx: Tx, row: InboundMessage, attachments_dir: Path | None, written: list[Path], *, force_ticket: bool = False
) -> _Outcome:
    s = tx.session
    limit = int(settings.get(s, "max_message_bytes"))
    if limit and row.size > limit:
        # checked before reading the bytes, let alone parsing them; they stay in the journal, so raising
        # the limit and retrying loses nothing
        _tell_sender_too_big(tx, row, limit)
        reason = f"the message is {row.size} bytes; the limit is {limit} bytes (setting max_message_bytes)"
        return _Outcome("quarantined", "too_big", reason=reason)
    # read once, in place (a row SELECT held a 50 MB message twice), and only here
    raw = read_raw(s.connection(), int(row.id))
    # a body over max_body_bytes is never held whole: the entry gets its start, the ticket the rest as a file
    text_limit = int(settings.get(s, "max_body_bytes")) or None
    parsed = parse_message(raw, spool_dir=_attachments_dir(attachments_dir) / SPOOL_FOLDER, text_limit=text_limit)
    written.extend(a.spool for a in (*parsed.attachments, parsed.full_text) if a is not None and a.spool is not None)
    if parsed.fatal:
        raise Quarantine(
            "cannot be parsed: " + "; ".join(d for d in parsed.defects if d.startswith("fatal:"))
        )
    message_id = row.message_id or journal_message_id(raw)
    duplicate = inbound_match.is_duplicate(s, message_id, row.id)
    if duplicate:
        return _Outcome("ignored", "duplicate", reason=duplicate)
    # Classified before the sender is checked: a bounce's From is often <> or a bare MAILER-DAEMON.
    verdict = classify_module.classify(parsed)
    if force_ticket:
        ctx = _Context(tx, row, parsed, message_id, filters.apply(s, parsed), attachments_dir, written, verdict)
        pinned = _pin_reference_rows(s)  # noqa: F841 - held until the ticket work is done
        out = _new_ticket(ctx, forced=True)
        out.reason = "; ".join(r for r in (f"was ignored ({row.outcome}: {row.reason})", out.reason) if r)
        return out
    # flufl.bounce also knows bounces that carry no report structure, among mail that is automatic anyway
    found = bounces.failed_recipients(raw) if verdict.kind in ("bounce", "auto_reply", "bulk") else None
    if verdict.kind == "bounce" or (found is not None and found.permanent):
        return _bounce(tx, raw, parsed, verdict, found)
    del raw  # parsed: a big message must not stay in memory while the ticket work runs
    sender = parsed.from_addr
    if not sender:
        if verdict.machine:
            return _Outcome("ignored", "auto_reply", reason=f"an automatic message ({verdict.reason})")
        raise Quarantine("the message has no usable From address")
    if sender in outbound.our_addresses(s):
        return _Outcome("ignored", "own_mail", reason=f"sent from our own address {sender}")
    banned = filters.is_banned(s, sender)
    if banned:
        return _Outcome("ignored", "banned", reason=f"the sender matches the ban rule {banned}")
    rules = filters.apply(s, parsed)
    if rules.ban:
        filters.add_ban(s, sender, note=f"filter: {', '.join(rules.matched)}")
    if rules.reject:
        return _Outcome("ignored", "rejected", reason=f"rejected by the filter {', '.join(rules.matched)}")
    match = inbound_match.find_ticket(s, parsed)
    if verdict.machine:
        if match is None:
            return _Outcome(
                "ignored", "auto_reply", reason=f"an automatic reply that belongs to no ticket ({verdict.reason})"
            )
        ticket = match[0]
        note = tickets.note(tx, ticket.id, _auto_reply_note(parsed))
        return _Outcome("done", "auto_reply", ticket, note.id, reason=f"matched by {match[1]}")
    ctx = _Context(tx, row, parsed, message_id, rules, attachments_dir, written, verdict)
    pinned = _pin_reference_rows(s)  # noqa: F841 - held until the ticket work is done
    if match is not None:
        ticket, how, pointed_id = match
        role = inbound_match.sender_role(s, ticket, pointed_id, sender)
        if role == "agent":
            return _agent_mail(ctx, ticket, how)
        if role is not None:
            return _reply(ctx, ticket, how)
        # A key is no credential: a stranger's threaded mail opens its own ticket, linked for an agent.
        return _new_ticket(ctx, pointed_at=(ticket, how))
    if verdict.kind == "bulk" and not _known_sender(s, sender):
        return _Outcome(
            "ignored", "bulk", reason=f"bulk or list mail ({verdict.reason}) from {sender}, who is not a contact"
        )
    return _new_ticket(ctx)


def _known_sender(s: Session, sender: str) -> bool:
    """A contact already, or an address of a known organization: a real customer."""
    if s.execute(select(Contact.id).where(Contact.email == sender).limit(1)).first() is not None:
        return True
    return lookup.organization_for_domain(s, sender) is not None


@dataclass
class _Context:
    tx: Tx
    row: InboundMessage
    parsed: ParsedMessage
    message_id: str
    rules: filters.FilterResult
    attachments_dir: Path | None
    written: list[Path]
    verdict: classify_module.Classification

    @property
    def flag_tags(self) -> list[str]:
        automatic = self.verdict.flags or self.verdict.machine  # machine: an admin made it a ticket anyway
        return ([TAG_BULK] if self.verdict.kind == "bulk" else []) + ([TAG_AUTOMATIC] if automatic else [])

    @property
    def may_autorespond(self) -> bool:
        """Never answer a machine, nor anything that may be one (bulk, flagged), nor as a filter says."""
        return self.verdict.answerable and not self.rules.skip_autoresponse

    @property
    def body(self) -> tuple[str, str | None]:
        """(what an agent reads first, the full original when it differs)."""
        text = self.parsed.text or ""
        visible = _TOKEN_LINE.sub("", strip_reply(text)).strip()
        if not visible:
            visible = NO_TEXT
        full = text if text.strip() and text.strip() != visible else None
        whole = self.parsed.full_text
        if whole is not None:
            limit = int(settings.get(self.tx.session, "max_body_bytes"))
            note = (f"\n\n[The message was longer than {limit:,} bytes ({whole.size:,} bytes): this is its "
                    f"start; the full text is attached as {whole.filename}.]")  # fmt: skip
            # the note fits within the limit too: an agent's mail becomes a reply or note, held to it
            room = max(limit - len(note.encode()), limit // 2)
            if len(visible.encode()) > room:
                visible = visible.encode()[:room].decode("utf-8", "ignore").rstrip()
            visible += note
        return visible, full

    @property
    def subject(self) -> str:
        return (clean_line(self.parsed.subject) or NO_SUBJECT)[:255]

    @property
    def recipients(self) -> dict[str, list[str]]:
        return {"to": list(self.parsed.to), "cc": list(self.parsed.cc)}


def _mailbox(s: Session, row: InboundMessage, parsed: ParsedMessage) -> Mailbox | None:
    if row.mailbox_id is not None:
        return s.get(Mailbox, row.mailbox_id)
    addresses = (
        list(parsed.to)
        + list(parsed.cc)
        + [v for v in parsed.headers.get("delivered-to", "").split("\n") if v]
    )
    for address in addresses:
        box = s.execute(select(Mailbox).where(Mailbox.address == address.strip().lower())).scalars().first()
        if box is not None:
            return box
    return None


def _valid(address: str) -> bool:
    return bool(lookup.EMAIL_RE.match(address or ""))


def _collaborator_addresses(ctx: _Context, requester: str) -> list[str]:
    if not settings.get(ctx.tx.session, "add_cc_as_collaborators"):
        return []
    ours = outbound.our_addresses(ctx.tx.session)
    wanted = [a for a in ctx.parsed.cc if a not in ours and a != requester and _valid(a)]
    return list(dict.fromkeys(wanted))


def _checked_fields(s: Session, rules: filters.FilterResult) -> tuple[dict[str, Any], list[str]]:
    """Filter actions that name something that exists; the others become words in a note."""
    checks = {
        "department": lambda v: lookup.department(s, v, for_new_ticket=True),
        "priority": lambda v: lookup.priority(s, v),
        "topic": lambda v: lookup.topic(s, v),
        "assignee": lambda v: lookup.agent(s, v),
        "team": lambda v: lookup.team(s, v),
        "status": lambda v: lookup.status(s, v),
    }
    good: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in rules.fields.items():
        try:
            good[key] = checks[key](value).id
        except ServiceError as exc:
            problems.append(f"filter action {key}={value!r} ignored: {exc}")
    custom: dict[str, Any] = {}
    for name, value in rules.custom.items():
        try:  # a field renamed or retyped since the filter was saved must not lose the message
            custom.update(custom_fields.clean_values(s, "ticket", {name: value}))
        except ServiceError as exc:
            problems.append(f"filter action cf.{name}={value!r} ignored: {exc}")
    if custom:
        good["custom"] = custom
    return good, problems


def _new_ticket(
    ctx: _Context,
    *,
    late_from: Ticket | None = None,
    pointed_at: tuple[Ticket, str] | None = None,
    forced: bool = False,
) -> _Outcome:
    """A ticket for the message; ``late_from`` the closed ticket it replied to, ``pointed_at`` the
    ticket (and key) a non-participant's message pointed at."""
    tx, s, parsed = ctx.tx, ctx.tx.session, ctx.parsed
    sender = parsed.from_addr or ""
    if not _valid(sender):
        raise Quarantine(f"the sender address {sender!r} is not an address a ticket can be opened for")
    contact = s.execute(inbound_match.contact_by_email(), {"email": sender}).scalars().first()
    if contact is None and late_from is None and not forced:
        policy = settings.get(s, "unknown_sender_policy")
        if policy == "reject":
            return _Outcome(
                "ignored", "unknown_sender", reason=f"{sender} is not a known contact (policy: reject)"
            )
        if policy == "domain" and lookup.organization_for_domain(s, sender) is None:
            return _Outcome(
                "ignored",
                "unknown_sender",
                reason=f"{sender} is not a contact and its domain belongs to no organization (policy: domain)",
            )
    box = _mailbox(s, ctx.row, parsed)
    fields, problems = _checked_fields(s, ctx.rules)
    department = fields.get("department")
    moved = ""
    if department is None and late_from is not None:
        department, moved = _late_department(s, late_from, box)
    if department is None and box is not None and box.department_id:
        department = box.department_id
    topic = fields.get("topic") or (box.topic_id if box else None)
    if department is None and topic is None:
        department = _fallback_department(s)
    priority = fields.get("priority") or (box.priority_id if box else None)
    tags = [
        t.strip().lower()
        for t in ctx.rules.tags
        if t and t.strip() and len(t) <= 60 and not any(c.isspace() for c in t.strip())
    ]
    tags += ctx.flag_tags + ([TAG_MERGE] if pointed_at is not None else [])
    body, full = ctx.body
    if contact is None:
        # made here rather than inside open_ticket (the same rule, lookup.contact), so the requester is
        # at hand for the autoresponse and the alert below instead of read back; an address already in
        # its normal form was looked up above
        if sender == sender.strip().lower():
            contact = lookup.new_contact(s, sender, parsed.from_name[:200])
        else:
            contact = lookup.contact(s, sender, parsed.from_name[:200])
    ticket = tickets.open_ticket(
        tx,
        subject=_late_subject(s, ctx.subject, late_from) if late_from is not None else ctx.subject,
        body=body,
        full_body=full,
        body_format="text",
        contact_id=contact.id,
        department=department,
        topic=topic,
        priority=priority,
        status=fields.get("status"),
        assignee=fields.get("assignee"),
        team=fields.get("team"),
        tags=tags,
        custom_fields=fields.get("custom"),
        cc=_collaborator_addresses(ctx, sender),
        source="email",
        message_id=ctx.message_id,
        recipients=ctx.recipients,
    )
    entry_id = s.connection().execute(_first_entry(), {"ticket_id": ticket.id}).scalar()  # open_ticket flushed
    problems += _store_attachments(ctx, ticket, entry_id)
    if late_from is not None:
        links.add_link(tx, ticket.id, late_from.id, "related_to")
    reasons = [f"a late reply to {late_from.number}{moved}"] if late_from is not None else []
    if pointed_at is not None:
        other, how = pointed_at
        links.add_link(tx, ticket.id, other.id, "related_to")
        problems.append(
            f"This message pointed at {other.number} (by {how}), but {sender} takes no part in that ticket, "
            f"so it opened this one instead. Merge it into {other.number} if it belongs there."
        )
        reasons.append(f"pointed at {other.number} by {how}; {sender} is not a participant there")
    if ctx.verdict.flags or ctx.verdict.kind != "normal":
        why = ", ".join(([ctx.verdict.reason] if ctx.verdict.kind != "normal" else []) + list(ctx.verdict.flags))
        problems.append(f"This message may be automatic ({why}): no autoresponse was sent.")
        reasons.append(f"flagged: {why}")
    if problems:
        tickets.note(tx, ticket.id, "\n".join(problems))
    requester = contact if contact.id == ticket.contact_id else s.get(Contact, ticket.contact_id)
    if ctx.may_autorespond and requester is not None:
        outbound.queue_autoresponse(
            tx, ticket, requester, "new_ticket", message=body, in_reply_to=ctx.message_id
        )
    if requester is not None:
        notify.mail_arrived(tx, ticket, "new_ticket", requester, message=body)
    outcome = "new_ticket_late" if late_from is not None else "new_ticket"
    return _Outcome("done", outcome, ticket, entry_id, reason="; ".join(reasons))


@functools.cache
def _first_entry() -> Any:
    c = TicketEntry.__table__.c
    return select(c.id).where(c.ticket_id == bindparam("ticket_id")).order_by(c.id).limit(1)


def _late_department(s: Session, old: Ticket, box: Mailbox | None) -> tuple[int, str]:
    """Where a late reply's new ticket opens: the old ticket's department while it takes new tickets,
    else the mailbox's, else the default one; and, when it moved, the words the journal keeps."""
    old_dept = s.get(Department, old.department_id)
    if old_dept is not None and old_dept.state == "active":
        return old_dept.id, ""
    box_dept = s.get(Department, box.department_id) if box is not None and box.department_id else None
    if box_dept is not None and box_dept.state == "active":
        target, which = box_dept, "the mailbox's department"
    else:
        target, which = s.get(Department, _fallback_department(s)), "the default department"
    was = f"{old_dept.name} is {old_dept.state}" if old_dept is not None else "no longer exists"
    return int(target.id), f"; its department {was}, so the new ticket opened in {target.name} ({which})"


def _late_subject(s: Session, subject: str, old: Ticket) -> str:
    """The subject without the old ticket's number, under whatever prefix it was written."""
    stale = set()
    for number in mail_keys.subject_numbers(subject):
        named = lookup.ticket_by_number(s, number)
        if named is not None and (inbound_match.follow_merges(s, named.id) or named).id == old.id:
            stale.add(number)
    return mail_keys.without_numbers(subject, stale) or NO_SUBJECT


def _fallback_department(s: Session) -> int:
    dept = s.execute(
        select(Department.id).where(Department.state == "active").order_by(Department.id).limit(1)
    ).scalar()
    if dept is None:
        raise Quarantine("no active department to open the ticket in (give the mailbox a department)")
    return dept


def _reply(ctx: _Context, ticket: Ticket, how: str) -> _Outcome:
    tx, s, parsed = ctx.tx, ctx.tx.session, ctx.parsed
    sender = parsed.from_addr or ""
    if not _valid(sender):
        raise Quarantine(f"the sender address {sender!r} is not an address a contact can have")
    contact = lookup.contact(s, sender, parsed.from_name[:200])
    body, full = ctx.body
    entry, result = tickets.add_customer_message(
        tx,
        ticket,
        contact,
        body,
        full_body=full,
        message_id=ctx.message_id,
        recipients=ctx.recipients,
        body_format="text",
        may_reopen=True,
    )
    if result == "late":
        if settings.get(s, "late_reply_policy") == "refuse":
            outbound.queue_client_notice(tx, ticket, "refused", contact=contact, in_reply_to=ctx.message_id)
            return _Outcome(
                "ignored",
                "refused",
                ticket,
                reason=f"{ticket.number} no longer accepts replies (policy: refuse)",
            )
        return _new_ticket(ctx, late_from=ticket)
    # Only a participant gets here; their explicit Cc adds collaborators, writing in never does.
    added = []
    for address in _collaborator_addresses(ctx, sender):
        if add_participant(tx, ticket, address):
            added.append(address)
    problems = _store_attachments(ctx, ticket, entry.id)
    if problems:
        tickets.note(tx, ticket.id, "\n".join(problems))
    if result != "reopened":  # a reopen already alerted (notify.reopened)
        notify.mail_arrived(tx, ticket, "new_message", contact, message=body)
    if ctx.may_autorespond:
        outbound.queue_autoresponse(
            tx, ticket, contact, "new_message", message=body, in_reply_to=ctx.message_id
        )
    reason = f"matched by {how}" + (f"; collaborators added: {', '.join(added)}" if added else "")
    return _Outcome("done", "reopened" if result == "reopened" else "reply", ticket, entry.id, reason=reason)


def _agent_mail(ctx: _Context, ticket: Ticket, how: str) -> _Outcome:
    """An agent's mail from their own address on a ticket's thread (answering an alert, say): a note by
    that agent, or a reply per the agent_mail_as setting; never a customer message. Done as that agent,
    so their permissions hold: one who may not see the ticket gets a linked new ticket instead."""
    from . import visibility

    tx, s = ctx.tx, ctx.tx.session
    agent = inbound_match.agent_by_address(s, ctx.parsed.from_addr)
    as_agent = Tx(
        session=s,
        actor=Actor(agent_id=agent.id, username=agent.username, is_admin=agent.is_admin, origin="mail"),
        now=tx.now,
    )
    if not visibility.can_see(as_agent, ticket):
        return _new_ticket(ctx, pointed_at=(ticket, how))
    body, _full = ctx.body
    kind = str(settings.get(s, "agent_mail_as"))
    try:
        posted = tickets.reply(as_agent, ticket.id, body) if kind == "reply" else tickets.note(as_agent, ticket.id, body)
    except ServiceError as exc:
        raise Quarantine(f"{agent.username}'s mail could not be added to {ticket.number}: {exc}") from exc
    tx.changed = True
    # the Message-ID makes a second delivery a duplicate; a reply already carries the id we sent it as
    s.execute(
        update(TicketEntry)
        .where(TicketEntry.id == posted.id, TicketEntry.message_id.is_(None))
        .values(message_id=ctx.message_id)
    )
    problems = _store_attachments(ctx, ticket, posted.id)
    if problems:
        tickets.note(as_agent, ticket.id, "\n".join(problems))
    return _Outcome("done", f"agent_{kind}", ticket, posted.id, reason=f"matched by {how}; from agent {agent.username}")


def _auto_reply_note(parsed: ParsedMessage) -> str:
    text = strip_reply(parsed.text or "").strip() or NO_TEXT
    return f"Automatic reply from {parsed.from_addr} ({parsed.subject or NO_SUBJECT}):\n\n{text[:4000]}"


def _bounce(
    tx: Tx,
    raw: bytes,
    parsed: ParsedMessage,
    verdict: classify_module.Classification,
    found: bounces.FailedRecipients | None,
) -> _Outcome:
    s = tx.session
    ids = [verdict.original_message_id] if verdict.original_message_id else []
    if parsed.enclosed_headers and parsed.enclosed_headers.get("message-id"):
        ids.append(normalize_msgid(parsed.enclosed_headers["message-id"]))
    ticket: Ticket | None = None
    sent: OutboundMessage | None = None
    for mid in [i for i in ids if i]:
        sent = s.execute(select(OutboundMessage).where(OutboundMessage.message_id == mid)).scalars().first()
        ticket_id = sent.ticket_id if sent is not None else outbound.ticket_from_message_id(s, mid)
        if ticket_id is not None:
            ticket = inbound_match.follow_merges(s, ticket_id)
            break
    if ticket is None:
        return _Outcome("ignored", "bounce", reason="a delivery failure for no message of ours")
    failures = bounces.failures(raw, parsed, verdict.recipient, verdict.status, found)
    failed = [f"- {clean_line(f.address)}: {clean_line(f.detail)}" for f in failures]
    reporter = parsed.from_addr or f"a null sender, From: {clean_line(parsed.headers.get('from', ''))}"
    lines = [f"A message about this ticket could not be delivered (report from {reporter}):"]
    if sent is not None:
        lines.append(f"Subject: {sent.subject}; sent to {', '.join(sent.to_addrs or [])}")
        sent.last_error = ("bounced: " + "; ".join(failed))[:2000] if failed else "bounced"
        s.add(sent)
    lines += failed or [strip_reply(parsed.text or "")[:2000]]
    _mark_bouncing(tx, [f for f in failures if f.permanent])
    note = tickets.note(tx, ticket.id, "\n".join(lines))
    return _Outcome("done", "bounce", ticket, note.id)


_HEADER_END = re.compile(rb"\r?\n\r?\n")
_HEADER_BLOCK_MAX = 256 * 1024


def _tell_sender_too_big(tx: Tx, row: InboundMessage, limit: int) -> None:
    """One notice to the person who sent mail over the size limit; never to a machine, never twice.

    Only the header block is read (the body is what is too big): a null or daemon sender, an
    Auto-Submitted, list or bulk message gets nothing, nor does anyone already told this hour (a
    stream of big forged mail must not turn us into a spammer of the forged address).
    """
    s = tx.session
    start = read_raw_head(s.connection(), int(row.id), _HEADER_BLOCK_MAX)
    end = _HEADER_END.search(start)
    head = parse_message(start[: end.end()] if end else start + b"\r\n\r\n")
    verdict = classify_module.classify(head)
    sender = head.from_addr or ""
    if not verdict.answerable or not _valid(sender) or sender in outbound.our_addresses(s):
        return
    since = tx.now - timedelta(hours=1)
    told = s.execute(
        select(OutboundMessage.to_addrs, OutboundMessage.in_reply_to).where(
            OutboundMessage.kind == "notice.too_big", OutboundMessage.created_at >= since
        )
    ).all()
    if any(sender in (to or []) or (reply and reply == row.message_id) for to, reply in told):
        return
    variables = {
        "recipient.name": head.from_name or sender,
        "recipient.email": sender,
        "message.subject": clean_line(head.subject) or NO_SUBJECT,
        "message.size": f"{row.size / 1048576:.1f} MB",
        "limit": f"{limit / 1048576:.1f} MB",
        "helpdesk.name": settings.get(s, "helpdesk_name"),
    }
    box = _mailbox(s, row, head)
    rendered = templates.render(s, "notice.too_big", box.department_id if box else None, variables)
    outbound.queue(
        tx,
        ticket=None,
        kind="notice.too_big",
        to=[sender],
        subject=rendered.subject,
        body=rendered.body,
        in_reply_to=row.message_id,
        references=[row.message_id] if row.message_id else [],
    )


def _mark_bouncing(tx: Tx, failures: list[bounces.Failure]) -> None:
    """The contacts mail permanently failed to, with when and why (the latest report): the ticket header
    shows it."""
    for failure in failures:
        found = select(Contact).where(Contact.email == failure.address)
        contact = tx.session.execute(found).scalars().first()
        if contact is not None:
            contact.bounced_at = tx.now
            contact.bounce_status = clean_line(failure.detail)[:200]
            tx.session.add(contact)


# --- attachments -----------------------------------------------------------------------------------------


SPOOL_FOLDER = "incoming"  # big parts decoded while their message is processed (mail/parse.py)


def _unlink_spools(paths: list[Path]) -> None:
    for path in paths:
        if path.parent.name == SPOOL_FOLDER:
            path.unlink(missing_ok=True)


def _attachments_dir(explicit: Path | None) -> Path:
    if explicit is not None:
        return Path(explicit)
    from tui_helpdesk.config import load_config

    return load_config().attachments_dir


def _head(att: Any) -> bytes:
    """The first bytes of a parsed attachment, for sniffing its type (spooled big parts from disk)."""
    from .attachments import SNIFF_BYTES

    if att.spool is not None:
        with open(att.spool, "rb") as fh:
            return fh.read(SNIFF_BYTES)
    return bytes(att.payload[:SNIFF_BYTES])


def _store_attachments(ctx: _Context, ticket: Ticket, entry_id: int | None) -> list[str]:
    """Store the files within the limits; returns a line for each refused one (for a note).

    The full text of a body too long for the entry is the customer's words, not a file they sent: it is
    stored whatever the attachment limits say (the message size limit bounds it)."""
    whole = ctx.parsed.full_text
    if not ctx.parsed.attachments and whole is None:
        return []
    s = ctx.tx.session
    from . import attachments  # the one rule of what may be attached (suffix, sniffed content, size, count)

    max_files = int(settings.get(s, "attachment_max_files"))
    directory = _attachments_dir(ctx.attachments_dir)
    refused = []
    files = [(-1, whole)] if whole is not None else []
    for n, att in [*files, *enumerate(ctx.parsed.attachments)]:
        if n >= max_files:
            refused.append(f"Attachment {att.filename!r} was refused: a message carries at most {max_files} files.")
            continue
        why = attachments.refusal(s, att.filename, _head(att), att.size) if n >= 0 else None
        if why:
            refused.append(f"Attachment {att.filename!r} was refused: {why}.")
            continue
        token = secrets.token_hex(16)
        storage_name = f"{token[:2]}/{token}"
        target = directory / storage_name
        target.parent.mkdir(parents=True, exist_ok=True)
        if att.spool is not None:
            os.replace(att.spool, target)  # decoded there already, on the same disk
        else:
            target.write_bytes(att.payload)
        ctx.written.append(target)
        s.add(
            Attachment(
                ticket_id=ticket.id,
                entry_id=entry_id,
                filename=att.filename[:255],
                content_type=att.content_type[:150] or "application/octet-stream",
                size=att.size,
                sha256=att.sha256 or hashlib.sha256(att.payload).hexdigest(),
                storage_name=storage_name,
                inline=att.inline,
                created_at=ctx.tx.now,
            )
        )
    return refused
