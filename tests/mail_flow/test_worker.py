"""The worker loop and its lease, the app thread, and the mail commands of the CLI."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from mailflow_support import MailDesk, build_desk, message
from sqlalchemy import select, update

from tui_helpdesk import clock, worker
from tui_helpdesk.db import get_engine, session_scope
from tui_helpdesk.models import InboundMessage, Mailbox, OutboundMessage, Ticket, TicketEvent, WorkerLock
from tui_helpdesk.services import inbound


def test_only_one_worker_holds_the_lease(lite_desk: MailDesk) -> None:
    e = lite_desk.engine
    assert worker.acquire(e, "a")
    assert not worker.acquire(e, "b")
    assert worker.acquire(e, "a")  # renewal
    assert worker.run_once(e, "b") == {"skipped": 1}
    later = worker.wall_now() + worker.LEASE + timedelta(seconds=1)  # "a" crashed: its lease runs out
    assert worker.acquire(e, "b", now=later)
    worker.release(e, "b")
    assert worker.acquire(e, "a")


def test_a_pinned_clock_never_writes_a_lease_into_the_future(lite_desk: MailDesk) -> None:
    e = lite_desk.engine
    clock.set_now("2030-01-01T00:00:00Z")
    assert worker.acquire(e, "pinned")
    _, expires = worker.holder_of(e)
    assert expires <= worker.wall_now() + worker.LEASE
    worker.release(e, "pinned")
    # a lease an older version wrote with a pinned future clock belongs to no live worker
    with session_scope(e) as s:
        stale = clock.parse_iso("2030-01-01T00:01:30Z")
        s.add(WorkerLock(name=worker.LOCK_NAME, holder="old", expires_at=stale))
    clock.set_now(None)
    assert worker.acquire(e, "real")


def test_run_once_fetches_sends_and_recovers(sqlite_url, tmp_path: Path, clean_imap, smtp_server) -> None:
    desk = build_desk(get_engine(sqlite_url), tmp_path, smtp=(smtp_server.host, smtp_server.port))
    with session_scope(desk.engine) as s:
        s.execute(
            update(Mailbox).values(
                imap_host=clean_imap.host,
                imap_port=clean_imap.port,
                imap_security="none",
                imap_user="support",
                imap_password=clean_imap.users["support"],
            )
        )
    # a journal row left pending by a crashed process
    inbound.journal(desk.engine, message(subject="left behind"))
    clean_imap.append("support", message(subject="from imap"))
    counts = worker.run_once(desk.engine, "me", attachments_dir=desk.attachments)
    assert counts["mail_fetched"] == 1 and counts["journal_done"] == 1
    assert counts["outbox_sent"] >= 2
    assert desk.tickets() == 2
    assert any("from imap" in m.message["Subject"] for m in smtp_server.received())
    # polled just now: not due again until poll_seconds have passed
    clean_imap.append("support", message(subject="second"))
    again = worker.run_once(desk.engine, "me")
    assert "skipped" not in again and "mail_fetched" not in again
    clock.advance(seconds=61)
    assert worker.run_once(desk.engine, "me")["mail_fetched"] == 1


def test_thread_mode_reports_status_and_stops(lite_desk: MailDesk) -> None:
    clock.set_now(None)
    lines: list[str] = []
    seen = threading.Event()

    def on_status(line: str) -> None:
        lines.append(line)
        seen.set()

    handle = worker.start_thread(lite_desk.engine, on_status, interval=0.05)
    assert seen.wait(10)
    handle.stop()
    assert not handle.running
    assert lines[0].startswith("worker: ok") and lines[-1] == "worker: stopped"
    assert handle.passes >= 1


def _cli(args: list[str], stdin: bytes, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tui_helpdesk.cli", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=120,
    )


def test_cli_ingest_pipe_and_tempfail(sqlite_url: str, tmp_path: Path, monkeypatch, capsys) -> None:
    """In this process: the pipe as a process (what it imports, the background stage) is test_pipe's."""
    import io

    from tui_helpdesk import cli

    build_desk(get_engine(sqlite_url), tmp_path)
    monkeypatch.setenv("HELPDESK_NOW", "2026-03-02T10:00:00Z")
    clock.set_now(None)

    def ingest(url: str, stdin: bytes, *extra: str) -> tuple[int, str]:
        monkeypatch.setenv("HELPDESK_DATABASE_URL", url)
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        capsys.readouterr()
        code = cli.main(["ingest", "--here", *extra])
        return code, capsys.readouterr().out

    code, out = ingest(sqlite_url, message(subject="by pipe"), "--mailbox", "support@helpdesk.test")
    assert code == 0 and "new_ticket" in out
    with session_scope(get_engine(sqlite_url), write=False) as s:
        assert len(s.execute(select(Ticket)).scalars().all()) == 1
    # garbage is kept (quarantined), which is still "accepted" for the MTA
    assert ingest(sqlite_url, b"\x00garbage")[0] == 0
    assert ingest("postgresql+psycopg://nobody:x@127.0.0.1:1/none", message())[0] == 75


