"""The worker loop and its lease, the app thread, and the mail commands of the CLI."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from mailflow_support import MailDesk, build_desk, message
from sqlalchemy import select, update

from tui_helpdesk import clock, worker
from tui_helpdesk.db import get_engine, session_scope
from tui_helpdesk.models import InboundMessage, Mailbox, Ticket


def test_only_one_worker_holds_the_lease(lite_desk: MailDesk) -> None:
    e = lite_desk.engine
    assert worker.acquire(e, "a")
    assert not worker.acquire(e, "b")
    assert worker.acquire(e, "a")  # renewal
    assert worker.run_once(e, "b") == {"skipped": 1}
    clock.advance(seconds=worker.LEASE.total_seconds() + 1)  # "a" crashed: its lease runs out
    assert worker.acquire(e, "b")
    worker.release(e, "b")
    assert worker.acquire(e, "a")


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
        s.add(InboundMessage(raw=message(subject="left behind"), message_id="<left@customer.test>"))
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


def test_cli_ingest_pipe_and_tempfail(sqlite_url: str, tmp_path: Path, monkeypatch) -> None:
    import os

    build_desk(get_engine(sqlite_url), tmp_path)
    env = {**os.environ, "HELPDESK_DATABASE_URL": sqlite_url, "HELPDESK_NOW": "2026-03-02T10:00:00Z"}
    done = _cli(["ingest", "--mailbox", "support@helpdesk.test"], message(subject="by pipe"), env)
    assert done.returncode == 0, done.stderr
    assert b"new_ticket" in done.stdout
    with session_scope(get_engine(sqlite_url), write=False) as s:
        assert len(s.execute(select(Ticket)).scalars().all()) == 1
    # garbage is kept (quarantined), which is still "accepted" for the MTA
    assert _cli(["ingest"], b"\x00garbage", env).returncode == 0
    down = {**env, "HELPDESK_DATABASE_URL": "postgresql+psycopg://nobody:x@127.0.0.1:1/none"}
    assert _cli(["ingest"], message(), down).returncode == 75


def test_cli_mailbox_and_queues(sqlite_url: str, tmp_path: Path, capsys) -> None:
    from tui_helpdesk import cli

    desk = build_desk(get_engine(sqlite_url), tmp_path)
    base = ["--as", "root"]
    import os

    os.environ["HELPDESK_DATABASE_URL"] = sqlite_url
    try:
        assert (
            cli.main(
                [
                    "mailbox",
                    "add",
                    "sales@helpdesk.test",
                    "--department",
                    "Support",
                    "--imap-host",
                    "127.0.0.1",
                    "--imap-port",
                    "1",
                    "--imap-security",
                    "none",
                    *base,
                ]
            )
            == 0
        )
        assert cli.main(["mailbox", "list", *base]) == 0
        assert "sales@helpdesk.test" in capsys.readouterr().out
        assert cli.main(["mailbox", "test", "sales@helpdesk.test", *base]) == 1
        assert "refused" in capsys.readouterr().out
        assert cli.main(["mailbox", "edit", "sales@helpdesk.test", "--after-fetch", "move", *base]) == 1
        assert cli.main(["mailbox", "delete", "sales@helpdesk.test", *base]) == 0
        r = desk.ingest(b"Subject: no sender\r\n\r\nhello\r\n")
        assert r.state == "quarantined"
        capsys.readouterr()
        assert cli.main(["mail", "quarantine", "list", *base]) == 0
        assert "no usable From" in capsys.readouterr().out
        assert cli.main(["mail", "quarantine", "retry", str(r.journal_id), *base]) == 1
        desk.ingest(message())
        assert cli.main(["outbox", "list", *base]) == 0
        assert "autoresponse.new_ticket" in capsys.readouterr().out
        assert cli.main(["outbox", "list", "--ticket", "TCK-1000", "--json", *base]) == 0
        # agents who are not admins may not manage mailboxes
        assert cli.main(["mailbox", "list", "--as", "sam"]) == 4
    finally:
        del os.environ["HELPDESK_DATABASE_URL"]
