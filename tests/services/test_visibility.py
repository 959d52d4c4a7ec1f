"""Who sees which ticket (services/visibility.py): one rule for lists, counts, views and lookups, and
`ticket.view_any`, which reaches any ticket by its number but never widens a list."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Agent, Role, Ticket
from tui_helpdesk.services import choices, filter_query, queries, setup, tickets, views, visibility
from tui_helpdesk.services.admin import people
from tui_helpdesk.services.context import PERMISSIONS, reading
from tui_helpdesk.services.errors import PermissionDenied
from tui_helpdesk.services.queries import TicketQuery


def make(desk, subject: str, department: str, assignee: str | None = None):
    with desk.tx() as tx:
        d = tickets.create(
            tx, subject=subject, body="x", contact_email="c@acme.example", department=department
        )
        if assignee:
            d = tickets.assign(tx, d.number, assignee)
    return d


@pytest.fixture
def three(desk, db_url, built_once):
    """A Support ticket, a Billing ticket and a Billing ticket assigned to sam (of Support); made once per
    session and engine, then copied (tests/support/snapshots.py)."""

    def build():
        return (
            make(desk, "Support printer", "Support"),
            make(desk, "Billing invoice", "Billing"),
            make(desk, "Billing refund for sam", "Billing", assignee="sam"),
        )

    return built_once(db_url, "visibility-three", build)


def listed(desk, actor, query: TicketQuery | None = None) -> list[str]:
    with reading(desk.engine, actor) as tx:
        return [r.number for r in queries.fetch_page(tx, query or TicketQuery(), limit=50).rows]


def counted(desk, actor, query: TicketQuery | None = None) -> int:
    with reading(desk.engine, actor) as tx:
        return queries.count(tx, query or TicketQuery())


def give_role_view_any(desk, username: str) -> None:
    """`username`'s role becomes a copy of Agent plus ticket.view_any (through the admin service)."""
    with desk.tx() as tx:
        role = people.create_role(
            tx, name="Agent who finds", permissions=[*setup.AGENT_PERMISSIONS, visibility.VIEW_ANY]
        )
    with session_scope(desk.engine) as s:
        s.execute(select(Agent).where(Agent.username == username)).scalar_one().role_id = role.id


def test_lists_and_counts_hold_the_departments_and_own_tickets_only(desk, three):
    support, billing, sams = three
    assert listed(desk, desk.agent) == [sams.number, support.number]
    assert counted(desk, desk.agent) == 2
    assert listed(desk, desk.outsider) == [sams.number, billing.number]
    assert listed(desk, desk.admin) == [sams.number, billing.number, support.number]
    # a filter narrows the scope, never widens it
    with reading(desk.engine, desk.agent) as tx:
        dept = TicketQuery(department_ids=(billing.department_id,))
        assert [r.number for r in queries.fetch_page(tx, dept).rows] == [sams.number]
        assert queries.count(tx, dept) == 1
        counts = queries.sidebar_counts(tx)
    assert counts.all == 2 and counts.open == 2 and counts.mine == 1
    assert set(counts.departments) == {support.department_id}


def test_where_visible_is_the_condition_the_lists_use(desk, three):
    for actor in (desk.admin, desk.agent, desk.outsider):
        with reading(desk.engine, actor) as tx:
            cond = visibility.where_visible(tx)
            stmt = select(Ticket.number).order_by(Ticket.id)
            numbers = tx.session.execute(stmt if cond is None else stmt.where(cond)).scalars().all()
        assert sorted(numbers) == sorted(listed(desk, actor)), actor.username
    with reading(desk.engine, desk.admin) as tx:
        assert visibility.where_visible(tx) is None


def test_a_saved_view_opened_by_an_agent_is_scoped(desk, three):
    """Issue 16 item 6: the scope lives in the service, so a view cannot drop it."""
    support, billing, sams = three
    with desk.tx(desk.agent) as tx:
        view = views.save_view(tx, "Everything", "is:all")
    with reading(desk.engine, desk.agent) as tx:
        assert [v.name for v in views.list_views(tx)] == ["Everything"]
        q = filter_query.resolve_text(tx.session, view.query, tx.actor.agent_id)
        assert [r.number for r in queries.fetch_page(tx, q).rows] == [sams.number, support.number]
        assert queries.count(tx, q) == 2
        assert views.department_names(tx) == [(support.department_id, "Support")]


def test_plain_agent_cannot_find_a_ticket_outside_scope_by_number(desk, three):
    support, billing, sams = three
    message = f"sam has no access to the department of {billing.number}"
    with reading(desk.engine, desk.agent) as tx:
        with pytest.raises(PermissionDenied, match=message):
            tickets.view(tx, billing.number)
        with pytest.raises(PermissionDenied, match=message):
            views.find_ticket(tx, billing.number)
        assert choices.tickets_matching(tx, billing.number) == []
        # assigned to them: found, wherever it is
        assert views.find_ticket(tx, sams.number) == (sams.id, sams.number)
        assert tickets.view(tx, sams.id).subject == "Billing refund for sam"


