"""Who has which ticket open (collision warning): the ticket screen writes, the queue reads.

Presence rows are heartbeats: a row older than STALE_AFTER is ignored, so a crashed app never
leaves a ticket marked as "being replied to" for long. Writes do not bump the change counter:
the queue reads presence for its visible rows on every poll anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine, delete, select

from tui_helpdesk import clock
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Agent, Presence, Ticket

from .context import Actor, Tx
from .queries import _connect
from .visibility import where_visible

ACTIVITIES = ("viewing", "replying", "noting")
STALE_AFTER = timedelta(seconds=90)


@dataclass(frozen=True)
class Seen:
    ticket_id: int
    agent_id: int
    agent_name: str
    activity: str


def mark(engine: Engine, actor: Actor, ticket_id: int, activity: str = "viewing") -> None:
    """Record (or refresh) that the actor has the ticket open; call every ~30 s while it is.

    The row is always the actor's own: nobody can mark someone else as replying."""
    if activity not in ACTIVITIES:
        raise ValueError(f"unknown activity {activity!r}")
    agent_id = actor.agent_id
    if agent_id is None:
        return
    with session_scope(engine) as s:
        row = s.get(Presence, (ticket_id, agent_id))
        if row is None:
            row = Presence(ticket_id=ticket_id, agent_id=agent_id)
        row.activity = activity
        row.seen_at = clock.now()
        s.add(row)


def clear(engine: Engine, actor: Actor, ticket_id: int | None = None) -> None:
    """The actor left the ticket (or, with no ticket, the app)."""
    if actor.agent_id is None:
        return
    with session_scope(engine) as s:
        stmt = delete(Presence).where(Presence.agent_id == actor.agent_id)
        if ticket_id is not None:
            stmt = stmt.where(Presence.ticket_id == ticket_id)
        s.execute(stmt)


def on_tickets(tx: Tx, ticket_ids: Iterable[int]) -> dict[int, Seen]:
    """For each ticket the actor may see that someone else has open, the most telling presence
    (replying beats viewing). Tickets outside the actor's scope say nothing, whoever is on them."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return {}
    p, a, t = Presence.__table__.c, Agent.__table__.c, Ticket.__table__
    stmt = (
        select(p.ticket_id, p.agent_id, a.name, p.activity)
        .join(Agent.__table__, a.id == p.agent_id)
        .join(t, t.c.id == p.ticket_id)
        .where(p.ticket_id.in_(ids), p.seen_at >= clock.now() - STALE_AFTER)
        .order_by(p.ticket_id, p.agent_id)
    )
    visible = where_visible(tx)
    if visible is not None:
        stmt = stmt.where(visible)
    if tx.actor.agent_id is not None:
        stmt = stmt.where(p.agent_id != tx.actor.agent_id)
    out: dict[int, Seen] = {}
    with _connect(tx.session) as conn:
        for r in conn.execute(stmt):
            seen = Seen(r.ticket_id, r.agent_id, r.name, r.activity)
            best = out.get(r.ticket_id)
            if best is None or (best.activity == "viewing" and seen.activity != "viewing"):
                out[r.ticket_id] = seen
    return out
