"""The short lists a picker offers: statuses, priorities, departments, agents, teams, topics, ...

Each returns plain `Choice` rows in the order a person expects (statuses by their order,
priorities most urgent first, names alphabetically), so a screen never queries the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from tui_helpdesk.models import (
    Agent,
    Classification,
    Department,
    HelpTopic,
    Organization,
    Priority,
    SLAPlan,
    Status,
    Team,
    Ticket,
)

from . import visibility
from .context import Tx
from .errors import NotFound
from .queries import Bind, TicketQuery, _connect, fetch_page

TICKET_REF = re.compile(r"^\s*:?#?(?:[A-Za-z_]+-)?(\d+)\s*$")


@dataclass(frozen=True)
class Choice:
    id: int
    name: str
    hint: str = ""  # shown dimmed beside the name: a state, a login, a subject


def statuses(bind: Bind) -> list[Choice]:
    t = Status.__table__.c
    stmt = select(t.id, t.name, t.state).where(t.archived.is_(False)).order_by(t.sort_order, t.id)
    with _connect(bind) as conn:
        return [Choice(r.id, r.name, r.state) for r in conn.execute(stmt)]


def priorities(bind: Bind) -> list[Choice]:
    t = Priority.__table__.c
    with _connect(bind) as conn:
        return [Choice(r.id, r.name) for r in conn.execute(select(t.id, t.name).order_by(t.rank.desc()))]


def departments(bind: Bind) -> list[Choice]:
    """Departments a ticket may move to (active ones only)."""
    t = Department.__table__.c
    stmt = select(t.id, t.name).where(t.state == "active").order_by(t.name)
    with _connect(bind) as conn:
        return [Choice(r.id, r.name) for r in conn.execute(stmt)]


def agents(bind: Bind) -> list[Choice]:
    t = Agent.__table__.c
    stmt = select(t.id, t.name, t.username).where(t.active.is_(True)).order_by(t.name)
    with _connect(bind) as conn:
        return [Choice(r.id, r.name, r.username) for r in conn.execute(stmt)]


def teams(bind: Bind) -> list[Choice]:
    t = Team.__table__.c
    stmt = select(t.id, t.name).where(t.active.is_(True)).order_by(t.name)
    with _connect(bind) as conn:
        return [Choice(r.id, r.name) for r in conn.execute(stmt)]


def topics(bind: Bind) -> list[Choice]:
    t = HelpTopic.__table__.c
    stmt = select(t.id, t.name).where(t.active.is_(True)).order_by(t.name)
    with _connect(bind) as conn:
        return [Choice(r.id, r.name) for r in conn.execute(stmt)]


def topic_paths(bind: Bind) -> list[Choice]:
    """Active help topics as the tree they are: each named by its path ("Accounts › Password reset"),
    a parent before its children."""
    t = HelpTopic.__table__.c
    with _connect(bind) as conn:
        rows = {r.id: r for r in conn.execute(select(t.id, t.name, t.parent_id, t.active))}

    def path(topic_id: int) -> list[str]:
        names: list[str] = []
        seen: set[int] = set()
        current: int | None = topic_id
        while current is not None and current in rows and current not in seen:  # a cycle stops the walk
            seen.add(current)
            names.append(rows[current].name)
            current = rows[current].parent_id
        return names[::-1]

    paths = [(path(r.id), r.id) for r in rows.values() if r.active]
    paths.sort(key=lambda p: [n.lower() for n in p[0]])
    return [Choice(topic_id, " › ".join(names)) for names, topic_id in paths]


def organizations(bind: Bind) -> list[Choice]:
    t = Organization.__table__.c
    stmt = select(t.id, t.name).where(t.archived.is_(False)).order_by(t.name)
    with _connect(bind) as conn:
        return [Choice(r.id, r.name) for r in conn.execute(stmt)]


def sla_plans(bind: Bind) -> list[Choice]:
    t = SLAPlan.__table__.c
    stmt = select(t.id, t.name).where(t.active.is_(True)).order_by(t.name)
    with _connect(bind) as conn:
        return [Choice(r.id, r.name) for r in conn.execute(stmt)]


def classifications(bind: Bind, kind: str, parent_id: int | None) -> list[Choice]:
    """Nodes of the Category -> Type -> Item cascade under the given parent (categories: none)."""
    t = Classification.__table__.c
    stmt = select(t.id, t.name).where(t.kind == kind, t.active.is_(True)).order_by(t.name)
    if kind != "category":
        stmt = stmt.where(t.parent_id == parent_id)
    with _connect(bind) as conn:
        return [Choice(r.id, r.name) for r in conn.execute(stmt)]


def ticket_number(bind: Bind, ticket_id: int) -> str:
    """The number of a ticket known by id.

    lookup.ticket() reads bare digits as a ticket *number* first, so passing an id there finds the
    wrong ticket once ids reach the number range; screens that hold ids resolve them here first.
    """
    t = Ticket.__table__.c
    with _connect(bind) as conn:
        number = conn.execute(select(t.number).where(t.id == ticket_id)).scalar()
    if number is None:
        raise NotFound(f"no ticket with id {ticket_id}")
    return str(number)


def tickets_matching(tx: Tx, text: str, *, exclude_id: int | None = None, limit: int = 20) -> list[Choice]:
    """Tickets for the link and merge pickers: the one whose number is `text` if the actor may find it
    (visibility.can_find), then those they see whose subject contains it."""
    text = text.strip()
    if not text:
        return []
    out: dict[int, Choice] = {}
    if TICKET_REF.match(text):
        from . import lookup

        found = lookup.ticket_by_number(tx.session, text)
        if found is not None and visibility.can_find(tx, found):
            out[found.id or 0] = Choice(found.id or 0, found.number, found.subject)
    for r in fetch_page(tx, TicketQuery(text=text, archived=None), limit=limit).rows:
        out.setdefault(r.id, Choice(r.id, r.number, r.subject))
    if exclude_id is not None:
        out.pop(exclude_id, None)
    return list(out.values())[:limit]
