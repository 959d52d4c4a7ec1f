"""The queue's query layer against a real database (SQLite and PostgreSQL via the `engine` fixture)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, event, select
from support.snapshots import Layers

from tui_helpdesk.db import session_scope
from tui_helpdesk.models import (
    Agent,
    Contact,
    Department,
    DepartmentAccess,
    HelpTopic,
    Organization,
    Priority,
    Role,
    Status,
    Tag,
    Team,
    Ticket,
    TicketTag,
)
from tui_helpdesk.services.context import Actor, Tx, reading, transaction
from tui_helpdesk.services.queries import (
    SIDEBAR_ENTRIES,
    SORTS,
    Cursor,
    TicketQuery,
    count,
    cursor_of,
    department_query,
    fetch_last_page,
    fetch_page,
    position_of,
    sidebar_counts,
    sidebar_query,
)

BASE = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
MAX_ROWS = 500  # more than the seeded tickets: a pager that loops fails instead of hanging
STATUSES = [
    ("New", "new"),
    ("Open", "open"),
    ("Waiting", "pending"),
    ("Solved", "resolved"),
    ("Closed", "closed"),
]


@dataclass
class Seeded:
    """The ids of the reference rows and a plain copy of every ticket, for computing expectations."""

    dept: dict[str, int]
    status: dict[str, int]
    prio: dict[str, int]
    agent: dict[str, int]
    team: dict[str, int]
    org: dict[str, int]
    contact: dict[str, int]
    tag: dict[str, int]
    topic: dict[str, int]
    tickets: list[dict]
    tags_of: dict[int, set[int]]


def _seed(engine: Engine, n: int = 60, seed: int = 7) -> Seeded:
    rng = random.Random(seed)
    with session_scope(engine) as s:
        depts = [Department(name=name) for name in ("Support", "Field Ops", "Billing")]
        statuses = [Status(name=name, state=state, color=f"c-{state}") for name, state in STATUSES]
        prios = [
            Priority(name=name, rank=rank, color=f"p{rank}")
            for name, rank in (("Low", 1), ("Normal", 2), ("High", 3))
        ]
        agents = [Agent(username=u, name=u.title()) for u in ("alice", "bob", "carol")]
        teams = [Team(name=name) for name in ("Net", "Desk")]
        orgs = [Organization(name=name) for name in ("Acme", "Globex")]
        tags = [Tag(name=name) for name in ("vpn", "vip", "printer")]
        s.add_all(depts + statuses + prios + agents + teams + orgs + tags)
        s.flush()
        contacts = [
            Contact(email="bob@x.com", name="Bob X", organization_id=orgs[0].id),
            Contact(email="eve@y.org", name="Eve Y", organization_id=orgs[1].id),
            Contact(email="zed@z.net", name="Zed"),
        ]
        topics = [HelpTopic(name="VPN", department_id=depts[0].id), HelpTopic(name="Billing question")]
        s.add_all(contacts + topics)
        s.flush()
        rows: list[dict] = []
        tags_of: dict[int, set[int]] = {}
        for i in range(n):
            st = statuses[rng.randrange(5)]
            pr = prios[rng.randrange(3)]
            contact = contacts[rng.randrange(3)]
            # Few distinct timestamps and ranks, so every sort has ties that only the id breaks.
            created = BASE + timedelta(hours=i // 3)
            updated = BASE + timedelta(hours=rng.randrange(12))
            due = None if rng.random() < 0.3 else BASE + timedelta(hours=rng.randrange(6))
            archived = rng.random() < 0.08
            merged = not archived and rng.random() < 0.05
            t = Ticket(
                number=f"T-{i + 1:04d}",
                subject=rng.choice(["VPN drops", "Printer jam", "Invoice 50% off?", "new_starter account"])
                + f" #{i}",
                contact_id=contact.id,
                organization_id=contact.organization_id,
                department_id=depts[rng.randrange(3)].id,
                topic_id=topics[0].id if rng.random() < 0.3 else None,
                priority_id=pr.id,
                priority_rank=pr.rank,
                status_id=st.id,
                state=st.state,
                assignee_id=None if rng.random() < 0.35 else agents[rng.randrange(3)].id,
                team_id=None if rng.random() < 0.6 else teams[rng.randrange(2)].id,
                due_at=due,
                is_overdue=st.state in ("new", "open", "pending") and rng.random() < 0.25,
                archived=archived,
                visible=not archived and not merged,
                created_at=created,
                updated_at=updated,
            )
            s.add(t)
            s.flush()
            if merged:
                t.merged_into_id = rows[0]["id"] if rows else None
                if t.merged_into_id is None:
                    t.visible = True
            row_tags = {tg.id for tg in tags if rng.random() < 0.3}
            for tag_id in row_tags:
                s.add(TicketTag(ticket_id=t.id, tag_id=tag_id))
            tags_of[t.id] = row_tags
            s.flush()
            rows.append(
                {
                    "id": t.id,
                    "subject": t.subject,
                    "contact_id": t.contact_id,
                    "organization_id": t.organization_id,
                    "department_id": t.department_id,
                    "topic_id": t.topic_id,
                    "priority_id": t.priority_id,
                    "rank": t.priority_rank,
                    "status_id": t.status_id,
                    "state": t.state,
                    "assignee_id": t.assignee_id,
                    "team_id": t.team_id,
                    "due": t.due_at,
                    "overdue": t.is_overdue,
                    "archived": t.archived,
                    "visible": t.visible,
                    "merged": t.merged_into_id,
                    "created": t.created_at,
                    "updated": t.updated_at,
                }
            )
        return Seeded(
            dept={d.name: d.id for d in depts},
            status={x.name: x.id for x in statuses},
            prio={p.name: p.id for p in prios},
            agent={a.username: a.id for a in agents},
            team={x.name: x.id for x in teams},
            org={o.name: o.id for o in orgs},
            contact={c.email: c.id for c in contacts},
            tag={x.name: x.id for x in tags},
            topic={x.name: x.id for x in topics},
            tickets=rows,
            tags_of=tags_of,
        )


@pytest.fixture
def data(engine: Engine, db_url: str, built_once: Layers) -> Seeded:
    """The seeded desk, built once per session and engine and copied into each test's database."""
    return built_once(db_url, "queries-seed", lambda: _seed(engine))