def test_cli_mailbox_and_queues(sqlite_url: str, tmp_path: Path, capsys, monkeypatch) -> None:
    from tui_helpdesk import cli

    desk = build_desk(get_engine(sqlite_url), tmp_path)
    monkeypatch.setenv("HELPDESK_DATABASE_URL", sqlite_url)
    base = ["--as", "root"]

    def run(*args: str) -> tuple[int, str, str]:
        code = cli.main([*args, *base])
        out, err = capsys.readouterr()
        return code, out, err

    def mailbox(address: str) -> Mailbox | None:
        with session_scope(desk.engine, write=False) as s:
            return s.execute(select(Mailbox).where(Mailbox.address == address)).scalars().first()

    add = ["mailbox", "add", "sales@helpdesk.test", "--department", "Support", "--imap-host", "127.0.0.1",
           "--imap-port", "1", "--imap-security", "none"]
    assert run(*add)[0] == 0
    box = mailbox("sales@helpdesk.test")
    assert (box.imap_host, box.imap_port, box.imap_security, box.active) == ("127.0.0.1", 1, "none", True)
    code, out, _ = run("mailbox", "list", "--json")
    assert code == 0
    listed = {m["address"]: m for m in json.loads(out)}
    assert set(listed) == {"support@helpdesk.test", "sales@helpdesk.test"}
    assert listed["sales@helpdesk.test"]["imap_port"] == 1 and listed["sales@helpdesk.test"]["department"] == "Support"
    code, out, _ = run("mailbox", "test", "sales@helpdesk.test")
    assert code == 1 and "refused" in out
    # a move without a folder is refused, naming the field, and the mailbox is left as it was
    code, _, err = run("mailbox", "edit", "sales@helpdesk.test", "--after-fetch", "move")
    assert code == 1 and "move_to" in err
    assert mailbox("sales@helpdesk.test").after_fetch == box.after_fetch
    assert run("mailbox", "delete", "sales@helpdesk.test")[0] == 0
    assert mailbox("sales@helpdesk.test") is None  # it had no mail: deleted, not just deactivated

    r = desk.ingest(b"Subject: no sender\r\n\r\nhello\r\n")
    assert r.state == "quarantined"
    assert desk.ingest(b"Subject: no sender\r\n\r\nhello\r\n").journal_id == r.journal_id  # the MTA again
    code, out, _ = run("mail", "quarantine", "list", "--json")
    assert code == 0
    [held] = json.loads(out)
    assert (held["id"], held["subject"], held["state"]) == (r.journal_id, "no sender", "quarantined")
    assert held["deliveries"] == 2
    code, out, _ = run("mail", "quarantine", "list")
    assert code == 0 and "no sender" in out and "delivered 2 times" in out
    assert "no usable From" in held["reason"]
    code, out, _ = run("mail", "quarantine", "retry", str(r.journal_id))
    assert code == 1 and "no usable From" in out
    with session_scope(desk.engine, write=False) as s:
        row = s.get(InboundMessage, r.journal_id)
        assert (row.state, row.attempts) == ("quarantined", 2) and desk.tickets() == 0

    ticket = desk.ingest(message())
    number = desk.ticket(ticket.ticket_id).number
    code, out, _ = run("outbox", "list")
    assert code == 0 and "autoresponse.new_ticket" in out and number in out
    code, out, _ = run("outbox", "list", "--ticket", number, "--json")
    assert code == 0
    rows = json.loads(out)
    assert sorted((m["kind"], tuple(m["to"]), m["state"]) for m in rows) == [
        ("alert.new_ticket", ("root@helpdesk.test",), "queued"),
        ("alert.new_ticket", ("sam@helpdesk.test",), "queued"),
        ("autoresponse.new_ticket", ("carol@customer.test",), "queued"),
    ]
    assert {m["ticket"] for m in rows} == {number}
    # agents who are not admins may not manage mailboxes, and are told why
    assert cli.main(["mailbox", "list", "--as", "sam"]) == 4
    assert "not an admin" in capsys.readouterr().err


