"""A real uvicorn server on 127.0.0.1 (a free port, in a thread) over a desk on SQLite and PostgreSQL.

One server and one desk per test module and engine (`api`): starting uvicorn and building the desk cost
more than most tests here. Tests that change the desk make their own tickets, so they do not depend on
each other's order. The desk: root (admin), sam (Support, role Agent), olly (Billing, role Agent), each
with a key; a Support ticket with a reply and a note, a Billing ticket.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import Engine, select
from support import databases

from tui_helpdesk import db
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Agent, Department, Role, Ticket
from tui_helpdesk.services import api_keys, setup, tickets
from tui_helpdesk.services.context import Actor, resolve_actor, transaction

# httpx, uvicorn and the API app (FastAPI, starlette) are imported where they are used, not here: every
# xdist worker collects this conftest with the suite, and only the workers that run an API test need them
# (~0.4 s of CPU to import).
if TYPE_CHECKING:
    import httpx

RATE_LIMIT = 5
MAX_BODY = 256 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThreadServer:
    """uvicorn.Server in a thread: started and waited for, stopped and joined."""

    def __init__(self, app: Any, port: int) -> None:
        import uvicorn

        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="api-test-server", daemon=True)
        self.url = f"http://127.0.0.1:{port}"

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test API server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@dataclass
class Desk:
    url: str
    engine: Engine
    app: Any
    keys: dict[str, str]  # username -> API key
    actors: dict[str, Actor]
    support: str  # a Support ticket's number (a reply and a note on it)
    billing: str
    note_id: int
    reply_id: int
    rate_limit: int = RATE_LIMIT
    max_body: int = MAX_BODY

    def client(self, who: str | None = "root", **headers: str) -> httpx.Client:
        import httpx

        if who is not None:
            headers["Authorization"] = f"Bearer {self.keys[who]}"
        return httpx.Client(base_url=self.url + "/api", headers=headers, timeout=30)

    def new_ticket(self, department: str = "Support", subject: str = "A ticket") -> str:
        with transaction(self.engine, self.actors["root"]) as tx:
            return tickets.create(tx, subject=subject, body="Body.", contact_email="amy@acme.example",
                                  department=department).number

    def client_key(self, number: str) -> str:
        with session_scope(self.engine, write=False) as s:
            return str(s.execute(select(Ticket.client_key).where(Ticket.number == number)).scalar_one())

    def reset_throttle(self) -> None:
        self.app.state.throttle = api_keys.FailureThrottle(limit=RATE_LIMIT, window=60)


def _build(engine: Engine) -> dict[str, Any]:
    with session_scope(engine) as s:
        setup.create_first_admin(s, "root", "Root Admin", "root@example.com")
        billing = Department(name="Billing")
        s.add(billing)
        s.flush()
        support = s.execute(select(Department).where(Department.name == "Support")).scalar_one()
        role = s.execute(select(Role).where(Role.name == "Agent")).scalar_one()
        s.add(Agent(username="sam", name="Sam Agent", email="sam@example.com",
                    primary_department_id=support.id, role_id=role.id))
        s.add(Agent(username="olly", name="Olly Outsider", primary_department_id=billing.id, role_id=role.id))
    with session_scope(engine) as s:
        actors = {name: resolve_actor(s, name, "api") for name in ("root", "sam", "olly")}
    with transaction(engine, actors["root"]) as tx:
        keys = {name: api_keys.create(tx, name, name="tests").key for name in actors}
        sup = tickets.create(tx, subject="Printer on floor 3 jams", body="It jams.",
                             contact_email="amy@acme.example", department="Support")
        bil = tickets.create(tx, subject="Invoice shows the wrong VAT", body="Wrong VAT.",
                             contact_email="cfo@acme.example", department="Billing")
        reply = tickets.reply(tx, sup.number, "We are looking at the printer.")
        note = tickets.note(tx, sup.number, "Internal: the toner supplier is late.")
    return {"keys": keys, "actors": actors, "support": sup.number, "billing": bil.number,
            "note_id": note.id, "reply_id": reply.id}


@pytest.fixture(
    scope="module",
    params=[pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)],
)
def api_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`db_url` for a whole module: a copy of the same migrated templates, on both engines."""
    if request.param == "sqlite":
        directory: Path = tmp_path_factory.mktemp("api-db")
        try:
            yield databases.copy_sqlite(request.getfixturevalue("_sqlite_template"), directory)
        finally:
            db.dispose_all()
        return
    server = request.getfixturevalue("pg_server")
    name, url = databases.create_pg_copy(server, request.getfixturevalue("_pg_template"))
    try:
        yield url
    finally:
        db.dispose_all()
        databases.drop_pg(server, name)


@pytest.fixture(scope="module")
def api(api_db_url: str) -> Iterator[Desk]:
    from tui_helpdesk.api import create_app

    engine = db.get_engine(api_db_url)
    built = _build(engine)
    app = create_app(engine, throttle=api_keys.FailureThrottle(limit=RATE_LIMIT, window=60), max_body=MAX_BODY)
    with ThreadServer(app, free_port()) as server:
        yield Desk(url=server.url, engine=engine, app=app, **built)