@pytest.fixture
def tx(engine: Engine, data: Seeded) -> Iterator[Tx]:
    """A read transaction of the system actor, who sees every ticket."""
    with reading(engine) as tx:
        yield tx


def agent_in(engine: Engine, username: str, primary: int | None, extra: tuple[int, ...] = ()) -> Actor:
    """Make `username` a plain agent of `primary` with extended access to `extra`; their Actor."""
    with session_scope(engine) as s:
        agent = s.execute(select(Agent).where(Agent.username == username)).scalar_one()
        role = Role(name=f"role of {username}", permissions=["ticket.reply"])
        s.add(role)
        s.flush()
        agent.primary_department_id = primary
        agent.role_id = role.id
        for dept in extra:
            s.add(DepartmentAccess(agent_id=agent.id, department_id=dept, role_id=role.id))
        s.flush()
        return Actor(agent_id=agent.id, username=username)


def expected_order(rows: list[dict], sort: str) -> list[int]:
    if sort == "updated":
        return [r["id"] for r in sorted(rows, key=lambda r: (r["updated"], r["id"]), reverse=True)]
    if sort == "newest":
        return [r["id"] for r in sorted(rows, key=lambda r: (r["created"], r["id"]), reverse=True)]
    if sort == "oldest":
        return [r["id"] for r in sorted(rows, key=lambda r: (r["created"], r["id"]))]
    if sort == "priority":
        return [r["id"] for r in sorted(rows, key=lambda r: (r["rank"], r["updated"], r["id"]), reverse=True)]
    dated = sorted((r for r in rows if r["due"] is not None), key=lambda r: (r["due"], r["id"]))
    undated = sorted((r for r in rows if r["due"] is None), key=lambda r: r["id"])
    return [r["id"] for r in dated + undated]


