"""asyncssh's server callbacks. Each decision is the gate's (services/ssh_access.SshGate); database work
runs in a thread so one slow login never stalls the other sessions' screens.

Authentication: public keys only (no passwords). When the agent has TOTP on, the key is a first factor:
the server answers a good key with "partial success" and offers keyboard-interactive for the code.
asyncssh has no setting for such a chain, so the connection's success reply is wrapped (`_chain_factors`).

Channels: a session runs the app (a shell request, with or without a PTY) or one CLI command (an exec
request); subsystems (sftp), X11, agent and port forwarding are refused.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncssh

from tui_helpdesk.services import ssh_access
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.errors import ValidationError

from .children import Child, Desk, argv_for, child_env

log = logging.getLogger("tui_helpdesk.ssh")


class Listener:
    """What every connection of one server shares: the gate, the desk, the idle checks."""

    def __init__(self, gate: ssh_access.SshGate, desk: Desk, *, idle_check: float = 15.0) -> None:
        self.gate = gate
        self.desk = desk
        self.idle_check = idle_check
        self.live: set[DeskSession] = set()

    def server(self) -> DeskServer:
        return DeskServer(self)


async def _in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    return await asyncio.to_thread(fn, *args)


class DeskServer(asyncssh.SSHServer):
    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.gate = listener.gate
        self.conn: asyncssh.SSHServerConnection | None = None
        self.attempt = ssh_access.Attempt(address="")
        self.actor: Actor | None = None
        self.locked = False
        self.needs_totp = False
        self.key_done = False
        self.totp_done = False

    # --- the connection ---

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("", 0)
        self.attempt = ssh_access.Attempt(address=str(peer[0]))
        self._chain_factors(conn)

    def _chain_factors(self, conn: asyncssh.SSHServerConnection) -> None:
        succeed: Callable[[], Awaitable[None]] = conn.send_userauth_success

        async def key_then_code() -> None:
            if self.needs_totp and not self.totp_done:
                # RFC 4252 partial success: the key is good, now the methods that remain (the code)
                self.key_done = True
                conn.send_userauth_failure(True)
                return
            await succeed()

        conn.send_userauth_success = key_then_code  # type: ignore[method-assign]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.actor is None and self.attempt.username:
            # a failed login: counted and audited off the event loop
            asyncio.get_running_loop().run_in_executor(None, self.gate.gave_up, self.attempt)

    # --- authentication ---

    async def begin_auth(self, username: str) -> bool:
        if self.attempt.username:  # the client switched usernames: what it tried for the last one counts
            await _in_thread(self.gate.gave_up, self.attempt)
        self.attempt = ssh_access.Attempt(address=self.attempt.address, username=username)
        self.needs_totp = self.key_done = self.totp_done = False
        try:
            self.gate.admit(self.attempt)
            self.locked = False
        except ssh_access.RateLimited as exc:
            log.warning("ssh: %s refused unheard (%s)", self.attempt.address, exc)
            self.locked = True
        return True

    def password_auth_supported(self) -> bool:
        return False

    def public_key_auth_supported(self) -> bool:
        return not self.locked and not self.key_done

    async def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        verdict = await _in_thread(self.gate.check_key, self.attempt, key.get_fingerprint("sha256"))
        self.needs_totp = verdict.needs_totp
        return bool(verdict.accepted)

    def kbdint_auth_supported(self) -> bool:
        return self.key_done and not self.locked

    def get_kbdint_challenge(self, username: str, lang: str, submethods: str) -> Any:
        return ("Second factor", f"Helpdesk: the code from your authenticator app for {username}", "",
                [("TOTP code: ", False)])

    async def validate_kbdint_response(self, username: str, responses: Any) -> Any:
        code = responses[0] if responses else ""
        if await _in_thread(self.gate.check_totp, self.attempt, code):
            self.totp_done = True
            return True
        if self.gate.totp_exhausted(self.attempt):
            self.locked = True
            assert self.conn is not None
            self.conn.disconnect(asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE, "too many wrong codes")
        return False

    def auth_completed(self) -> None:
        # set before any await: the client may open its channel in the very next packet
        self.actor = self.attempt.actor
        assert self.actor is not None
        asyncio.get_running_loop().run_in_executor(None, self.gate.logged_in, self.attempt)
        log.info("ssh: %s logged in from %s (%s)", self.actor.username, self.attempt.address,
                 self.attempt.fingerprint)

    # --- channels ---

    def session_requested(self) -> asyncssh.SSHServerSession[bytes] | bool:
        if self.actor is None:
            return False
        return DeskSession(self.listener, self.actor, self.attempt.address)

    def connection_requested(self, *args: Any) -> bool:
        return False

    def server_requested(self, *args: Any) -> bool:
        return False

    def unix_connection_requested(self, *args: Any) -> bool:
        return False

    def unix_server_requested(self, *args: Any) -> bool:
        return False


class DeskSession(asyncssh.SSHServerSession):  # type: ignore[type-arg]
    """One channel: the app on a PTY, or one CLI command."""

    def __init__(self, listener: Listener, actor: Actor, address: str) -> None:
        self.listener = listener
        self.actor = actor
        self.address = address
        self.chan: asyncssh.SSHServerChannel[bytes] | None = None
        self.term = ""
        self.size = (80, 24)
        self.has_pty = False
        self.argv: list[str] = []  # empty: the app
        self.refusal = ""
        self.child: Child | None = None
        self.last_input = time.monotonic()
        self.task: asyncio.Task[None] | None = None

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:  # type: ignore[override]
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int], term_modes: Any) -> bool:
        self.has_pty = True
        self.term = term_type
        if term_size[0] and term_size[1]:
            self.size = (term_size[0], term_size[1])
        return True

    def shell_requested(self) -> bool:
        return True  # the "shell" is the app

    def exec_requested(self, command: str) -> bool:
        try:
            self.argv = self.listener.gate.exec_argv(command)
        except ValidationError as exc:
            self.refusal = str(exc)
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        return False

    def session_started(self) -> None:
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        assert self.chan is not None
        chan = self.chan
        if self.refusal:
            chan.write_stderr(f"helpdesk: error: {self.refusal}\r\n".encode())
            chan.exit(2)
            return
        if not self.argv and not self.has_pty:
            chan.write_stderr(b"helpdesk: error: the app needs a terminal: ssh -t, or give a command\n")
            chan.exit(2)
            return
        kind = "exec" if self.argv else "app"
        try:
            ticket = await _in_thread(self.listener.gate.open_session, self.actor, self.address, kind)
        except ssh_access.SessionRefused as exc:
            chan.write_stderr(f"helpdesk: {exc}\r\n".encode())
            chan.exit(1)
            return
        self.listener.live.add(self)
        idle = asyncio.ensure_future(self._watch_idle()) if self.has_pty else None
        code = 1
        try:
            env = child_env(self.listener.desk, self.term if self.has_pty else "dumb", chan.get_environment())
            self.child = Child(self._output, self._error_output)
            argv = argv_for(self.actor.username, self.argv)
            if self.has_pty:
                await self.child.start_pty(argv, env, *self.size)
            else:
                await self.child.start_pipes(argv, env)
            code = await self.child.wait()
        finally:
            if idle is not None:
                idle.cancel()
            self.listener.live.discard(self)
            await _in_thread(self.listener.gate.close_session, ticket)
        if not chan.is_closing():
            chan.exit(code if code >= 0 else 128 - code)

    async def _watch_idle(self) -> None:
        limit = await _in_thread(self.listener.gate.idle_timeout)
        if not limit:
            return
        while True:
            await asyncio.sleep(min(self.listener.idle_check, limit))
            if time.monotonic() - self.last_input >= limit:
                assert self.chan is not None
                self.chan.write(f"\r\nhelpdesk: no keystroke for {limit / 60:g} "
                                "minutes: session closed\r\n".encode())
                if self.child is not None:
                    await self.child.stop()
                return

    def _output(self, data: bytes) -> None:
        if self.chan is not None and not self.chan.is_closing():
            self.chan.write(data)

    def _error_output(self, data: bytes) -> None:
        if self.chan is not None and not self.chan.is_closing():
            self.chan.write_stderr(data)

    def data_received(self, data: bytes, datatype: Any) -> None:  # type: ignore[override]
        self.last_input = time.monotonic()
        if self.child is not None:
            self.child.write(data)

    def eof_received(self) -> bool:
        if self.child is not None:
            self.child.end_input()
        return True

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self.size = (width, height)
        if self.child is not None:
            self.child.resize(width, height)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.child is not None:
            asyncio.ensure_future(self.child.stop())
