"""A small help desk for service tests: two departments, an admin, a plain agent, an outsider."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, select
from support.snapshots import Layers

from tui_helpdesk import clock
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Agent, Department, DepartmentAccess, Role
from tui_helpdesk.services import setup
from tui_helpdesk.services.context import Actor, resolve_actor, transaction


@dataclass
class Desk:
    engine: Engine
    admin: Actor
    agent: Actor  # Support, role Agent (no merge/delete/archive/release)
    outsider: Actor  # Billing only
    supervisor: Actor  # Support, role Supervisor

    def tx(self, actor: Actor | None = None):
        return transaction(self.engine, actor or self.admin)

    def grant(self, username: str, department: str, role: str) -> None:
        """Extended access to another department."""
        with session_scope(self.engine) as s:
            agent = s.execute(select(Agent).where(Agent.username == username)).scalar_one()
            dept = s.execute(select(Department).where(Department.name == department)).scalar_one()
            role_row = s.execute(select(Role).where(Role.name == role)).scalar_one()
            s.add(DepartmentAccess(agent_id=agent.id, department_id=dept.id, role_id=role_row.id))


@pytest.fixture
def desk(engine: Engine, db_url: str, built_once: Layers) -> Desk:
    """Built once per session and engine, then copied (tests/support/snapshots.py); clock at 2026-03-02 09:00."""
    actors = built_once(db_url, "service-desk", lambda: _build_desk(engine))
    return Desk(engine=engine, **actors)


def _build_desk(engine: Engine) -> dict[str, Actor]:
    clock.set_now("2026-03-02T09:00:00Z")  # a Monday
    with session_scope(engine) as s:
        setup.create_first_admin(s, "root", "Root Admin", "root@example.com")
        billing = Department(name="Billing")
        s.add(billing)
        s.flush()
        support = s.execute(select(Department).where(Department.name == "Support")).scalar_one()
        roles = {r.name: r for r in s.execute(select(Role)).scalars()}
        s.add(Agent(username="sam", name="Sam Agent", email="sam@example.com",
                    primary_department_id=support.id, role_id=roles["Agent"].id))
        s.add(Agent(username="olly", name="Olly Outsider", email="olly@example.com",
                    primary_department_id=billing.id, role_id=roles["Agent"].id))
        s.add(Agent(username="sue", name="Sue Super", email="sue@example.com",
                    primary_department_id=support.id, role_id=roles["Supervisor"].id))
        s.add(Department(name="Old", state="archived"))
    with session_scope(engine) as s:
        return {
            "admin": resolve_actor(s, "root", "cli"),
            "agent": resolve_actor(s, "sam", "cli"),
            "outsider": resolve_actor(s, "olly", "cli"),
            "supervisor": resolve_actor(s, "sue", "cli"),
        }