def page_forward(tx: Tx, q: TicketQuery, limit: int) -> list[int]:
    ids: list[int] = []
    page = fetch_page(tx, q, None, limit)
    ids += [r.id for r in page.rows]
    while not page.at_end:
        page = fetch_page(tx, q, page.next, limit)
        ids += [r.id for r in page.rows]
        assert len(ids) <= MAX_ROWS, "paging does not reach the end"
    return ids


def page_backward(tx: Tx, q: TicketQuery, limit: int) -> list[int]:
    pages: list[list[int]] = []
    page = fetch_last_page(tx, q, limit)
    pages.append([r.id for r in page.rows])
    while not page.at_start:
        page = fetch_page(tx, q, page.prev, limit, backward=True)
        pages.append([r.id for r in page.rows])
        assert sum(map(len, pages)) <= MAX_ROWS, "paging back does not reach the start"
    return [i for p in reversed(pages) for i in p]


def visible(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["visible"]]


@pytest.mark.parametrize("sort", SORTS)
def test_each_sort_pages_forward_and_back_without_losing_or_repeating_a_row(tx, data, sort):
    q = TicketQuery(sort=sort)
    want = expected_order(visible(data.tickets), sort)
    assert len(want) > 40
    assert page_forward(tx, q, 7) == want
    assert page_backward(tx, q, 7) == want
    assert [r.id for r in fetch_last_page(tx, q, 5).rows] == want[-5:]


def test_due_sort_puts_tickets_without_due_date_last(tx, data):
    rows = page_forward(tx, TicketQuery(sort="due"), 100)
    due = {r["id"]: r["due"] for r in data.tickets}
    first_undated = next(i for i, tid in enumerate(rows) if due[tid] is None)
    assert all(due[tid] is None for tid in rows[first_undated:])
    assert all(due[tid] is not None for tid in rows[:first_undated])


def test_page_flags_and_cursors(tx, data):
    q = TicketQuery()
    want = expected_order(visible(data.tickets), "updated")
    first = fetch_page(tx, q, None, 10)
    assert first.at_start and first.prev is None and not first.at_end
    assert first.next == Cursor((first.rows[-1].updated_at,), first.rows[-1].id)
    second = fetch_page(tx, q, first.next, 10)
    assert [r.id for r in second.rows] == want[10:20]
    assert not second.at_start and second.prev is not None
    # Scrolling up from the second page gives the first page back.
    assert fetch_page(tx, q, second.prev, 10, backward=True).rows == first.rows
    last = fetch_last_page(tx, q, 10)
    assert last.at_end and last.next is None and not last.at_start
    # A cursor made from any row resumes right after it.
    row = second.rows[3]
    assert [r.id for r in fetch_page(tx, q, cursor_of(row, "updated"), 3).rows] == want[14:17]


def test_exact_page_boundary_reports_end(tx, data):
    q = TicketQuery(states=("new",))
    n = count(tx, q)
    assert n > 0
    page = fetch_page(tx, q, None, n)
    assert page.at_end and len(page.rows) == n
    page = fetch_page(tx, q, None, n - 1) if n > 1 else page
    assert (not page.at_end) or n == 1


def test_empty_result(tx, data):
    page = fetch_page(tx, TicketQuery(text="no ticket says this"), None, 10)
    assert page.rows == () and page.at_end and page.at_start and page.next is None and page.prev is None
    assert fetch_last_page(tx, TicketQuery(text="no ticket says this")).rows == ()


