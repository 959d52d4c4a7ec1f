"""Sending what an agent composed (a reply or a note with its files), and what to ask before sending.

The app's composer hands its draft here; the CLI and the HTTP API can send the same way. A draft is
sent with the ticket version the agent saw when the composer opened, so a change made meanwhile is
refused (tickets.StaleVersion names who and when), and with the last entry the agent had read, so
a reply that crossed theirs is told before it goes out (`replies_since`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from . import attachments, tickets
from .context import Actor, Tx, reading, transaction
from .tickets import NewerEntry, PostedEntry


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
            for path in files:
                stored.append(attachments.store(tx, entry.number, path, attachments_dir, entry_id=entry.id))
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
