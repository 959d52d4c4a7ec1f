"""Sending what an agent composed (a reply or a note with its files), and what to ask before sending.

The app's composer hands its draft here; the CLI and the HTTP API can send the same way. A draft is
sent with the ticket version the agent saw when the composer opened, so a change made meanwhile is
refused (tickets.StaleVersion names who and when), and with the last entry the agent had read, so
a reply that crossed theirs is told before it goes out (`replies_since`).

What is not sent yet is kept (`keep`): one draft per agent, ticket and kind, restored when the agent
opens the ticket again (`kept`), listed across tickets (`mine`), and gone once sent (in the send's
own transaction) or discarded. A draft is the agent's own: nobody else reads it, and keeping one is
not a change of the ticket (the change counter stays, so colleagues' screens do not reload).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, delete, select

from tui_helpdesk.models import ReplyDraft, Ticket

from . import attachments, lookup, tickets, visibility
from .context import Actor, Tx, reading, require_access, transaction
from .errors import ValidationError
from .tickets import NewerEntry, PostedEntry

KINDS = ("reply", "note")
MAX_BODY = 200_000  # a draft the size of a book is a paste gone wrong, not a reply


@dataclass(frozen=True)
class SavedDraft:
    """An unsent reply or note as the composer had it, with the ticket it is on."""

    ticket_id: int
    number: str
    subject: str
    kind: str
    body: str
    time_spent: int = 0
    cc: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    status_id: int | None = None
    resolution_notes: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Crossed:
    """Entries by others since the composer opened, and the ticket's version now."""

    entries: tuple[NewerEntry, ...]
    version: int

    def sentence(self, now: datetime) -> str:
        """'Sam Agent replied 30 s ago' (the newest; 'and 2 more' when there are several)."""
        if not self.entries:
            return ""
        last = self.entries[-1]
        verb = "replied" if last.kind == "reply" else "wrote (customer)"
        more = f" (and {len(self.entries) - 1} more)" if len(self.entries) > 1 else ""
        return f"{last.author} {verb} {ago(last.created_at, now)}{more}"


def ago(at: datetime, now: datetime) -> str:
    seconds = max(0, int((now - at).total_seconds()))
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    return f"at {at:%H:%M}"


def replies_since(tx: Tx, ref: str | int, after_entry_id: int) -> Crossed:
    """Replies and customer messages posted by anyone but the actor after `after_entry_id`."""
    entries = tuple(
        e
        for e in tickets.newer_entries(tx, ref, after_entry_id)
        if e.agent_id is None or e.agent_id != tx.actor.agent_id
    )
    return Crossed(entries, tickets.view(tx, ref, events=False).version)


def send(
    engine: Engine,
    actor: Actor,
    ref: str,
    kind: str,
    body: str,
    *,
    expected_version: int | None,
    attachments_dir: Path,
    files: Sequence[Path] = (),
    time_spent: int = 0,
    cc: Iterable[str] = (),
    status: int | None = None,
    resolution_notes: str | None = None,
) -> PostedEntry:
    """Post a reply or a note and store its files in one transaction; no file outlives a failure."""
    stored: list[attachments.Stored] = []
    try:
        with transaction(engine, actor) as tx:
            if kind == "reply":
                entry = tickets.reply(
                    tx,
                    ref,
                    body,
                    expected_version=expected_version,
                    time_spent=time_spent,
                    cc=tuple(cc),
                    status=status,
                    resolution_notes=resolution_notes,
                )
            else:
                entry = tickets.note(tx, ref, body, expected_version=expected_version, time_spent=time_spent)
            attachments.check_count(tx.session, len(files))
            for path in files:
                stored.append(attachments.store(tx, entry.number, path, attachments_dir, entry_id=entry.id))
            # sent: the draft goes with it, in the same transaction (a failed send keeps it)
            _forget(tx, lookup.ticket(tx.session, ref).id, kind)
    except BaseException:
        attachments.discard(stored)
        raise
    return entry


def entry_edit_refusal(engine: Engine, actor: Actor, entry_id: int) -> str | None:
    """Why the actor may not edit this entry (the service's own words), or None when they may.

    Asked before an edit dialog opens, so nobody rewrites a reply only to be told no. The rule is
    tickets.edit_entry's; this only asks it."""
    with reading(engine, actor) as tx:
        return tickets.edit_refusal(tx, entry_id)