def test_rows_carry_the_joined_names(tx, data):
    page = fetch_page(tx, TicketQuery(), None, 100)
    by_id = {r["id"]: r for r in data.tickets}
    names = {v: k for k, v in data.dept.items()}
    agents = {v: k.title() for k, v in data.agent.items()}
    for row in page.rows:
        src = by_id[row.id]
        assert row.department_name == names[src["department_id"]]
        assert row.assignee_name == (agents[src["assignee_id"]] if src["assignee_id"] else "")
        assert row.state == src["state"] and row.status_color == f"c-{src['state']}"
        assert row.priority_rank == src["rank"] and row.priority_color == f"p{src['rank']}"
        assert row.requester_email in data.contact
        assert row.organization_name in ("Acme", "Globex", "")
        assert row.updated_at == src["updated"] and row.due_at == src["due"]


def _filter_cases(d: Seeded) -> list[tuple[str, TicketQuery, object]]:
    alice, bob = d.agent["alice"], d.agent["bob"]
    vpn, vip = d.tag["vpn"], d.tag["vip"]
    return [
        ("state", TicketQuery(states=("open", "pending")), lambda r: r["state"] in ("open", "pending")),
        (
            "status",
            TicketQuery(status_ids=(d.status["Solved"],)),
            lambda r: r["status_id"] == d.status["Solved"],
        ),
        (
            "priority",
            TicketQuery(priority_ids=(d.prio["High"], d.prio["Low"])),
            lambda r: r["rank"] in (1, 3),
        ),
        (
            "department",
            TicketQuery(department_ids=(d.dept["Field Ops"],)),
            lambda r: r["department_id"] == d.dept["Field Ops"],
        ),
        ("assignee", TicketQuery(assignee_id=alice), lambda r: r["assignee_id"] == alice),
        ("unassigned", TicketQuery(unassigned=True), lambda r: r["assignee_id"] is None),
        ("team", TicketQuery(team_id=d.team["Net"]), lambda r: r["team_id"] == d.team["Net"]),
        ("org", TicketQuery(organization_id=d.org["Acme"]), lambda r: r["organization_id"] == d.org["Acme"]),
        (
            "contact",
            TicketQuery(contact_id=d.contact["eve@y.org"]),
            lambda r: r["contact_id"] == d.contact["eve@y.org"],
        ),
        ("tags all", TicketQuery(tag_ids=(vpn, vip)), lambda r: {vpn, vip} <= d.tags_of[r["id"]]),
        ("topic", TicketQuery(topic_id=d.topic["VPN"]), lambda r: r["topic_id"] == d.topic["VPN"]),
        ("overdue", TicketQuery(overdue=True), lambda r: r["overdue"]),
        # free words search the whole ticket (services/search.py): the tag "printer" counts too
        (
            "text",
            TicketQuery(text="printer"),
            lambda r: "printer" in r["subject"].lower() or d.tag["printer"] in d.tags_of[r["id"]],
        ),
        ("text %", TicketQuery(text="50%"), lambda r: "50%" in r["subject"]),
        ("text _", TicketQuery(text="new_starter"), lambda r: "new_starter" in r["subject"]),
        (
            "dept+state",
            TicketQuery(department_ids=(d.dept["Support"],), states=("open",)),
            lambda r: r["department_id"] == d.dept["Support"] and r["state"] == "open",
        ),
        (
            "assignee+state",
            TicketQuery(assignee_id=bob, states=("new", "open")),
            lambda r: r["assignee_id"] == bob and r["state"] in ("new", "open"),
        ),
    ]


@pytest.mark.parametrize("sort", ["updated", "priority", "due"])
def test_each_filter_lists_exactly_the_matching_tickets(tx, data, sort):
    for label, q, pred in _filter_cases(data):
        q = replace(q, sort=sort)
        want = expected_order([r for r in visible(data.tickets) if pred(r)], sort)
        assert want or label in ("text _",), f"{label}: test data has no match"
        assert page_forward(tx, q, 4) == want, label
        assert page_backward(tx, q, 4) == want, label
        assert count(tx, q) == len(want), label


