"""The SSH server in a thread with its own event loop: `helpdesk serve` runs it beside uvicorn and the
worker, and the tests start one on 127.0.0.1 in their own process."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import asyncssh
from sqlalchemy import Engine

from tui_helpdesk.services import ssh_access

from . import hostkey
from .children import Desk
from .server import Listener


class SshServer:
    """start() returns once the port listens (or raises why not); stop() closes it and ends every session."""

    def __init__(self, engine: Engine, desk: Desk, host: str, port: int, *, gate: ssh_access.SshGate | None = None,
                 idle_check: float = 15.0) -> None:
        self.engine = engine
        self.desk = desk
        self.host = host
        self.port = port
        self.gate = gate or ssh_access.SshGate(engine)
        self.listener = Listener(self.gate, desk, idle_check=idle_check)
        self.host_key_path: Path | None = None
        self.host_key_created = False
        self.fingerprint = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 30.0) -> None:
        key, self.host_key_path, self.host_key_created = hostkey.load_or_create(Path(self.desk.data_dir))
        self.fingerprint = hostkey.fingerprint(key)
        ready: Future[None] = Future()
        self._thread = threading.Thread(target=self._main, args=(key, ready), name="helpdesk-ssh", daemon=True)
        self._thread.start()
        ready.result(timeout)

    def _main(self, key: asyncssh.SSHKey, ready: Future[None]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            self._server = loop.run_until_complete(asyncssh.create_server(
                self.listener.server, self.host, self.port, server_host_keys=[key],
                agent_forwarding=False, x11_forwarding=False, allow_scp=False,
                line_editor=False, encoding=None, login_timeout=60,
            ))
            self.port = self._server.get_port() or self.port
        except BaseException as exc:  # noqa: BLE001 - handed to start()'s caller
            ready.set_exception(exc)
            loop.close()
            return
        ready.set_result(None)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._shutdown())
            loop.close()

    async def _shutdown(self) -> None:
        self._server.close()
        for session in list(self.listener.live):
            if session.child is not None:
                await session.child.stop(grace=1.0)
            if session.chan is not None:
                session.chan.close()
        await self._server.wait_closed()

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)

    def banner(self) -> str:
        made = "made now" if self.host_key_created else "kept"
        return (f"serving SSH on {self.host}:{self.port}; host key {self.fingerprint} "
                f"({made} in {self.host_key_path})")
