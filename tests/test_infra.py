"""The test fixtures start real services: these fail if one of them is a stand-in or is not there."""

from __future__ import annotations

import os
import smtplib
import sqlite3
from email.message import EmailMessage
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, create_engine, text
from support.dovecot import DovecotServer
from support.postgres import PgServer
from support.smtp import SmtpServer

from tui_helpdesk import config, db


def test_postgres_answers(pg_server: PgServer) -> None:
    with psycopg.connect(pg_server.conninfo()) as conn:
        version = conn.execute("SELECT version()").fetchone()
    assert version is not None and version[0].startswith("PostgreSQL ")


def test_db_url_is_migrated_and_private(engine: Engine, db_url: str, request: pytest.FixtureRequest) -> None:
    with engine.begin() as conn:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        conn.execute(text("INSERT INTO setting (key, value) VALUES ('infra-probe', '1')"))
    assert revision == db.head_revision()
    assert engine.dialect.name == ("sqlite" if db_url.startswith("sqlite") else "postgresql")

    # The write must not reach the template the next test is copied from.
    if engine.dialect.name == "sqlite":
        template_url = f"sqlite:///{request.getfixturevalue('_sqlite_template')}"
    else:
        template_url = request.getfixturevalue("pg_server").url_for(request.getfixturevalue("_pg_template"))
    template = create_engine(template_url)
    try:
        with template.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM setting")).scalar() == 0
    finally:
        template.dispose()


def test_sqlite_url_is_a_real_file(sqlite_url: str) -> None:
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
    conn.close()


def test_environment_points_at_temp_dirs(tmp_path: Path) -> None:
    assert config.data_dir() == tmp_path / "data"
    assert config.config_dir() == tmp_path / "config"
    assert "HELPDESK_DATABASE_URL" not in os.environ


def test_clock_pin_does_not_leak_into_the_next_test(pytester: pytest.Pytester) -> None:
    # Two tests in one inner session, in a fixed order, so xdist cannot split them across workers.
    pytester.makeconftest("from support.isolation import _isolated_environment  # noqa: F401\n")
    pytester.makepyfile(
        test_pair="""
        from tui_helpdesk import clock

        def test_pins():
            clock.set_now("2001-02-03T04:05:06Z")

        def test_sees_a_running_clock():
            assert clock.now().year != 2001
        """
    )
    # The snapshot plugin keeps session state in module globals that an inner session would clobber.
    result = pytester.runpytest_inprocess(
        "-p", "no:xdist", "-p", "no:textual-snapshot", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=2)


def test_dovecot_login_append_fetch(clean_imap: DovecotServer) -> None:
    raw = b"From: carol@example.com\r\nTo: support@example.com\r\nSubject: Printer on fire\r\n\r\nHelp.\r\n"
    uid = clean_imap.append("support", raw)
    with clean_imap.client("support") as imap:
        imap.select_folder("INBOX", readonly=True)
        assert imap.search("ALL") == [uid]
        fetched = imap.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"]
    assert fetched == raw


def test_dovecot_rejects_a_wrong_password(imap_server: DovecotServer) -> None:
    from imapclient import IMAPClient
    from imapclient.exceptions import LoginError

    with IMAPClient(imap_server.host, port=imap_server.port, ssl=False, timeout=10) as imap:
        with pytest.raises(LoginError):
            imap.login("support", "not-the-password")


def test_dovecot_reset_and_uidvalidity(clean_imap: DovecotServer) -> None:
    clean_imap.append("alice", b"Subject: one\r\n\r\n1\r\n")
    clean_imap.append("alice", b"Subject: two\r\n\r\n2\r\n", folder="Archive")
    before = clean_imap.uidvalidity("alice")
    assert clean_imap.change_uidvalidity("alice") != before
    assert clean_imap.uidvalidity("alice") != before

    clean_imap.reset("alice")
    with clean_imap.client("alice") as imap:
        assert [name for _f, _s, name in imap.list_folders()] == ["INBOX"]
        imap.select_folder("INBOX")
        assert imap.search("ALL") == []


def _send(server: SmtpServer, subject: str) -> None:
    msg = EmailMessage()
    msg["From"] = "agent@helpdesk.example"
    msg["To"] = "customer@example.com"
    msg["Subject"] = subject
    msg.set_content("Your ticket is resolved.")
    with smtplib.SMTP(server.host, server.port, timeout=10) as smtp:
        smtp.send_message(msg, to_addrs=["customer@example.com", "cc@example.com"])


def test_smtp_records_what_was_sent(smtp_server: SmtpServer) -> None:
    _send(smtp_server, "TCK-1 resolved")
    [received] = smtp_server.received()
    assert received.mail_from == "agent@helpdesk.example"
    assert received.rcpt_tos == ("customer@example.com", "cc@example.com")
    assert received.message["Subject"] == "TCK-1 resolved"


def test_smtp_stop_makes_sending_fail_and_start_recovers(smtp_server: SmtpServer) -> None:
    smtp_server.stop()
    with pytest.raises(OSError):
        _send(smtp_server, "lost")
    smtp_server.start()
    _send(smtp_server, "delivered")
    assert [m.message["Subject"] for m in smtp_server.received()] == ["delivered"]
