"""The idle timeout of an SSH app session (tui_helpdesk/ssh/server.py), with a stand-in for the channel and
the child process: the one boundary faked, so the test takes a second, not an app start."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from tui_helpdesk.services.context import Actor
from tui_helpdesk.ssh.children import Desk

# tui_helpdesk.ssh.server imports asyncssh (~0.2 s of CPU): imported by the helper that uses it, not at
# collection, which every xdist worker does for the whole suite.
if TYPE_CHECKING:
    from tui_helpdesk.ssh.server import DeskSession


class Gate:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def idle_timeout(self) -> float:
        return self.seconds


class Channel:
    def __init__(self) -> None:
        self.written = b""

    def write(self, data: bytes) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return False


class Child:
    def __init__(self) -> None:
        self.stopped_at: float | None = None
        self.typed = b""

    def write(self, data: bytes) -> None:
        self.typed += data

    async def stop(self) -> None:
        self.stopped_at = asyncio.get_running_loop().time()


def _session(seconds: float) -> tuple[DeskSession, Channel, Child]:
    from tui_helpdesk.ssh.server import DeskSession, Listener

    listener = Listener(Gate(seconds), Desk("sqlite://", "/nonexistent"), idle_check=0.02)  # type: ignore[arg-type]
    session = DeskSession(listener, Actor(agent_id=1, username="sam"), "127.0.0.1")
    chan, child = Channel(), Child()
    session.chan, session.child = chan, child  # type: ignore[assignment]
    return session, chan, child


def test_a_session_nobody_types_into_is_closed_and_typing_keeps_it_open() -> None:
    async def go() -> tuple[float, float]:
        session, chan, child = _session(0.3)
        loop = asyncio.get_running_loop()
        start = loop.time()
        watch = asyncio.ensure_future(session._watch_idle())
        for _ in range(5):  # typing for 0.5 s, longer than the timeout
            await asyncio.sleep(0.1)
            session.data_received(b"j", None)
        assert child.stopped_at is None and child.typed == b"jjjjj"
        await asyncio.wait_for(watch, 5)
        assert b"session closed" in chan.written
        assert child.stopped_at is not None
        return start, child.stopped_at

    start, stopped = asyncio.run(go())
    assert stopped - start >= 0.5 + 0.3 - 0.05


def test_no_timeout_when_the_setting_is_zero() -> None:
    async def go() -> None:
        session, chan, child = _session(0.0)
        await asyncio.wait_for(session._watch_idle(), 1)  # returns at once: nothing to watch
        assert chan.written == b"" and child.stopped_at is None

    asyncio.run(go())
