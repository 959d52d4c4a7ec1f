"""The `/` filter line: parsing, resolving names against a real database, completion."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from support.snapshots import Layers

from tui_helpdesk.db import session_scope
from tui_helpdesk.models import (
    Agent,
    Contact,
    Department,
    HelpTopic,
    Organization,
    Priority,
    Status,
    Tag,
    Team,
    Ticket,
    TicketTag,
)
from tui_helpdesk.services.context import reading
from tui_helpdesk.services.filter_query import FilterError, Term, complete, parse, resolve, resolve_text
from tui_helpdesk.services.queries import TicketQuery, count, fetch_page

BASE = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class Ids:
    dept: dict[str, int]
    status: dict[str, int]
    prio: dict[str, int]
    agent: dict[str, int]
    team: dict[str, int]
    org: dict[str, int]
    contact: dict[str, int]
    tag: dict[str, int]
    topic: dict[str, int]
    tickets: dict[str, int]


@pytest.fixture
def ids(engine: Engine, db_url: str, built_once: Layers) -> Ids:
    """Seeded once per session and engine, then copied (tests/support/snapshots.py)."""
    return built_once(db_url, "filter-query-ids", lambda: _seed(engine))


def _seed(engine: Engine) -> Ids:
    with session_scope(engine) as s:
        depts = [Department(name=n) for n in ("Support", "Field Ops", "Finance")]
        statuses = [
            Status(name="New", state="new"),
            Status(name="In progress", state="open"),
            Status(name="Open", state="open"),
            Status(name="On hold", state="pending"),
            Status(name="Done", state="resolved"),
            Status(name="Closed", state="closed"),
        ]
        prios = [Priority(name=n, rank=r) for n, r in (("Low", 1), ("Normal", 2), ("High", 3))]
        agents = [
            Agent(username="alice", name="Alice A"),
            Agent(username="albert", name="Albert B"),
            Agent(username="bob", name="Bob"),
        ]
        teams = [Team(name="Net"), Team(name="Network Ops")]
        orgs = [Organization(name="Acme"), Organization(name="Acme Labs")]
        tags = [Tag(name="vpn"), Tag(name="vip"), Tag(name="printer")]
        s.add_all(depts + statuses + prios + agents + teams + orgs + tags)
        s.flush()
        contacts = [
            Contact(email="bob@x.com", name="Bob X", organization_id=orgs[0].id),
            Contact(email="bea@x.com", name="Bea"),
        ]
        topics = [HelpTopic(name="VPN access"), HelpTopic(name="Billing")]
        s.add_all(contacts + topics)
        s.flush()

        def ticket(key: str, i: int, **kw) -> Ticket:
            status = kw.pop("status", statuses[2])
            prio = kw.pop("prio", prios[1])
            t = Ticket(
                number=f"F-{i}",
                subject=kw.pop("subject", f"Ticket {key}"),
                department_id=kw.pop("dept", depts[0]).id,
                priority_id=prio.id,
                priority_rank=prio.rank,
                status_id=status.id,
                state=status.state,
                created_at=BASE + timedelta(minutes=i),
                updated_at=BASE + timedelta(minutes=i),
                **kw,
            )
            s.add(t)
            s.flush()
            return t

        made = {
            "vpn_open": ticket("a", 1, subject="VPN drops every hour", assignee_id=agents[0].id),
            "printer_fieldops": ticket(
                "b", 2, subject="Printer jam", dept=depts[1], prio=prios[2], team_id=teams[0].id
            ),
            "held": ticket("c", 3, status=statuses[3], contact_id=contacts[0].id, organization_id=orgs[0].id),
            "done": ticket("d", 4, status=statuses[4], topic_id=topics[0].id, assignee_id=agents[2].id),
            "overdue": ticket("e", 5, subject="vpn slow", is_overdue=True, status=statuses[1]),
            "archived": ticket("f", 6, status=statuses[5], archived=True, visible=False),
        }
        s.add_all(
            [
                TicketTag(ticket_id=made["vpn_open"].id, tag_id=tags[0].id),
                TicketTag(ticket_id=made["vpn_open"].id, tag_id=tags[1].id),
            ]
        )
        s.add(TicketTag(ticket_id=made["overdue"].id, tag_id=tags[0].id))
        return Ids(
            dept={d.name: d.id for d in depts},
            status={x.name: x.id for x in statuses},
            prio={p.name: p.id for p in prios},
            agent={a.username: a.id for a in agents},
            team={x.name: x.id for x in teams},
            org={o.name: o.id for o in orgs},
            contact={c.email: c.id for c in contacts},
            tag={x.name: x.id for x in tags},
            topic={x.name: x.id for x in topics},
            tickets={k: t.id for k, t in made.items()},
        )


# --- parsing ------------------------------------------------------------------------------------


def test_parse_terms_quotes_and_free_words():
    line = 'status:open  Prio:high dept:"Field Ops" printer "paper jam" is:overdue sort:priority'
    p = parse(line)
    assert [(t.field, t.value) for t in p.terms] == [
        ("status", "open"),
        ("priority", "high"),
        ("department", "Field Ops"),
        ("is", "overdue"),
        ("sort", "priority"),
    ]
    assert p.words == ("printer", "paper jam")
    assert p.text == 'printer "paper jam"'  # as typed: the search reads the phrase
    dept = p.terms[2]
    assert dept == Term(
        "department", "Field Ops", 'dept:"Field Ops"', line.index("dept"), line.index(" printer")
    )


def test_parse_quoted_word_with_colon_is_text_and_empty_line_is_empty():
    assert parse('"error:42" boot').words == ("error:42", "boot")
    assert parse("   ").terms == () and parse("").words == ()


@pytest.mark.parametrize(
    ("line", "term", "words"),
    [
        ("stauts:open", "stauts:open", "unknown field"),
        ("vpn dept:", "dept:", "needs a value"),
        ('tag:""', 'tag:""', "needs a value"),
    ],
)
def test_parse_errors_name_the_term(line, term, words):
    with pytest.raises(FilterError, match=words) as err:
        parse(line)
    assert err.value.term == term
    assert line[err.value.start : err.value.end] == term
    assert isinstance(err.value, ValueError)


# --- resolving ----------------------------------------------------------------------------------


def test_resolve_each_field(engine, ids):
    q = resolve_text(
        engine,
        'status:"on hold",done prio:HIGH dept:"field ops" tag:VPN tag:vip team:net org:acme '
        'contact:BOB@x.com topic:"vpn access" is:overdue sort:due jam',
        me_agent_id=ids.agent["bob"],
    )
    assert q.status_ids == (ids.status["On hold"], ids.status["Done"])
    assert q.priority_ids == (ids.prio["High"],)
    assert q.department_ids == (ids.dept["Field Ops"],)
    assert q.tag_ids == (ids.tag["vpn"], ids.tag["vip"])
    assert q.team_id == ids.team["Net"]
    assert q.organization_id == ids.org["Acme"]
    assert q.contact_id == ids.contact["bob@x.com"]
    assert q.topic_id == ids.topic["VPN access"]
    assert q.overdue is True and q.sort == "due" and q.text == "jam"


def test_status_name_wins_over_state_and_state_is_the_fallback(engine, ids):
    q = resolve_text(engine, "status:open status:pending state:new", None)
    assert q.status_ids == (ids.status["Open"],)  # a status is called "Open"
    assert q.states == ("pending", "new")  # no status is called "pending": the state is meant


def test_assignee_me_none_and_username(engine, ids):
    assert resolve_text(engine, "assignee:me", ids.agent["albert"]).assignee_id == ids.agent["albert"]
    assert resolve_text(engine, "assignee:BOB", None).assignee_id == ids.agent["bob"]
    q = resolve_text(engine, "assignee:none", None)
    assert q.unassigned and q.assignee_id is None
    with pytest.raises(FilterError, match="signed-in"):
        resolve_text(engine, "assignee:me", None)
    with pytest.raises(FilterError, match="only one"):
        resolve_text(engine, "assignee:bob assignee:alice", None)


def test_contact_by_name_and_is_values(engine, ids):
    assert resolve_text(engine, "contact:bea", None).contact_id == ids.contact["bea@x.com"]
    assert resolve_text(engine, "is:archived", None).archived is True
    assert resolve_text(engine, "is:all", None).archived is None
    assert resolve_text(engine, "is:unassigned", None).unassigned is True


def test_resolve_keeps_the_base_filters_and_sort(engine, ids):
    base = TicketQuery(department_ids=(ids.dept["Support"],), assignee_id=ids.agent["bob"], sort="oldest")
    q = resolve_text(engine, "tag:vpn", None, base)
    assert q.department_ids == (ids.dept["Support"],) and q.assignee_id == ids.agent["bob"]
    assert q.sort == "oldest" and q.tag_ids == (ids.tag["vpn"],)
    assert resolve(engine, parse(""), None, base) == base


@pytest.mark.parametrize(
    ("line", "term", "words"),
    [
        ("status:bogus", "status:bogus", "no status or state"),
        ("state:opened", "state:opened", "no state"),
        ("prio:urgent", "prio:urgent", "no priority"),
        ('dept:"Field"', 'dept:"Field"', "no department"),
        ("tag:nope", "tag:nope", "no tag"),
        ("assignee:zoe", "assignee:zoe", "no agent"),
        ("team:x", "team:x", "no team"),
        ("org:initech", "org:initech", "no organization"),
        ("contact:who@x.com", "contact:who@x.com", "no contact"),
        ("topic:x", "topic:x", "no help topic"),
        ("is:late", "is:late", "unknown value"),
        ("sort:random", "sort:random", "unknown sort"),
        ("status:open,", "status:open,", "empty value"),
    ],
)
# SQLite only: the error and the span it names are the parser's and the resolver's; the lookups behind
# them run on both engines in the end-to-end tests below.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_unknown_values_raise_filter_error_with_the_term(engine, ids, line, term, words):
    with pytest.raises(FilterError, match=words) as err:
        resolve_text(engine, "vpn " + line, None)
    assert err.value.term == term
    assert ("vpn " + line)[err.value.start : err.value.end] == term


def test_filter_line_end_to_end_lists_the_right_tickets(engine, ids):
    t = ids.tickets

    def listed(line: str, me: int | None = None) -> set[int]:
        q = resolve_text(engine, line, me)
        with reading(engine) as tx:
            rows = {r.id for r in fetch_page(tx, q, None, 50).rows}
            assert count(tx, q) == len(rows)
        return rows

    assert listed("vpn") == {t["vpn_open"], t["overdue"]}
    assert listed("tag:vpn tag:vip") == {t["vpn_open"]}
    assert listed("assignee:me", ids.agent["alice"]) == {t["vpn_open"]}
    assert listed('dept:"Field Ops" prio:high') == {t["printer_fieldops"]}
    assert listed("state:open") == {t["vpn_open"], t["printer_fieldops"], t["overdue"]}
    assert listed("status:open") == {t["vpn_open"], t["printer_fieldops"]}
    assert listed("is:overdue") == {t["overdue"]}
    assert listed("org:acme state:pending") == {t["held"]}
    assert listed("is:archived") == {t["archived"]}
    assert t["archived"] in listed("is:all") and t["archived"] not in listed("")


# --- completion ---------------------------------------------------------------------------------


def test_complete_field_names(engine, ids):
    c = complete(engine, "vpn st", 6)
    assert (c.start, c.end) == (4, 6)
    assert c.candidates == ("status:", "state:")
    assert "dept:" in complete(engine, "", 0).candidates


def test_complete_values(engine, ids):
    # "open" the state is not offered again: status:open already means the status called "Open".
    assert complete(engine, "status:o").candidates == ('status:"On hold"', "status:Open")
    assert complete(engine, "status:pe").candidates == ("status:pending",)
    assert complete(engine, "dept:f").candidates == ('dept:"Field Ops"', "dept:Finance")
    assert complete(engine, "assignee:").candidates[:2] == ("assignee:me", "assignee:none")
    assert complete(engine, "assignee:al").candidates == ("assignee:albert", "assignee:alice")
    assert complete(engine, "contact:B").candidates == ("contact:bea@x.com", "contact:bob@x.com")
    assert complete(engine, "tag:v").candidates == ("tag:vip", "tag:vpn")
    assert complete(engine, "is:").candidates == ("is:overdue", "is:archived", "is:unassigned", "is:all")
    assert complete(engine, "sort:p").candidates == ("sort:priority",)
    assert complete(engine, "bogus:x").candidates == ()


def test_complete_in_the_middle_of_the_line_and_inside_quotes(engine, ids):
    line = 'tag:vpn dept:"Fie prio:high'
    c = complete(engine, line, line.index(" prio"))
    assert line[c.start : c.end] == 'dept:"Fie'
    assert c.candidates == ('dept:"Field Ops"',)
    c = complete(engine, "status:new,o")
    assert c.candidates == ('status:new,"On hold"', "status:new,Open")
    held = resolve_text(engine, c.candidates[0], None)
    assert held.status_ids == (ids.status["New"], ids.status["On hold"]) and held.states == ()


def test_completion_escapes_like_wildcards(engine, ids):
    assert complete(engine, "dept:%").candidates == ()
    assert complete(engine, "tag:_").candidates == ()
