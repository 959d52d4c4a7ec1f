"""The app or a CLI command in a child process, as the agent who logged in.

The child is `helpdesk --as USERNAME ...` started by the server's own account, the service account that owns
the desk's data: services/identity.py lets that account (and only it, or an admin) act as an agent, so no
new way around the rules is made here. The child reads the server's desk (its database URL and data dir are
passed on), never runs a worker of its own (the server's process does), and gets the client's TERM,
COLORTERM and window size. The app runs on a PTY whose size follows the client's; a command without a PTY
runs on pipes, as `ssh host -- cmd | jq` expects.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pty
import signal
import struct
import sys
import termios
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# what the client may pass on, beside TERM (from its PTY request)
CLIENT_ENV = ("COLORTERM", "LANG", "LC_ALL", "LC_CTYPE")
DROPPED_ENV = ("HELPDESK_AGENT", "SSH_AUTH_SOCK", "SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY")


@dataclass(frozen=True)
class Desk:
    """Which desk the children open: the server's own."""

    database_url: str
    data_dir: str
    config_file: str = ""


def child_env(desk: Desk, term: str, client_env: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    env.update(
        HELPDESK_DATABASE_URL=desk.database_url,
        HELPDESK_DATA_DIR=desk.data_dir,
        HELPDESK_WORKER_IN_APP="0",
        TERM=term or "dumb",
        # UX.md: animations off over SSH (every frame of one is bytes on someone's link)
        TEXTUAL_ANIMATIONS="none",
    )
    if desk.config_file:
        env["HELPDESK_CONFIG_FILE"] = desk.config_file
    env.pop("COLORTERM", None)
    for name in CLIENT_ENV:
        value = client_env.get(name)
        if value and len(value) < 100 and value.isprintable():
            env[name] = value
    return env


def argv_for(username: str, args: Sequence[str]) -> list[str]:
    # --as first: a later --as in args is refused by the gate before it gets here
    return [sys.executable, "-m", "tui_helpdesk.cli", "--as", username, *args]


def set_size(fd: int, columns: int, rows: int) -> None:
    """The PTY's size; the kernel sends SIGWINCH to the app when it changes."""
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", max(rows, 1), max(columns, 1), 0, 0))


class Child:
    """One child process and its I/O, bridged to the SSH channel's callbacks."""

    def __init__(self, on_output: Callable[[bytes], None], on_error: Callable[[bytes], None]) -> None:
        self.on_output = on_output
        self.on_error = on_error
        self.proc: asyncio.subprocess.Process | None = None
        self.master: int | None = None
        self._readers: list[asyncio.Task[None]] = []

    async def start_pty(self, argv: list[str], env: dict[str, str], columns: int, rows: int) -> None:
        master, slave = pty.openpty()
        set_size(slave, columns, rows)
        os.set_blocking(master, False)
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
                preexec_fn=_take_terminal,
            )
        finally:
            os.close(slave)
        self.master = master
        asyncio.get_running_loop().add_reader(master, self._read_master)

    async def start_pipes(self, argv: list[str], env: dict[str, str]) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=env, start_new_session=True,
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self._readers = [asyncio.create_task(self._pump(self.proc.stdout, self.on_output)),
                         asyncio.create_task(self._pump(self.proc.stderr, self.on_error))]

    def _read_master(self) -> None:
        assert self.master is not None
        try:
            data = os.read(self.master, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: the app closed its terminal
            data = b""
        if not data:
            self._close_master()
            return
        self.on_output(data)

    def _close_master(self) -> None:
        if self.master is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self.master)
            with contextlib.suppress(OSError):
                os.close(self.master)
            self.master = None

    @staticmethod
    async def _pump(stream: asyncio.StreamReader, sink: Callable[[bytes], None]) -> None:
        while data := await stream.read(65536):
            sink(data)

    def write(self, data: bytes) -> None:
        if self.master is not None:
            with contextlib.suppress(OSError):
                os.write(self.master, data)
        elif self.proc is not None and self.proc.stdin is not None and not self.proc.stdin.is_closing():
            self.proc.stdin.write(data)

    def end_input(self) -> None:
        if self.master is None and self.proc is not None and self.proc.stdin is not None:
            self.proc.stdin.close()

    def resize(self, columns: int, rows: int) -> None:
        if self.master is not None:
            with contextlib.suppress(OSError):
                set_size(self.master, columns, rows)

    async def wait(self) -> int:
        assert self.proc is not None
        code = await self.proc.wait()
        for reader in self._readers:
            await reader
        if self.master is not None:
            # what the app wrote last (its screen restored) may still be in the PTY
            with contextlib.suppress(OSError):
                while data := os.read(self.master, 65536):
                    self.on_output(data)
        self._close_master()
        return code

    async def stop(self, grace: float = 2.0) -> None:
        """The connection went away: hang up on the child (its whole process group), then kill it."""
        proc = self.proc
        if proc is None or proc.returncode is not None:
            self._close_master()
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGHUP)
        try:
            await asyncio.wait_for(proc.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
        self._close_master()


def _take_terminal() -> None:
    # after setsid (start_new_session): the PTY becomes the child's controlling terminal, so the kernel's
    # SIGWINCH on a resize and SIGHUP on a hang-up reach it
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