def test_view_any_finds_any_ticket_by_number_but_lists_and_writes_stay_scoped(desk, three):
    support, billing, sams = three
    give_role_view_any(desk, "sam")
    with reading(desk.engine, desk.agent) as tx:
        d = tickets.view(tx, billing.number)
        assert (d.number, d.subject, d.department) == (billing.number, "Billing invoice", "Billing")
        assert tickets.view(tx, billing.id).number == billing.number
        assert views.find_ticket(tx, billing.number) == (billing.id, billing.number)
        assert [c.name for c in choices.tickets_matching(tx, billing.number)] == [billing.number]
        assert visibility.can_find(tx, tx.session.get(Ticket, billing.id))
        assert not visibility.can_see(tx, tx.session.get(Ticket, billing.id))
    assert billing.number not in listed(desk, desk.agent)
    assert counted(desk, desk.agent) == 2
    with pytest.raises(PermissionDenied, match="no access to the department"):
        with desk.tx(desk.agent) as tx:
            tickets.reply(tx, billing.number, "finding is not working")
    with pytest.raises(PermissionDenied, match="no access to the department"):
        with desk.tx(desk.agent) as tx:
            tickets.note(tx, billing.number, "nor noting")
    assert [i.kind for i in tickets_thread(desk, billing.number)] == ["message"]


def tickets_thread(desk, number: str) -> list:
    with reading(desk.engine, desk.admin) as tx:
        return [i for i in tickets.view(tx, number).thread if i.kind != "event"]


def test_default_roles_and_the_role_editor_know_view_any(desk, three):
    support, billing, sams = three
    assert visibility.VIEW_ANY in PERMISSIONS
    assert visibility.VIEW_ANY not in setup.AGENT_PERMISSIONS
    with reading(desk.engine, desk.admin) as tx:
        roles = {r.name: r.permissions for r in people.list_roles(tx)}
    assert visibility.VIEW_ANY in roles["Supervisor"] and visibility.VIEW_ANY not in roles["Agent"]
    # the Supervisor (Support) finds the Billing ticket by number; their queue does not list it
    with reading(desk.engine, desk.supervisor) as tx:
        assert tickets.view(tx, billing.number).number == billing.number
    assert billing.number not in listed(desk, desk.supervisor)
    # an extended-access role holding it counts too
    with desk.tx() as tx:
        people.create_role(tx, name="Finder", permissions=[visibility.VIEW_ANY])
    desk.grant("olly", "Old", "Finder")
    with reading(desk.engine, desk.outsider) as tx:
        assert tickets.view(tx, support.number).number == support.number


def test_a_deactivated_agent_sees_nothing(desk, three):
    with session_scope(desk.engine) as s:
        s.execute(select(Agent).where(Agent.username == "sam")).scalar_one().active = False
    assert listed(desk, desk.agent) == []
    with reading(desk.engine, desk.agent) as tx:
        assert queries.sidebar_counts(tx).all == 0
        with pytest.raises(PermissionDenied):
            tickets.view(tx, three[2].number)


def test_an_upgraded_desk_gives_view_any_to_the_roles_that_held_every_permission(engine) -> None:
    """Migration 0006: the seeded Supervisor (every permission) keeps every permission; Agent stays as it was."""
    from alembic import command

    from tui_helpdesk import db

    cfg = db.alembic_config(engine)
    command.downgrade(cfg, "0005")
    before = [p for p in PERMISSIONS if p not in (visibility.VIEW_ANY, "entry.edit_any")]
    with session_scope(engine) as s:
        s.add(Role(name="Supervisor", permissions=before))
        s.add(Role(name="Agent", permissions=list(setup.AGENT_PERMISSIONS)))
    command.upgrade(cfg, "0006")
    with session_scope(engine) as s:
        roles = {r.name: list(r.permissions) for r in s.execute(select(Role)).scalars()}
    command.upgrade(cfg, "head")
    assert roles["Supervisor"] == [*before, visibility.VIEW_ANY]
    assert roles["Agent"] == list(setup.AGENT_PERMISSIONS)


def test_presence_speaks_only_of_tickets_in_scope_and_only_as_oneself(desk, three) -> None:
    """'Olly is replying to TCK-x' tells that TCK-x exists and is busy: an agent outside its department
    must not learn it. And a heartbeat always records the actor itself, never a name it passes."""
    from tui_helpdesk.services import presence
    from tui_helpdesk.services.context import reading

    support, billing, _ = three
    ids = [support.id, billing.id]
    presence.mark(desk.engine, desk.outsider, billing.id, "replying")
    presence.mark(desk.engine, desk.supervisor, support.id, "viewing")
    with reading(desk.engine, desk.agent) as tx:  # sam, of Support
        seen = presence.on_tickets(tx, ids)
    assert {t: s.agent_name for t, s in seen.items()} == {support.id: "Sue Super"}
    with reading(desk.engine, desk.admin) as tx:
        seen = presence.on_tickets(tx, ids)
    assert {t: (s.agent_name, s.activity) for t, s in seen.items()} == {
        support.id: ("Sue Super", "viewing"),
        billing.id: ("Olly Outsider", "replying"),
    }
    with reading(desk.engine, desk.outsider) as tx:  # one's own presence is never news
        assert billing.id not in presence.on_tickets(tx, ids)
    presence.clear(desk.engine, desk.outsider)
    with reading(desk.engine, desk.admin) as tx:
        assert set(presence.on_tickets(tx, ids)) == {support.id}