def test_text_wildcards_are_literal(tx, data):
    vis = visible(data.tickets)
    assert any("new_st" in r["subject"] for r in vis) and any("50% off" in r["subject"] for r in vis)
    # As LIKE patterns these would match "new_starter" and "50% off"; as words they match nothing.
    assert count(tx, TicketQuery(text="n_w")) == 0
    assert count(tx, TicketQuery(text="0%o")) == 0
    # words, not substrings: new_starter is the words "new" and "starter", found by a prefix
    assert count(tx, TicketQuery(text="NEW_ST*")) == sum(1 for r in vis if "new_st" in r["subject"])


def test_archived_scopes(tx, data):
    rows = data.tickets
    assert {r["archived"] for r in rows} == {True, False}
    assert any(r["merged"] for r in rows)
    for archived, pred in (
        (False, lambda r: r["visible"]),
        (True, lambda r: r["archived"]),
        (None, lambda r: True),
    ):
        for sort in SORTS:
            q = TicketQuery(archived=archived, sort=sort)
            want = expected_order([r for r in rows if pred(r)], sort)
            assert page_forward(tx, q, 6) == want, (archived, sort)
            assert page_backward(tx, q, 6) == want, (archived, sort)
            assert count(tx, q) == len(want)
    default = {r.id for r in fetch_page(tx, TicketQuery(), None, 500).rows}
    assert not any(r["id"] in default for r in rows if r["merged"] or r["archived"])


def test_an_agent_lists_and_counts_their_departments_and_own_tickets_only(engine, data):
    alice, support = data.agent["alice"], data.dept["Support"]
    actor = agent_in(engine, "alice", support)
    vis = visible(data.tickets)
    mine = [r for r in vis if r["department_id"] == support or r["assignee_id"] == alice]
    assert any(r["assignee_id"] == alice and r["department_id"] != support for r in vis)
    assert len(mine) < len(vis)
    with reading(engine, actor) as tx:
        for sort in SORTS:
            want = expected_order(mine, sort)
            assert page_forward(tx, TicketQuery(sort=sort), 5) == want, sort
            assert page_backward(tx, TicketQuery(sort=sort), 5) == want, sort
        assert count(tx, TicketQuery()) == len(mine)
        # the scope holds under every other filter, and a filter cannot widen it
        for label, q, pred in _filter_cases(data):
            want = expected_order([r for r in mine if pred(r)], "updated")
            assert page_forward(tx, q, 4) == want, label
            assert count(tx, q) == len(want), label
        other = TicketQuery(department_ids=(data.dept["Billing"],))
        assert {r.assignee_name for r in fetch_page(tx, other, None, 100).rows} <= {"Alice"}
        last = fetch_page(tx, TicketQuery(), None, 200).rows[-1]
        assert position_of(tx, TicketQuery(), cursor_of(last, "updated")) == len(mine) - 1


def test_extended_access_adds_a_department(engine, data):
    bob, billing, field_ops = data.agent["bob"], data.dept["Billing"], data.dept["Field Ops"]
    actor = agent_in(engine, "bob", billing, extra=(field_ops,))
    want = [
        r
        for r in visible(data.tickets)
        if r["department_id"] in (billing, field_ops) or r["assignee_id"] == bob
    ]
    with reading(engine, actor) as tx:
        assert page_forward(tx, TicketQuery(), 7) == expected_order(want, "updated")
        assert count(tx, TicketQuery()) == len(want)


def test_an_agent_without_departments_sees_only_their_own_tickets(engine, data):
    carol = data.agent["carol"]
    actor = agent_in(engine, "carol", None)
    want = [r for r in visible(data.tickets) if r["assignee_id"] == carol]
    with reading(engine, actor) as tx:
        assert page_forward(tx, TicketQuery(), 6) == expected_order(want, "updated")
        assert count(tx, TicketQuery()) == len(want)
    nobody = Actor(agent_id=None, username="ghost")
    with reading(engine, nobody) as tx:
        assert count(tx, TicketQuery()) == 0 and fetch_page(tx, TicketQuery(), None, 5).rows == ()