# --- the lease across processes: released on exit, short, renewed while a pass runs ----------------------


def _worker_cli(url: str, *extra: str, now: str | None = None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "HELPDESK_NOW"}
    env["HELPDESK_DATABASE_URL"] = url
    if now:
        env["HELPDESK_NOW"] = now
    return [sys.executable, "-m", "tui_helpdesk.cli", "worker", "--once", "--json", *extra], env


def _run_worker(url: str, *extra: str, now: str | None = None) -> dict:
    cmd, env = _worker_cli(url, *extra, now=now)
    done = subprocess.run(cmd, capture_output=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


@pytest.fixture
def worker_here(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """`helpdesk worker --once` in this process, with HELPDESK_NOW as a cron line would set it, for the
    tests whose subject is what a pass does (a dry run, a pinned clock), not the process: a process per
    call cost 2-4 s each. What a process leaves behind when it exits is tested through real processes
    above (back to back, signals, a kill)."""
    from tui_helpdesk import cli

    def run(url: str, *extra: str, now: str | None = None, as_json: bool = True) -> Any:
        monkeypatch.setenv("HELPDESK_DATABASE_URL", url)
        clock.set_now(None)  # the pin is HELPDESK_NOW's, as in the process
        if now:
            monkeypatch.setenv("HELPDESK_NOW", now)
        else:
            monkeypatch.delenv("HELPDESK_NOW", raising=False)
        capsys.readouterr()
        code = cli.main(["worker", "--once", *(["--json"] if as_json else []), *extra])
        out, err = capsys.readouterr()
        assert code == 0, err
        return json.loads(out) if as_json else out

    return run


class SilentServer:
    """A TCP listener that accepts and never answers: an IMAP fetch against it hangs, which keeps a
    worker inside its pass for as long as a test needs (until the IMAP timeout)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connected = threading.Event()
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            self.connected.set()

    def close(self) -> None:
        for c in self.conns:
            c.close()
        self.sock.close()


@pytest.fixture
def silent_imap(lite_desk: MailDesk) -> Iterator[SilentServer]:
    server = SilentServer()
    with session_scope(lite_desk.engine) as s:
        s.execute(update(Mailbox).values(imap_host="127.0.0.1", imap_port=server.port, imap_security="none",
                                         imap_user="support", imap_password="x"))
    try:
        yield server
    finally:
        server.close()


def _wait_for(condition, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def test_two_once_runs_back_to_back_both_work(lite_desk: MailDesk, sqlite_url: str) -> None:
    # a per-minute cron: the second run must not find the first one's lease
    first = _run_worker(sqlite_url)
    second = _run_worker(sqlite_url)
    assert "skipped" not in first["counts"] and "skipped" not in second["counts"]
    assert "timer_closed_after_window" in second["counts"]
    assert worker.holder_of(lite_desk.engine) is None


def _start_as_from_a_terminal(cmd: list[str], env: dict[str, str]) -> subprocess.Popen:
    """Popen with Ctrl-C's default action, as a shell's foreground job has it.

    A job a script starts with `&` gets SIGINT ignored (POSIX), its children inherit that, and a Python
    that starts with SIGINT ignored keeps ignoring it. So when the suite itself ran as a background job
    (the loaded runs), the worker here ignored the SIGINT and waited out its 30 s IMAP timeout; under
    .ci/run's `timeout`, which resets it, it never did. A handler in this process (rather than SIG_IGN)
    is reset to the default in the child by exec."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_mid_pass_releases_the_lease(lite_desk: MailDesk, sqlite_url: str, silent_imap, sig) -> None:
    cmd, env = _worker_cli(sqlite_url)
    proc = _start_as_from_a_terminal(cmd, env)
    try:
        assert silent_imap.connected.wait(60), "the worker never reached the mailbox"
        assert worker.holder_of(lite_desk.engine) is not None
        proc.send_signal(sig)
        assert proc.wait(30) == 128 + sig
    finally:
        proc.kill()
    assert b"Traceback" not in proc.stderr.read()
    assert worker.holder_of(lite_desk.engine) is None
    assert worker.acquire(lite_desk.engine, "cron")


def test_a_killed_worker_is_replaced_within_the_short_lease(
    lite_desk: MailDesk, sqlite_url: str, silent_imap
) -> None:
    replaced_within = 20.0  # seconds: "within seconds", whatever the lease is set to
    clock.set_now(None)  # the lease is about real time
    # shorter than the default 15 s so the test waits seconds, not half a minute; the heartbeat renews it
    # every second, which a loaded machine still manages (the renewal is one small write)
    lease = 3.0
    cmd, env = _worker_cli(sqlite_url)
    env[worker.LEASE_ENV] = str(lease)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert silent_imap.connected.wait(60), "the worker never reached the mailbox"
        # the pass outlives one lease: the heartbeat keeps it, so nobody else may act meanwhile
        start = time.monotonic()
        while time.monotonic() - start < lease * 1.5:
            assert proc.poll() is None, "the pass ended before the test could kill it"
            assert not worker.acquire(lite_desk.engine, "other"), "a live worker lost its lease"
            time.sleep(0.5)
        proc.kill()
        proc.wait(30)
        killed = time.monotonic()
        assert _wait_for(lambda: worker.acquire(lite_desk.engine, "other"), replaced_within)
        assert time.monotonic() - killed <= replaced_within
    finally:
        proc.kill()


# --- dry run and pinned clocks ------------------------------------------------------------------------------


def _state(desk: MailDesk) -> dict:
    with session_scope(desk.engine, write=False) as s:
        rows = s.execute(select(Ticket.number, Ticket.state, Ticket.version).order_by(Ticket.id)).all()
    return {
        "tickets": [tuple(r) for r in rows],
        "events": desk.count(TicketEvent),
        "outbox": desk.count(OutboundMessage),
        "lease": desk.count(WorkerLock),
    }


def _resolved_ticket(desk: MailDesk, subject: str) -> str:
    from tui_helpdesk.services import tickets

    with desk.tx() as tx:
        t = tickets.create(tx, subject=subject, body="Please", contact_email="bob@acme.example",
                           department="Support")
    with desk.tx() as tx:
        tickets.resolve(tx, t.number, notes="fixed")
    return t.number


def test_dry_run_lists_what_the_timers_would_do_and_changes_nothing(
    lite_desk: MailDesk, sqlite_url: str, worker_here
) -> None:
    # build_desk pinned the clock to 2026-03-02 09:00; both are resolved then, the window is 7 days
    old = [_resolved_ticket(lite_desk, "Old one"), _resolved_ticket(lite_desk, "Old two")]
    clock.set_now("2026-03-06T09:00:00Z")
    recent = _resolved_ticket(lite_desk, "Recent")
    before = _state(lite_desk)
    report = worker_here(sqlite_url, "--dry-run", now="2026-03-10T09:00:00Z")
    assert report["dry_run"] is True
    assert report["timers"]["closed_after_window"] == {"count": 2, "tickets": old}
    assert recent not in report["timers"]["closed_after_window"]["tickets"]
    assert _state(lite_desk) == before  # no ticket, event, outbox row or lease changed
    # the real pass at the same time does what the dry run said
    done = worker_here(sqlite_url, now="2026-03-10T09:00:00Z")
    assert done["counts"]["timer_closed_after_window"] == 2


def test_dry_run_text_names_the_tickets(lite_desk: MailDesk, sqlite_url: str, worker_here) -> None:
    number = _resolved_ticket(lite_desk, "Old")
    out = worker_here(sqlite_url, "--dry-run", now="2026-03-10T09:00:00Z", as_json=False)
    assert f"closed_after_window: 1 ({number})" in out
    assert "nothing was changed" in out
    assert lite_desk.count(Ticket, Ticket.state == "closed") == 0


def test_after_a_pinned_future_run_a_real_worker_is_not_skipped(
    lite_desk: MailDesk, sqlite_url: str, worker_here
) -> None:
    future = worker_here(sqlite_url, now="2030-01-01T00:00:00Z")
    assert "skipped" not in future["counts"]
    assert worker.holder_of(lite_desk.engine) is None
    assert "skipped" not in worker_here(sqlite_url)["counts"]
