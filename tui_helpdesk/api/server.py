"""`helpdesk serve`: the API on uvicorn in this process, the worker beside it in a thread.

SIGTERM and Ctrl-C stop uvicorn gracefully (it finishes the requests in flight), then the worker is told
to stop and waited for, so its lease is released before the process exits with 0.
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

log = logging.getLogger("tui_helpdesk.api")


def parse_address(text: str) -> tuple[str, int]:
    """HOST:PORT (or :PORT, or PORT) -> (host, port); ValueError naming what is wrong."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "127.0.0.1", text
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r}: expected HOST:PORT, e.g. 127.0.0.1:8080")
    return host, int(port)


def serve(engine: Engine, host: str, port: int, *, worker: bool = True, worker_interval: float = 10.0,
          access_log: bool = False, on_ready: Callable[[str], None] | None = None) -> int:
    import uvicorn

    from tui_helpdesk import worker as worker_mod

    from .app import create_app

    app = create_app(engine)
    config = uvicorn.Config(app, host=host, port=port, log_level="info", access_log=access_log,
                            lifespan="off", server_header=False)
    server = uvicorn.Server(config)
    handle = None
    if worker:
        handle = worker_mod.start_thread(engine, lambda line: log.info("%s", line), interval=worker_interval)
    # uvicorn re-raises the signal that stopped it once it has shut down; with these handlers in place
    # that re-raise lands here instead of killing the process before the worker is stopped
    previous: dict[int, Any] = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, lambda *_: None)
    try:
        if on_ready is not None:
            on_ready(f"serving the API on http://{host}:{port}/api/ (docs: /api/docs)"
                     + ("; the worker runs in this process" if worker else ""))
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if handle is not None:
            handle.stop(timeout=30)
    if not server.started:
        print(f"helpdesk: error: could not listen on {host}:{port}", file=sys.stderr)
        return 1
    return 0