def test_position_of_is_the_row_index(tx, data):
    for sort in SORTS:
        q = TicketQuery(sort=sort)
        want = expected_order(visible(data.tickets), sort)
        rows = fetch_page(tx, q, None, 200).rows
        assert [r.id for r in rows] == want
        for index in (0, 1, 17, len(rows) - 1):
            assert position_of(tx, q, cursor_of(rows[index], sort)) == index, (sort, index)


def test_sidebar_counts_match_the_lists(engine, data):
    alice = data.agent["alice"]
    vis = visible(data.tickets)
    active = ("new", "open", "pending")
    with session_scope(engine) as s:
        s.get(Agent, alice).is_admin = True
    with reading(engine, Actor(agent_id=alice, username="alice", is_admin=True)) as tx:
        c = sidebar_counts(tx)
        for name in SIDEBAR_ENTRIES:
            assert count(tx, sidebar_query(name, alice)) == getattr(c, name), name
        for d, n in c.departments.items():
            assert count(tx, department_query(d)) == n
    assert c.mine == sum(1 for r in vis if r["assignee_id"] == alice and r["state"] in active)
    assert c.unassigned == sum(1 for r in vis if r["assignee_id"] is None and r["state"] in ("new", "open"))
    assert c.open == sum(1 for r in vis if r["state"] in ("new", "open"))
    assert c.pending == sum(1 for r in vis if r["state"] == "pending")
    assert c.overdue == sum(1 for r in vis if r["overdue"] and r["state"] in active)
    assert c.resolved == sum(1 for r in vis if r["state"] == "resolved")
    assert c.all == len(vis)
    assert c.departments == {
        d: sum(1 for r in vis if r["department_id"] == d and r["state"] in ("new", "open"))
        for d in data.dept.values()
    }


def test_sidebar_counts_respect_the_agents_scope(engine, data):
    alice, billing = data.agent["alice"], data.dept["Billing"]
    actor = agent_in(engine, "alice", billing)
    vis = [r for r in visible(data.tickets) if r["department_id"] == billing or r["assignee_id"] == alice]
    with reading(engine, actor) as tx:
        c = sidebar_counts(tx)
        for name in SIDEBAR_ENTRIES:
            assert count(tx, sidebar_query(name, alice)) == getattr(c, name), name
    assert c.all == len(vis) < len(visible(data.tickets))
    assert c.open == sum(1 for r in vis if r["state"] in ("new", "open"))
    assert c.mine == sum(
        1 for r in vis if r["assignee_id"] == alice and r["state"] in ("new", "open", "pending")
    )
    assert c.departments == {
        billing: sum(1 for r in vis if r["department_id"] == billing and r["state"] in ("new", "open"))
    }


def test_invalid_queries_are_refused():
    with pytest.raises(ValueError, match="sort"):
        TicketQuery(sort="random")
    with pytest.raises(ValueError, match="state"):
        TicketQuery(states=("opened",))
    with pytest.raises(ValueError, match="sidebar"):
        sidebar_query("starred", 1)


def test_works_inside_a_write_transaction(engine, data):
    with transaction(engine, Actor.system()) as tx:
        page = fetch_page(tx, TicketQuery(), None, 5)
        assert len(page.rows) == 5 and count(tx, TicketQuery()) == len(visible(data.tickets))


def test_the_priority_sort_under_a_priority_filter_reads_only_those_ranks(engine, data):
    """prio:high sort:priority read every ticket of a higher rank before the first High one (at 1M it
    walked all the Emergency tickets: 265 ms CPU); the page's scan names the chosen rank, and its rows
    are those the filter lists (the test above checks their order)."""
    scans: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        if "ORDER BY" in statement and "LIMIT" in statement:
            scans.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with reading(engine) as tx:
            page = fetch_page(tx, TicketQuery(priority_ids=(data.prio["High"],), sort="priority"), None, 5)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert page.rows and {r.priority_name for r in page.rows} == {"High"}
    assert scans and all("priority_rank =" in s for s in scans)
