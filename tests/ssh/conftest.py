"""One real SSH server on 127.0.0.1 for the module (tui_helpdesk/ssh, in a thread of the test process) over a
small desk, and real clients: asyncssh's, its keys made here. The app runs in child processes as in
production; the screen is read with pyte."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyotp
import pytest
from sqlalchemy import Engine, select
from support import databases

from tui_helpdesk import db
from tui_helpdesk.models import AgentTotp, AuditLog
from tui_helpdesk.services import admin, setup, ssh_access, tickets
from tui_helpdesk.services.context import Actor, resolve_actor, transaction
from tui_helpdesk.ssh.children import Desk

# asyncssh, and the server modules that import it, are imported where they are used, not here: every xdist
# worker collects this conftest with the suite (asyncssh is ~0.2 s of CPU to import), only the workers that
# run an SSH test need them.
if TYPE_CHECKING:
    import asyncssh

    from tui_helpdesk.ssh.runner import SshServer

SUBJECTS = ("VPN is down", "Printer jams on tray 2", "Invoice 4411 is wrong", "Cannot log in", "New laptop",
            "Mailbox full")


@dataclass
class SshDesk:
    engine: Engine
    url: str
    server: SshServer
    keys: dict[str, asyncssh.SSHKey]
    totp_secret: str
    admin: Actor
    numbers: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.server.port

    def audit(self, action: str) -> list[AuditLog]:
        with db.session_scope(self.engine, write=False) as s:
            rows = list(s.execute(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id))
                        .scalars())
            s.expunge_all()
            return rows


def _build(engine: Engine) -> tuple[Actor, dict[str, asyncssh.SSHKey], str, list[str]]:
    import asyncssh

    with db.session_scope(engine) as s:
        setup.create_first_admin(s, "root", "Root Admin", "root@example.com")
    with db.session_scope(engine) as s:
        root = resolve_actor(s, "root", "cli")
    keys = {name: asyncssh.generate_private_key("ssh-ed25519", comment=f"{name}@laptop")
            for name in ("alice", "ivan", "tara", "stranger")}
    numbers = []
    with transaction(engine, root) as tx:
        for name in ("alice", "ivan", "tara"):
            admin.create_agent(tx, username=name, name=name.title(), email=f"{name}@example.com",
                               department="Support", role="Agent")
        for name in ("alice", "ivan", "tara"):
            ssh_access.add_key(tx, name, keys[name].export_public_key("openssh").decode())
        secret = ssh_access.enable_totp(tx, "tara").secret
        for i, subject in enumerate(SUBJECTS):
            numbers.append(tickets.create(tx, subject=subject, body=f"Body {i}", contact_email=f"c{i}@acme.example",
                                          contact_name=f"Customer {i}", department="Support").number)
    with transaction(engine, root) as tx:
        ivan = next(a for a in admin.list_agents(tx) if a.username == "ivan")
        admin.update_agent(tx, ivan.id, active=False)  # deactivated after the key was listed
    return root, keys, secret, numbers


@pytest.fixture(scope="module")
def ssh_desk(tmp_path_factory: pytest.TempPathFactory, _sqlite_template: Path) -> Iterator[SshDesk]:
    from tui_helpdesk.ssh.runner import SshServer

    directory = tmp_path_factory.mktemp("ssh-desk")
    url = databases.copy_sqlite(_sqlite_template, directory)
    engine = db.get_engine(url)
    root, keys, secret, numbers = _build(engine)
    server = SshServer(engine, Desk(database_url=url, data_dir=str(directory)), "127.0.0.1", 0, idle_check=0.5)
    server.start()
    try:
        yield SshDesk(engine, url, server, keys, secret, root, numbers)
    finally:
        server.stop()
        db.dispose_all()


@functools.cache
def _code_client() -> type[asyncssh.SSHClient]:
    import asyncssh

    class CodeClient(asyncssh.SSHClient):
        """Answers the keyboard-interactive prompt with the codes given, one per prompt round."""

        def __init__(self, codes: list[str]) -> None:
            self.codes = list(codes)
            self.prompts: list[str] = []

        def kbdint_auth_requested(self) -> str:
            return ""

        def kbdint_challenge_received(self, name: str, instructions: str, lang: str, prompts: Any,
                                      ) -> list[str] | None:
            if not prompts:
                return []
            self.prompts += [p for p, _ in prompts]
            return [self.codes.pop(0)] if self.codes else None

    return CodeClient


async def connect(desk: SshDesk, username: str, key: str, codes: list[str] | None = None,
                  ) -> asyncssh.SSHClientConnection:
    import asyncssh

    CodeClient = _code_client()
    return await asyncssh.connect(
        "127.0.0.1", desk.port, username=username, client_keys=[desk.keys[key]], known_hosts=None,
        agent_path=None, password=None, client_factory=lambda: CodeClient(codes or []),
        preferred_auth="publickey,keyboard-interactive", login_timeout=20,
    )


def wrong_code(secret: str) -> str:
    """Six digits that no step the server accepts (now, one before, one after) gives."""
    totp = pyotp.TOTP(secret)
    now = totp.timecode(datetime.now(UTC))
    near = {totp.generate_otp(now + d) for d in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in near)


def totp_step_reset(desk: SshDesk) -> None:
    """A code is accepted once per time step: tests that log tara in again forget the last one."""
    with db.session_scope(desk.engine) as s:
        for row in s.execute(select(AgentTotp)).scalars():
            row.last_step = 0


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def wait_screen(read: Callable[[], Any], check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not check():
        left = end - loop.time()
        if left <= 0:
            raise AssertionError(f"timed out waiting for {what}")
        try:
            await asyncio.wait_for(read(), left)
        except TimeoutError:
            continue
