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
code = main(["ingest", "--mailbox", "support@helpdesk.test", *sys.argv[1:]])
heavy = ("sqlmodel", "pydantic", "sqlalchemy.orm", "tui_helpdesk.models", "tui_helpdesk.services.inbound",
         "textual", "alembic", "tui_helpdesk.cli.tickets")
print(json.dumps([m for m in heavy if m in sys.modules]), file=sys.stderr)
sys.exit(code)
"""


def _pipe(raw: bytes, env: dict[str, str], *extra: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PIPE, *extra], input=raw, env=env, capture_output=True, timeout=120
    )
    return done, json.loads(done.stderr.decode().strip().splitlines()[-1])


def _wait_until_processed(engine, count: int) -> list[tuple[str, str]]:
    """The journal's (state, outcome) rows once none is pending and the lease is given back."""
    deadline = time.monotonic() + 60
    while True:
        with session_scope(engine, write=False) as s:
            rows = s.execute(select(InboundMessage.state, InboundMessage.outcome)).all()
            lease = s.get(WorkerLock, "worker")
        if len(rows) == count and all(state != "pending" for state, _ in rows) and lease is None:
            return [tuple(r) for r in rows]
        assert time.monotonic() < deadline, f"still {rows}, lease {lease}"
        time.sleep(0.1)


def test_without_a_worker_the_pipe_journals_and_a_background_stage_processes_each_once(
    sqlite_url: str, tmp_path: Path
) -> None:
    from mailflow_support import build_desk

    engine = get_engine(sqlite_url)
    desk = build_desk(engine, tmp_path)
    env = {**os.environ, "HELPDESK_DATABASE_URL": sqlite_url, "HELPDESK_DATA_DIR": str(tmp_path / "data")}
    done, heavy = _pipe(message(subject="no worker"), env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"pending: journaled (processed in the background)"), done.stdout
    assert heavy == [], f"the pipe imported {heavy}"
    assert _wait_until_processed(engine, 1) == [("done", "new_ticket")]
    # a burst: the pipes that find a stage holding the lease only journal; every message is processed once
    burst = [
        subprocess.Popen([sys.executable, "-m", "tui_helpdesk.cli", "ingest"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        for _ in range(4)
    ]  # fmt: skip
    for n, proc in enumerate(burst):
        out, err = proc.communicate(message(subject=f"burst {n}"), timeout=120)
        assert proc.returncode == 0 and out.startswith(b"pending: journaled"), err
    again = message(subject="delivered twice")
    for _ in range(2):
        assert _pipe(again, env)[0].returncode == 0
    rows = _wait_until_processed(engine, 7)
    assert sorted(rows) == [("done", "new_ticket")] * 6 + [("ignored", "duplicate")]
    with session_scope(engine, write=False) as s:
        subjects = sorted(s.execute(select(Ticket.subject)).scalars())
    assert subjects == ["burst 0", "burst 1", "burst 2", "burst 3", "delivered twice", "no worker"]
    assert desk.tickets() == 6


def test_with_a_worker_running_the_pipe_only_journals_and_the_worker_processes_at_once(
    sqlite_url: str, tmp_path: Path
) -> None:
    from mailflow_support import build_desk

    engine = get_engine(sqlite_url)
    build_desk(engine, tmp_path)
    env = {**os.environ, "HELPDESK_DATABASE_URL": sqlite_url, "HELPDESK_DATA_DIR": str(tmp_path / "data")}
    # asked to, the pipe processes the message itself and says what it became
    done, heavy = _pipe(message(subject="processed here"), env, "--here")
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


# Put on the path of every process of the test: the first processing stage is killed (SIGKILL) halfway
# through its first ticket, after its transaction began and before it committed.
KILL_FIRST_STAGE = """
import os, signal, sys
marker = os.environ.get("KILL_STAGE_MARKER", "")
if "--pending" in sys.argv and marker and os.path.exists(marker):
    os.unlink(marker)
    from tui_helpdesk.services import inbound
    def die(*_a, **_k):
        os.kill(os.getpid(), signal.SIGKILL)
    inbound._new_ticket = die
"""


def test_a_killed_stage_loses_nothing_and_the_next_pipes_stage_finishes_its_message(
    sqlite_url: str, tmp_path: Path
) -> None:
    from mailflow_support import build_desk

    engine = get_engine(sqlite_url)
    desk = build_desk(engine, tmp_path)
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(KILL_FIRST_STAGE)
    marker = tmp_path / "kill-the-first-stage"
    marker.touch()
    env = {**os.environ, "HELPDESK_DATABASE_URL": sqlite_url, "HELPDESK_DATA_DIR": str(tmp_path / "data"),
           "PYTHONPATH": os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")]),
           "KILL_STAGE_MARKER": str(marker), "HELPDESK_WORKER_LEASE": "2"}  # fmt: skip
    assert _pipe(message(subject="first"), env)[0].returncode == 0
    deadline = time.monotonic() + 60
    while marker.exists() or inbound_journal.worker_alive(engine):  # killed, and its lease ran out
        assert time.monotonic() < deadline, "the stage never ran, or its lease never ran out"
        time.sleep(0.1)
    with session_scope(engine, write=False) as s:
        assert s.execute(select(InboundMessage.state)).scalar_one() == "pending"
    assert desk.tickets() == 0
    assert _pipe(message(subject="second"), env)[0].returncode == 0
    assert sorted(_wait_until_processed(engine, 2)) == [("done", "new_ticket")] * 2
    with session_scope(engine, write=False) as s:
        assert sorted(s.execute(select(Ticket.subject)).scalars()) == ["first", "second"]