# --- kept drafts ----------------------------------------------------------------------------------------


def _agent(tx: Tx) -> int:
    if tx.actor.agent_id is None:
        raise ValidationError("draft", "only an agent keeps drafts")
    return tx.actor.agent_id


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValidationError("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    return kind


def keep(
    tx: Tx,
    ref: str | int,
    kind: str,
    body: str,
    *,
    time_spent: int = 0,
    cc: Iterable[str] = (),
    files: Iterable[str | Path] = (),
    status: int | None = None,
    resolution_notes: str | None = None,
) -> bool:
    """Keep the actor's unsent `kind` on the ticket as it is now (replacing the one kept before);
    an empty draft (no words, no files) removes it. True when a draft is kept."""
    agent_id, kind = _agent(tx), _kind(kind)
    ticket = lookup.ticket(tx.session, ref)
    require_access(tx, ticket)
    if len(body) > MAX_BODY:
        raise ValidationError("body", f"at most {MAX_BODY:,} characters in a draft")
    files = tuple(str(f) for f in files)
    if not body.strip() and not files:
        _forget(tx, ticket.id, kind)
        return False
    extras = {
        "time_spent": max(int(time_spent or 0), 0),
        "cc": list(cc),
        "files": list(files),
        "status_id": status,
        "resolution_notes": resolution_notes,
    }
    assert ticket.id is not None
    row = tx.session.execute(
        select(ReplyDraft).where(
            ReplyDraft.agent_id == agent_id, ReplyDraft.ticket_id == ticket.id, ReplyDraft.kind == kind
        )
    ).scalar_one_or_none()
    if row is None:
        row = ReplyDraft(agent_id=agent_id, ticket_id=ticket.id, kind=kind)
        tx.session.add(row)
    row.body, row.extras, row.updated_at = body, extras, tx.now
    tx.session.flush()
    return True


def discard(tx: Tx, ref: str | int, kind: str) -> bool:
    """Throw away the actor's kept `kind` on the ticket; True when there was one."""
    _agent(tx)
    return _forget(tx, lookup.ticket(tx.session, ref).id, _kind(kind))


def _forget(tx: Tx, ticket_id: int | None, kind: str) -> bool:
    if tx.actor.agent_id is None:
        return False
    done = tx.session.execute(
        delete(ReplyDraft).where(
            ReplyDraft.agent_id == tx.actor.agent_id, ReplyDraft.ticket_id == ticket_id, ReplyDraft.kind == kind
        )
    )
    return bool(done.rowcount)


def kept(tx: Tx, ref: str | int) -> list[SavedDraft]:
    """The actor's drafts on one ticket (a reply, a note, or both)."""
    if tx.actor.agent_id is None:
        return []
    ticket = lookup.ticket(tx.session, ref)
    require_access(tx, ticket)
    return _rows(tx, ReplyDraft.ticket_id == ticket.id)


def mine(tx: Tx) -> list[SavedDraft]:
    """Every draft the actor keeps, newest first, on the tickets they may still see."""
    if tx.actor.agent_id is None:
        return []
    return _rows(tx, visibility.where_visible(tx))


def _rows(tx: Tx, condition: object) -> list[SavedDraft]:
    stmt = (
        select(ReplyDraft, Ticket.number, Ticket.subject)
        .join(Ticket, Ticket.id == ReplyDraft.ticket_id)
        .where(ReplyDraft.agent_id == tx.actor.agent_id)
        .order_by(ReplyDraft.updated_at.desc(), ReplyDraft.id.desc())
    )
    if condition is not None:
        stmt = stmt.where(condition)  # type: ignore[arg-type]
    out = []
    for row, number, subject in tx.session.execute(stmt):
        x = row.extras or {}
        out.append(
            SavedDraft(
                ticket_id=row.ticket_id,
                number=number,
                subject=subject,
                kind=row.kind,
                body=row.body,
                time_spent=int(x.get("time_spent") or 0),
                cc=tuple(x.get("cc") or ()),
                files=tuple(x.get("files") or ()),
                status_id=x.get("status_id"),
                resolution_notes=x.get("resolution_notes"),
                updated_at=row.updated_at,
            )
        )
    return out
