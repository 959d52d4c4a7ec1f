"""Canned responses: which ones an agent is offered, and variables filled from the ticket."""

from __future__ import annotations

from sqlalchemy import select

from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Department
from tui_helpdesk.models.views import CannedResponse
from tui_helpdesk.services import canned, tickets
from tui_helpdesk.services.context import reading


def _add(desk, **values) -> None:
    with session_scope(desk.engine) as s:
        s.add(CannedResponse(**values))


def test_offers_shared_own_and_department_responses_only(desk) -> None:
    with session_scope(desk.engine) as s:
        depts = {d.name: d.id for d in s.execute(select(Department)).scalars()}
    _add(desk, title="Shared everywhere", body="a")
    _add(desk, title="Support only", body="b", department_id=depts["Support"])
    _add(desk, title="Billing only", body="c", department_id=depts["Billing"])
    _add(desk, title="Sam's own", body="d", owner_id=desk.agent.agent_id)
    _add(desk, title="Sue's own", body="e", owner_id=desk.supervisor.agent_id)
    _add(desk, title="Retired", body="f", active=False)
    titles = [c.title for c in canned.list_for(desk.engine, desk.agent.agent_id, depts["Support"])]
    assert titles == ["Sam's own", "Shared everywhere", "Support only"]


def test_without_the_table_there_is_nothing_to_offer(desk) -> None:
    assert canned.list_for(desk.engine, desk.agent.agent_id, 1) == []


def test_variables_are_filled_from_the_ticket_and_the_agent(desk) -> None:
    with desk.tx() as tx:
        t = tickets.create(
            tx,
            subject="VPN down",
            body="help",
            contact_email="alice@acme.com",
            contact_name="Alice Doe",
            department="Support",
        )
    body = "Hi %{recipient.name}, re %{ticket.number} (%{ticket.subject}). %{agent.name} %{nonsense}"
    with reading(desk.engine, desk.agent) as tx:
        filled = canned.fill(tx, body, tickets.view(tx, t.number))
    assert filled == f"Hi Alice Doe, re {t.number} (VPN down). Sam Agent %{{nonsense}}"
    assert canned.unknown_variables(filled) == ["nonsense"]


def test_expand_leaves_unknown_names_and_accepts_spaces() -> None:
    assert canned.expand("%{ ticket.number } %{x.y}", {"ticket.number": "TCK-1"}) == "TCK-1 %{x.y}"
