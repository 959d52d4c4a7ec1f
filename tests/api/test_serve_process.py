"""`helpdesk serve` as a process: it answers over HTTP with the worker running beside it, and SIGTERM ends
both cleanly (exit 0, the worker's lease released, no traceback). SQLite only: the subject is the
process and its signals, which no engine changes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tui_helpdesk import db, worker
from tui_helpdesk.db import session_scope
from tui_helpdesk.services import api_keys, setup
from tui_helpdesk.services.context import resolve_actor, transaction


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_runs_the_worker_and_stops_cleanly_on_sigterm(sqlite_url: str, tmp_path: Path) -> None:
    import httpx  # here, not at the top: each xdist worker collects this file; one runs the test

    engine = db.get_engine(sqlite_url)
    with session_scope(engine) as s:
        setup.create_first_admin(s, "root", "Root Admin")
    with session_scope(engine, write=False) as s:
        root = resolve_actor(s, "root", "cli")
    with transaction(engine, root) as tx:
        key = api_keys.create(tx, "root").key
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update(HELPDESK_DATABASE_URL=sqlite_url, HELPDESK_DATA_DIR=str(tmp_path / "data"),
               HELPDESK_CONFIG_DIR=str(tmp_path / "config"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_helpdesk.cli", "serve", "--http", f"127.0.0.1:{port}", "--interval", "0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    try:
        deadline = time.monotonic() + 30
        answer = None
        while answer is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/api/tickets",
                                   headers={"Authorization": f"Bearer {key}"}, timeout=5)
            except httpx.TransportError:
                time.sleep(0.05)
        assert answer is not None and answer.status_code == 200, proc.poll()
        assert answer.json()["total"] == 0
        while worker.holder_of(engine) is None and time.monotonic() < deadline:  # the worker holds its lease
            time.sleep(0.05)
        assert worker.holder_of(engine) is not None
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out
    assert "worker: stopped" in out and "Traceback" not in out
    assert worker.holder_of(engine) is None
