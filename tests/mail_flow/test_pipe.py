"""The MTA pipe (`helpdesk ingest`, one process per message) imports what it needs: while a worker runs it
journals the message with SQLAlchemy Core and leaves the processing to the worker, which wakes for it.
(benchmarks/pipe.py measures the time; this checks the behaviour and what the process imported.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from mailflow_support import message
from sqlalchemy import select

from tui_helpdesk import worker
from tui_helpdesk.db import get_engine, session_scope
from tui_helpdesk.models import InboundMessage, Mailbox, Ticket, WorkerLock
from tui_helpdesk.models.mail import InboundRaw
from tui_helpdesk.services import inbound_journal

# The real CLI; afterwards the process says which heavy modules it had imported.
PIPE = """
import json, sys
from tui_helpdesk.cli import main
code = main(["ingest", "--mailbox", "support@helpdesk.test"])
heavy = ("sqlmodel", "pydantic", "sqlalchemy.orm", "tui_helpdesk.models", "tui_helpdesk.services.inbound",
         "textual", "alembic", "tui_helpdesk.cli.tickets")
print(json.dumps([m for m in heavy if m in sys.modules]), file=sys.stderr)
sys.exit(code)
"""


def _pipe(raw: bytes, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, list[str]]:
    done = subprocess.run([sys.executable, "-c", PIPE], input=raw, env=env, capture_output=True, timeout=120)
    return done, json.loads(done.stderr.decode().strip().splitlines()[-1])


def test_with_a_worker_running_the_pipe_only_journals_and_the_worker_processes_at_once(
    sqlite_url: str, tmp_path: Path
) -> None:
    from mailflow_support import build_desk

    engine = get_engine(sqlite_url)
    build_desk(engine, tmp_path)
    env = {**os.environ, "HELPDESK_DATABASE_URL": sqlite_url, "HELPDESK_DATA_DIR": str(tmp_path / "data")}
    # no worker: the pipe processes the message itself, as before
    done, heavy = _pipe(message(subject="no worker"), env)
    assert done.returncode == 0 and done.stdout.startswith(b"done: new_ticket"), done.stderr
    handle = worker.start_thread(engine, lambda _line: None, interval=300)
    try:
        deadline = time.monotonic() + 30
        while not inbound_journal.worker_alive(engine):
            assert time.monotonic() < deadline, "the worker never took its lease"
            time.sleep(0.05)
        done, heavy = _pipe(message(subject="while the worker runs"), env)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(b"pending: journaled (the worker processes it)"), done.stdout
        assert heavy == [], f"the pipe imported {heavy}"
        # the worker sleeps for 300 s between passes, but wakes for the journal within a second or two
        deadline = time.monotonic() + 20
        while True:
            with session_scope(engine, write=False) as s:
                subjects = set(s.execute(select(Ticket.subject)).scalars())
            if "while the worker runs" in subjects:
                break
            assert time.monotonic() < deadline, "the worker did not process the journaled message"
            time.sleep(0.1)
    finally:
        handle.stop()
    with session_scope(engine, write=False) as s:
        assert set(s.execute(select(InboundMessage.state)).scalars()) == {"done"}
        assert s.get(WorkerLock, "worker") is None  # released on stop


def test_the_journals_core_tables_match_the_models() -> None:
    for light, model in (
        (inbound_journal.inbound_message, InboundMessage),
        (inbound_journal.inbound_raw, InboundRaw),
        (inbound_journal.mailbox, Mailbox),
        (inbound_journal.worker_lock, WorkerLock),
    ):
        table = model.__table__
        assert light.name == table.name
        for col in light.columns:
            assert col.name in table.columns, (light.name, col.name)
            assert col.type._type_affinity is table.columns[col.name].type._type_affinity, (light.name, col.name)
