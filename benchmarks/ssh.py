"""The app over SSH (`helpdesk serve --ssh`) beside the same app started locally, and how many sessions the
machine holds while each still repaints within 100 ms of a keypress.

    .venv/bin/python benchmarks/ssh.py [--data-dir DIR] [--runs 3] [--sessions 1,2,4,8,12,16]

Without --data-dir a small desk (root, alice, 120 tickets) is built in a temporary directory; with it, that
desk is used and an SSH key is listed for its agent `--agent` (default alice). The server is a separate
process (`helpdesk serve --ssh 127.0.0.1:PORT --no-http --no-worker`), the client asyncssh's, the screen
read with pyte at 120x36.

1. Connect to first queue rows: from opening the TCP connection to three ticket numbers on the screen, over
   SSH; beside a PTY child `helpdesk --as AGENT` started here (what `helpdesk` costs on the host). Medians,
   and their ratio.
2. Concurrent sessions: N sessions open (each painted its queue); every 0.5 s each session in turn presses
   j or k, and the time to its first screen bytes back is its repaint latency. Reported per N: p50/p95/max
   latency and the resident memory (RSS) of one session's app process; the count is the largest N whose p95
   stays within 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncssh
import pyte

NUMBER = re.compile(r"[A-Z]+-\d{3,}")
SIZE = (120, 36)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_desk(directory: Path, tickets: int = 120) -> None:
    os.environ["HELPDESK_DATA_DIR"] = str(directory)
    from tui_helpdesk import db
    from tui_helpdesk.config import load_config
    from tui_helpdesk.services import admin, setup
    from tui_helpdesk.services import tickets as ticket_service
    from tui_helpdesk.services.context import resolve_actor, transaction

    engine = db.get_engine(load_config().database_url)
    with db.session_scope(engine) as s:
        setup.ensure_defaults(s)
        setup.create_first_admin(s, "root", "Root Admin", "root@example.com")
    with db.session_scope(engine) as s:
        root = resolve_actor(s, "root", "cli")
    with transaction(engine, root) as tx:
        admin.create_agent(tx, username="alice", name="Alice", department="Support", role="Agent")
        for i in range(tickets):
            ticket_service.create(tx, subject=f"Benchmark ticket {i}", body="body", contact_email=f"c{i % 20}@x.example",
                                  contact_name=f"Customer {i % 20}", department="Support", detail=False)


def list_key(agent: str, key: asyncssh.SSHKey) -> int:
    from tui_helpdesk import db
    from tui_helpdesk.config import load_config
    from tui_helpdesk.services import settings, ssh_access
    from tui_helpdesk.services.context import Actor, transaction

    engine = db.get_engine(load_config().database_url)
    with transaction(engine, Actor.system("cli")) as tx:
        ssh_access.add_key(tx, agent, key.export_public_key("openssh").decode())
        # every session is the one agent's here; the limit is what is measured, not the setting
        previous = settings.get(tx.session, "ssh_max_sessions_per_agent")
        settings.put(tx.session, "ssh_max_sessions_per_agent", 0)
        settings.put(tx.session, "ssh_max_sessions", 0)
    return previous


def unlist_key(key: asyncssh.SSHKey, per_agent: int) -> None:
    from tui_helpdesk import db
    from tui_helpdesk.config import load_config
    from tui_helpdesk.services import settings, ssh_access
    from tui_helpdesk.services.context import Actor, transaction

    engine = db.get_engine(load_config().database_url)
    with transaction(engine, Actor.system("cli")) as tx:
        ssh_access.remove_key(tx, key.get_fingerprint("sha256"))
        settings.put(tx.session, "ssh_max_sessions_per_agent", per_agent)
        settings.put(tx.session, "ssh_max_sessions", settings.DEFAULTS["ssh_max_sessions"])


class Screen:
    def __init__(self) -> None:
        self.screen = pyte.Screen(*SIZE)
        self.stream = pyte.ByteStream(self.screen)

    def feed(self, data: bytes) -> None:
        self.stream.feed(data)

    def rows(self) -> int:
        return sum(1 for line in self.screen.display if NUMBER.search(line))


async def _until_rows(read, screen: Screen, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while screen.rows() < 3:
        data = await asyncio.wait_for(read(), max(0.1, end - time.monotonic()))
        if not data:
            raise RuntimeError("the app ended before it showed rows")
        screen.feed(data)


async def local_start(agent: str) -> float:
    import pty

    master, slave = pty.openpty()
    from tui_helpdesk.ssh.children import set_size

    set_size(slave, *SIZE)
    env = dict(os.environ, TERM="xterm-256color", HELPDESK_WORKER_IN_APP="0", TEXTUAL_ANIMATIONS="none")
    start = time.monotonic()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "tui_helpdesk.cli", "--as", agent,
                                                stdin=slave, stdout=slave, stderr=slave, env=env,
                                                start_new_session=True)
    os.close(slave)
    loop = asyncio.get_running_loop()
    screen = Screen()

    async def read() -> bytes:
        return await loop.run_in_executor(None, os.read, master, 65536)

    try:
        await _until_rows(read, screen)
        return time.monotonic() - start
    finally:
        proc.kill()
        await proc.wait()
        os.close(master)


async def open_session(port: int, agent: str, key: asyncssh.SSHKey) -> tuple[float, object, object, Screen]:
    start = time.monotonic()
    conn = await asyncssh.connect("127.0.0.1", port, username=agent, client_keys=[key], known_hosts=None,
                                  agent_path=None)
    proc = await conn.create_process(term_type="xterm-256color", term_size=SIZE, encoding=None)
    screen = Screen()
    await _until_rows(lambda: proc.stdout.read(65536), screen)
    return time.monotonic() - start, conn, proc, screen


async def drain(proc, screen: Screen, seen: asyncio.Event) -> None:
    while True:
        data = await proc.stdout.read(65536)
        if not data:
            return
        screen.feed(data)
        seen.set()


def app_rss_kb(server_pid: int) -> list[int]:
    """RSS of every app process the server started (its children)."""
    out = subprocess.run(["ps", "--ppid", str(server_pid), "-o", "rss=,args="], capture_output=True, text=True)
    return [int(line.split()[0]) for line in out.stdout.splitlines() if "tui_helpdesk.cli" in line]


async def load_round(port: int, agent: str, key: asyncssh.SSHKey, count: int, server_pid: int,
                     presses: int = 6) -> dict[str, float]:
    sessions = await asyncio.gather(*(open_session(port, agent, key) for _ in range(count)))
    events = [asyncio.Event() for _ in sessions]
    drains = [asyncio.create_task(drain(proc, screen, ev)) for (_, _, proc, screen), ev in zip(sessions, events, strict=True)]
    await asyncio.sleep(1.0)
    latencies: list[float] = []
    for n in range(presses):
        for (_, _, proc, _), ev in zip(sessions, events, strict=True):
            ev.clear()
            sent = time.monotonic()
            proc.stdin.write(b"j" if n % 2 == 0 else b"k")
            try:
                await asyncio.wait_for(ev.wait(), 5.0)
                latencies.append(time.monotonic() - sent)
            except TimeoutError:
                latencies.append(5.0)
            await asyncio.sleep(0.5 / max(count, 1))
    rss = app_rss_kb(server_pid)
    for _, conn, _, _ in sessions:
        conn.close()
    for task in drains:
        task.cancel()
    await asyncio.sleep(2.0)  # the server ends the apps
    latencies.sort()
    return {
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(0.95 * (len(latencies) - 1))] * 1000,
        "max": latencies[-1] * 1000,
        "rss_mb": (statistics.median(rss) / 1024) if rss else 0.0,
        "open_s": statistics.median(s[0] for s in sessions),
    }


async def main_async(args: argparse.Namespace, port: int, key: asyncssh.SSHKey, server_pid: int) -> None:
    local, remote = [], []
    for _ in range(args.runs):
        local.append(await local_start(args.agent))
        elapsed, conn, _, _ = await open_session(port, args.agent, key)
        remote.append(elapsed)
        conn.close()
        await asyncio.sleep(1.0)
    lm, rm = statistics.median(local), statistics.median(remote)
    print(f"first queue rows, median of {args.runs}: local {lm:.2f} s, over SSH {rm:.2f} s, ratio {rm / lm:.2f}x")
    held = 0
    print(f"{'sessions':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'RSS/app MB':>11} {'open s':>7}")
    for count in args.sessions:
        r = await load_round(port, args.agent, key, count, server_pid)
        print(f"{count:>8} {r['p50']:>8.0f} {r['p95']:>8.0f} {r['max']:>8.0f} {r['rss_mb']:>11.0f} {r['open_s']:>7.1f}",
              flush=True)
        if r["p95"] <= 100:
            held = count
        else:
            break
    print(f"sessions held with p95 repaint <= 100 ms: {held} (load average {os.getloadavg()[0]:.1f}, "
          f"{os.cpu_count()} cores)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--agent", default="alice")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sessions", default="1,2,4,8,12,16")
    args = parser.parse_args()
    args.sessions = [int(n) for n in args.sessions.split(",")]
    tmp = None
    if args.data_dir is None:
        tmp = Path(tempfile.mkdtemp(prefix="helpdesk-ssh-bench-"))
        build_desk(tmp)
        args.data_dir = tmp
    os.environ["HELPDESK_DATA_DIR"] = str(args.data_dir)
    os.environ.pop("HELPDESK_DATABASE_URL", None)
    key = asyncssh.generate_private_key("ssh-ed25519", comment="benchmark")
    per_agent = list_key(args.agent, key)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "tui_helpdesk.cli", "serve", "--ssh", f"127.0.0.1:{port}",
                               "--no-http", "--no-worker"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True)
    try:
        assert server.stdout is not None
        print(server.stdout.readline().strip())
        asyncio.run(main_async(args, port, key, server.pid))
    finally:
        server.terminate()
        server.wait(30)
        unlist_key(key, per_agent)
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
