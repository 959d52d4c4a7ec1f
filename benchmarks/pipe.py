"""Time of one `helpdesk ingest` process per message (how an MTA delivers), beside the floor of
`python -c "import sqlalchemy, email"`, measured side by side on this machine.

    python benchmarks/pipe.py [--runs 15]

Builds a fresh SQLite desk in a temporary folder and runs, alternately, N times each:
  floor    python -c "import sqlalchemy, email"
  worker   helpdesk ingest while a worker holds the lease (the pipe journals; the worker processes)
  alone    helpdesk ingest with no worker (the pipe journals, takes the lease and starts the processing
           stage in the background); also timed: until the stage has made the ticket and exited
  here     helpdesk ingest --here (the pipe processes the message itself and prints what it became)
Each message is new (its own Message-ID). Prints the median wall and CPU time of each and the ratio to
the floor; the issue's bound is 2x. Bytecode is written first (as an installed package has it), so no
run pays for compiling. A worker's lease is simulated by a row in worker_lock, so no worker process
competes for the CPU while the pipe is timed (the processing then waits in the journal). The next run
starts only once the background stage is gone, so it never competes with a timed process either.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def timed(cmd: list[str], stdin: bytes | None, env: dict[str, str]) -> tuple[float, float, bytes]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, input=stdin, env=env, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"{cmd} failed: {done.stderr.decode()[-500:]}")
    return wall, cpu, done.stdout


def message(n: int) -> bytes:
    return (
        f"From: customer{n % 7}@bench.test\r\nTo: support@bench.test\r\nSubject: issue {n}\r\n"
        f"Message-ID: <pipe-{n}-{time.time_ns()}@bench.test>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nHello,\r\nthe thing broke again.\r\n"
    ).encode()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    compileall.compile_dir(str(REPO / "tui_helpdesk"), quiet=1)
    from sqlalchemy import delete, insert, select, text

    from tui_helpdesk.db import get_engine, session_scope
    from tui_helpdesk.models import WorkerLock
    from tui_helpdesk.services import setup

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/helpdesk.db"
        engine = get_engine(url)
        with session_scope(engine) as s:
            setup.create_first_admin(s, "bench", "Bench Admin", "bench@bench.test")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(HELPDESK_DATABASE_URL=url, HELPDESK_DATA_DIR=tmp)
        ingest = [sys.executable, "-m", "tui_helpdesk.cli", "ingest"]
        floor = [sys.executable, "-c", "import sqlalchemy, email"]
        results: dict[str, list[tuple[float, float]]] = {"floor": [], "worker": [], "alone": [], "here": []}
        to_ticket: list[float] = []
        lease = WorkerLock.__table__
        for n in range(args.runs + 1):
            with engine.begin() as conn:
                conn.execute(delete(lease))
            start = time.perf_counter()
            alone = timed(ingest, message(3 * n), env)
            while True:  # the stage made the ticket and gave the lease back
                with engine.connect() as conn:
                    if conn.execute(select(lease.c.name)).first() is None:
                        break
                time.sleep(0.005)
            made = time.perf_counter() - start
            here = timed([*ingest, "--here"], message(3 * n + 2), env)
            with engine.begin() as conn:
                conn.execute(insert(lease).values(name="worker", holder="bench",
                                                  expires_at=datetime.now(UTC) + timedelta(minutes=5)))  # fmt: skip
            handed = timed(ingest, message(3 * n + 1), env)
            with engine.begin() as conn:  # no worker comes for it: keep it out of the next stage's timing
                conn.execute(text("UPDATE inbound_message SET state = 'ignored' WHERE state = 'pending'"))
            base = timed(floor, None, env)
            if n == 0:
                assert b"processed in the background" in alone[2], alone
                assert b"done: new_ticket" in here[2] and b"pending: journaled" in handed[2], (here, handed)
                continue  # the first round warms the disk cache
            results["alone"].append(alone[:2])
            results["here"].append(here[:2])
            results["worker"].append(handed[:2])
            results["floor"].append(base[:2])
            to_ticket.append(made)
        with engine.connect() as conn:
            states = conn.execute(text("SELECT state, count(*) FROM inbound_message GROUP BY state")).all()
        assert [tuple(r) for r in states] == [("done", 2 * (args.runs + 1)), ("ignored", args.runs + 1)], states
        med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in results.items()}
        print(f"median of {args.runs} runs each (load average {os.getloadavg()[0]:.2f}):")
        for name, label in (("floor", 'python -c "import sqlalchemy, email"'),
                            ("worker", "helpdesk ingest, a worker running"),
                            ("alone", "helpdesk ingest, no worker"),
                            ("here", "helpdesk ingest --here")):  # fmt: skip
            wall, cpu = med[name]
            print(f"  {label:40s} wall {wall * 1000:6.0f} ms ({wall / med['floor'][0]:.2f}x)   "
                  f"cpu {cpu * 1000:6.0f} ms ({cpu / med['floor'][1]:.2f}x)")  # fmt: skip
        made = statistics.median(to_ticket)
        print(f"  {'no worker: until the stage made the ticket':40s} wall {made * 1000:6.0f} ms "
              f"({made / med['floor'][0]:.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
