"""New work for an agent since they last looked: tickets arriving in their views, customers' replies on
their tickets. The queue asks each time the change counter moves (issue 12 item 10).

Cheap at any size: the marks are the newest ids of the event and entry tables, so "since" is a range
on each primary key holding only what happened since the last look; the tickets it names (a few) are
then tested against each view's filters by id, never by scanning a view.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select

from tui_helpdesk.models import Ticket, TicketEntry, TicketEvent

from . import visibility
from .context import Tx
from .queries import TicketQuery, _connect, conditions

_T = Ticket.__table__.c
_E = TicketEntry.__table__.c
_V = TicketEvent.__table__.c
# the events that can bring a ticket into a view (a new ticket, a move, a change of hands or state)
ARRIVING = ("created", "assigned", "transferred", "status", "reopened", "released", "restored")
LIMIT = 500  # events or entries read per look; a busier gap is summed up by what was read


@dataclass(frozen=True)
class Marks:
    event: int
    entry: int


@dataclass(frozen=True)
class News:
    marks: Marks
    # view key -> ids of tickets that arrived in it or changed in it by someone else, newest first
    in_views: dict[str, tuple[int, ...]] = field(default_factory=dict)
    replies: tuple[str, ...] = ()  # numbers of the actor's tickets a customer wrote on
    numbers: dict[int, str] = field(default_factory=dict)  # ticket id -> number, for the words


def marks(tx: Tx) -> Marks:
    """Where "since now" starts: the newest event and entry ids."""
    with _connect(tx.session) as conn:
        event = conn.execute(select(func.max(_V.id))).scalar() or 0
        entry = conn.execute(select(func.max(_E.id))).scalar() or 0
    return Marks(int(event), int(entry))


def since(tx: Tx, seen: Marks, views: Mapping[str, TicketQuery]) -> News:
    """What arrived after `seen`, by others than the actor: per view (the queries the actor's sidebar
    lists) the tickets now in it, and the numbers of the actor's tickets a customer replied on."""
    me = tx.actor.agent_id
    with _connect(tx.session) as conn:
        events = conn.execute(
            select(_V.id, _V.ticket_id, _V.agent_id, _V.kind)
            .where(_V.id > seen.event)
            .order_by(_V.id)
            .limit(LIMIT)
        ).all()
        entries = conn.execute(
            select(_E.id, _E.ticket_id, _E.kind).where(_E.id > seen.entry).order_by(_E.id).limit(LIMIT)
        ).all()
        new_marks = Marks(
            max([seen.event, *(r.id for r in events)]), max([seen.entry, *(r.id for r in entries)])
        )
        touched: dict[int, None] = {}
        for r in reversed(events):
            if r.kind in ARRIVING and (me is None or r.agent_id != me):
                touched[r.ticket_id] = None
        # a ticket the actor opened carries the customer's words as its first message: not news to them
        opened_by_me = {r.ticket_id for r in events if r.kind == "created" and me is not None and r.agent_id == me}
        messages = [r.ticket_id for r in reversed(entries) if r.kind == "message" and r.ticket_id not in opened_by_me]
        for ticket_id in messages:
            touched[ticket_id] = None
        if not touched:
            return News(new_marks)
        ids = list(touched)
        scope = visibility.scope_of(tx)
        in_views: dict[str, tuple[int, ...]] = {}
        for key, query in views.items():
            try:
                conds = conditions(query, scope, conn)
            except ValueError:  # a view the actor cannot build any more (a deleted status): no news
                continue
            found = set(conn.execute(select(_T.id).where(_T.id.in_(ids), *conds)).scalars())
            if found:
                in_views[key] = tuple(i for i in ids if i in found)
        shown = {i for found in in_views.values() for i in found}
        mine: set[int] = set()
        if me is not None and messages:
            visible = visibility.condition(scope)
            stmt = select(_T.id).where(_T.id.in_(set(messages)), _T.assignee_id == me)
            mine = set(conn.execute(stmt.where(visible) if visible is not None else stmt).scalars())
        wanted = shown | mine
        numbers: dict[int, str] = {}
        if wanted:
            numbers = {int(i): str(n) for i, n in conn.execute(select(_T.id, _T.number).where(_T.id.in_(wanted)))}
    replies = tuple(dict.fromkeys(numbers[i] for i in messages if i in mine))
    return News(new_marks, in_views, replies, numbers)
