"""A small, deterministic help desk for the queue and app tests (inserted through the services).

Imported by tests/tui/test_queue*.py and test_app*.py; it holds no tests of its own.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from support.snapshots import Layers
from waiting import focused, press_on, settled, type_into, until

from tui_helpdesk import clock, db
from tui_helpdesk.config import Config
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Agent, Department, Role
from tui_helpdesk.services import setup, tickets
from tui_helpdesk.services.context import Actor, resolve_actor, transaction
from tui_helpdesk.tui.app import HelpdeskApp

NOW = "2026-03-02T09:00:00Z"
SUBJECTS = [
    "Printer on floor 3 jams",
    "VPN drops every hour",
    "Invoice shows the wrong VAT",
    "Cannot log in after reset",
    "Laptop battery swollen",
    "Refund for order 4411",
    "Shared drive access",
    "Monitor flickers",
    "Outlook asks for password",
    "MFA codes not arriving",
    "New starter accounts",
    "Card declined",
]
PRIOS = ["Normal", "High", "Low", "Urgent"]


@dataclass
class Desk:
    engine: Engine
    url: str
    admin: Actor
    sam: Actor
    numbers: list[str]  # in creation order
    ids: dict[str, int]  # number -> id

    def app(self, actor: Actor | None = None, **kwargs: Any) -> HelpdeskApp:
        cfg = Config(
            database_url=self.url,
            data_dir=Path("/nonexistent"),
            config_file=Path("/nonexistent/config.toml"),
            keymap=kwargs.pop("keymap", {}),
        )
        return HelpdeskApp(cfg, self.engine, actor or self.admin, poll_interval=0, **kwargs)

    def detail(self, number: str) -> Any:
        with transaction(self.engine, self.admin) as tx:
            return tickets.view(tx, number, events=False)


def build_desk(engine: Engine, url: str, n: int = 24) -> Desk:
    clock.set_now(NOW)
    with session_scope(engine) as s:
        setup.create_first_admin(s, "root", "Root Admin", "root@example.com")
        s.add(Department(name="Billing"))
        s.flush()
        support = s.execute(select(Department).where(Department.name == "Support")).scalar_one()
        role = s.execute(select(Role).where(Role.name == "Agent")).scalar_one()
        s.add(
            Agent(
                username="sam",
                name="Sam Agent",
                email="sam@example.com",
                primary_department_id=support.id,
                role_id=role.id,
            )
        )
    with session_scope(engine) as s:
        admin = resolve_actor(s, "root", "tui")
        sam = resolve_actor(s, "sam", "tui")
    numbers: list[str] = []
    ids: dict[str, int] = {}
    start = clock.now()
    for i in range(n):
        # one minute apart, so "updated" and "newest" orders are fixed
        clock.set_now(start - timedelta(hours=8) + timedelta(minutes=i))
        with transaction(engine, admin) as tx:
            d = tickets.create(
                tx,
                subject=f"{SUBJECTS[i % len(SUBJECTS)]} #{i + 1}",
                body=f"Body of ticket {i + 1}.\nSecond line.",
                contact_email=f"user{i % 5}@acme.example",
                contact_name=f"User {i % 5}",
                department="Billing" if i % 3 == 0 else "Support",
                priority=PRIOS[i % len(PRIOS)],
                tags=["vpn"] if "VPN" in SUBJECTS[i % len(SUBJECTS)] else [],
            )
            numbers.append(d.number)
            ids[d.number] = d.id
    clock.set_now(NOW)
    return Desk(engine, url, admin, sam, numbers, ids)


@pytest.fixture
def desk(sqlite_url: str, built_once: Layers) -> Iterator[Desk]:
    """build_desk's 24 tickets, built once per session and copied (tests/support/snapshots.py)."""
    engine = db.get_engine(sqlite_url)

    def build() -> dict[str, Any]:
        d = build_desk(engine, sqlite_url)
        return {"admin": d.admin, "sam": d.sam, "numbers": d.numbers, "ids": d.ids}

    yield Desk(engine, sqlite_url, **built_once(sqlite_url, "tui-queue-desk", build))
    clock.set_now(None)


async def settle(pilot: Any) -> None:
    """Until the app is quiet (see waiting.settled): before a snapshot, or a check that nothing changed."""
    await settled(pilot)


async def listed(pilot: Any) -> Any:
    """Until the queue shows its list: the view's query applied and its count known."""
    from tui_helpdesk.tui.screens.queue import QueueScreen
    from tui_helpdesk.tui.widgets.ticket_list import TicketList

    def ready() -> bool:
        screen = pilot.app.screen
        if not isinstance(screen, QueueScreen) or not screen.query_ready:
            return False
        t = screen.query_one("#tickets", TicketList)
        return t.total_known and (t.total == 0 or t.current_row is not None)

    await until(pilot, ready, "the queue to show its tickets")
    # the list's keys (j, v, G, :) go to the list only once it has the focus: it takes it after the
    # first layout, and at 80 columns the sidebar, focused first, folds only then
    return await focused(pilot, "#tickets", "the queue's list to take the keys")


async def command(pilot: Any, text: str, line: str = "colon") -> None:
    """`:text` Enter on the queue (`line="slash"`: the filter line), as an agent types it: the line opens
    from the list, and the text goes in once the line has the keys (typed at once, see type_into)."""
    await press_on(pilot, "#tickets", line)
    await type_into(pilot, "#fl-input", text)
    await pilot.press("enter")


def pilot_test(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async Pilot test on a fresh event loop (the suite has no asyncio plugin)."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return run
