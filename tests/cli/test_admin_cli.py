"""`helpdesk db|setup|agent|setting|demo`, the bare command, and a run through a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from sqlalchemy import select

from tui_helpdesk import cli
from tui_helpdesk.cli import EXIT_CONFLICT, EXIT_ERROR, EXIT_PERMISSION
from tui_helpdesk.db import get_engine, session_scope
from tui_helpdesk.models import AuditLog
from tui_helpdesk.services.context import Actor, reading
from tui_helpdesk.services.errors import ValidationError


def test_setup_makes_the_first_admin_once(run):
    first = run("--json", "setup", "--username", "root", "--name", "Root Admin")
    assert first.code == 0, first.err
    assert first.data["username"] == "root" and first.data["admin"] is True
    again = run("setup", "--username", "eve", "--name", "Eve")
    assert again.code == EXIT_CONFLICT and "already has agents" in again.err


def test_agent_add_and_list(desk):
    result = desk(
        "--json",
        "agent",
        "add",
        "sue",
        "--name",
        "Sue Super",
        "--email",
        "sue@example.com",
        "--department",
        "Support",
        "--role",
        "Supervisor",
    )
    assert result.code == 0, result.err
    assert result.data == {
        "id": result.data["id"],
        "username": "sue",
        "name": "Sue Super",
        "email": "sue@example.com",
        "admin": False,
        "active": True,
        "department": "Support",
        "role": "Supervisor",
    }
    listed = desk("--json", "agent", "list")
    assert [a["username"] for a in listed.data] == ["olly", "root", "sam", "sue"]
    again = desk("--json", "agent", "add", "sue", "--name", "Sue Again")
    assert again.code == EXIT_ERROR and again.error["field"] == "username"
    bad = desk("--json", "agent", "add", "tim", "--name", "Tim", "--role", "Wizard")
    assert bad.code == EXIT_ERROR and bad.error["field"] == "role"
    # only admins add agents
    assert desk("--as", "sam", "agent", "add", "tim", "--name", "Tim").code == EXIT_PERMISSION
    human = desk("agent", "list")
    assert human.out.splitlines()[0].split()[:2] == ["USERNAME", "NAME"]


def test_settings_get_and_set(desk):
    assert desk("--json", "setting", "get", "reopen_window_days").data == {"reopen_window_days": 7}
    result = desk("--json", "setting", "set", "reopen_window_days", "14")
    assert result.code == 0 and result.data == {"reopen_window_days": 14}
    assert desk("setting", "get", "reopen_window_days").out == "14\n"
    bad = desk("--json", "setting", "set", "closed_reopen_policy", "sometimes")
    assert bad.code == EXIT_ERROR and bad.error["field"] == "closed_reopen_policy"
    assert desk("--json", "setting", "get", "no_such_key").error["field"] == "no_such_key"
    assert desk("--as", "sam", "setting", "set", "reopen_window_days", "1").code == EXIT_PERMISSION
    desk("setting", "set", "smtp_password", "hunter2")
    everything = desk("--json", "setting", "get").data
    assert everything["reopen_window_days"] == 14 and everything["smtp_password"] == "(set)"
    # the number prefix shows in the next ticket
    assert desk("setting", "set", "number_prefix", "HD").code == 0
    created = desk(
        "--json",
        "ticket",
        "create",
        "--subject",
        "S",
        "--body",
        "B",
        "--contact",
        "a@b.example",
        "--department",
        "Support",
    )
    assert created.data["number"] == "HD-1000"


def test_the_cli_refuses_what_the_admin_screen_refuses(desk, sqlite_url):
    """`setting set` and `agent add` are the admin screen's services: one validation, naming the field."""
    from tui_helpdesk.services import admin

    with reading(get_engine(sqlite_url), Actor(None, "root", is_admin=True)) as tx:
        with pytest.raises(ValidationError) as screen:
            admin.set_setting(tx, "attachment_max_mb", "0")
    cli_says = desk("--json", "setting", "set", "attachment_max_mb", "0")
    assert cli_says.code == EXIT_ERROR
    assert cli_says.error == {"error": str(screen.value), "field": "attachment_max_mb", "code": EXIT_ERROR}
    assert desk("--json", "setting", "get", "attachment_max_mb").data == {"attachment_max_mb": 25}
    bad_from = desk("--json", "setting", "set", "default_from", "not an address")
    assert bad_from.code == EXIT_ERROR and bad_from.error["field"] == "default_from"
    bad_login = desk("--json", "agent", "add", "tim smith", "--name", "Tim")
    assert bad_login.code == EXIT_ERROR and bad_login.error["field"] == "username"
    bad_email = desk("--json", "agent", "add", "tim", "--name", "Tim", "--email", "tim@")
    assert bad_email.code == EXIT_ERROR and bad_email.error["field"] == "email"
    assert [a["username"] for a in desk("--json", "agent", "list").data] == ["olly", "root", "sam"]


def test_secret_settings_are_write_only_for_everyone(desk, sqlite_url):
    assert desk("setting", "get", "smtp_password").out == "(not set)\n"
    assert desk("setting", "set", "smtp_password", "hunter2").out == "smtp_password = (set)\n"
    for who in ("root", "sam"):
        assert desk("--as", who, "setting", "get", "smtp_password").out == "(set)\n"
        assert desk("--as", who, "--json", "setting", "get", "smtp_password").data == {
            "smtp_password": "(set)"
        }
        listing = desk("--as", who, "setting", "get")
        assert "smtp_password: (set)" in listing.out.splitlines() and "hunter2" not in listing.out
        assert desk("--as", who, "--json", "setting", "get").data["mail_secret"] in ("(set)", "(not set)")
    assert desk("--json", "setting", "reset", "smtp_password").data == {"smtp_password": "(not set)"}
    with session_scope(get_engine(sqlite_url), write=False) as s:
        rows = s.execute(select(AuditLog).where(AuditLog.object_type == "setting")).scalars().all()
        audited = [(r.action, r.data) for r in rows]
    assert audited == [
        ("setting.update", {"key": "smtp_password", "changes": {"smtp_password": "(changed)"}}),
        ("setting.reset", {"key": "smtp_password"}),
    ]
    assert "hunter2" not in json.dumps(audited)


def test_db_upgrade_creates_a_fresh_database(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'fresh' / 'hd.db'}"
    monkeypatch.setenv("HELPDESK_DATABASE_URL", url)
    assert cli.main(["--json", "db", "upgrade"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["defaults_created"] is True and out["revision"]
    assert (tmp_path / "fresh" / "hd.db").exists()
    assert cli.main(["--json", "db", "upgrade"]) == 0
    assert json.loads(capsys.readouterr().out)["defaults_created"] is False


def test_demo_refuses_a_database_with_tickets_unless_reset(engine_run, db_url):
    """On both engines: erasing and refilling a desk is engine-specific work. On PostgreSQL the first demo
    is big enough (20+) for the outage's links and merge, the one run of them there; on SQLite they run
    in tests/services/test_demo.py's 90 tickets, so a small one does."""
    run = engine_run
    count = 20 if db_url.startswith("postgresql") else 6
    first = run("--json", "demo", "--tickets", str(count), "--admin", "root")
    assert first.code == 0, first.err
    assert first.data["tickets"] == count
    listed = run("--json", "ticket", "list", "--as", "root", "--limit", "200")
    assert listed.data["total"] > 0
    again = run("demo", "--tickets", "25")
    assert again.code == EXIT_CONFLICT and "--reset" in again.err
    reset = run("--json", "demo", "--tickets", "6", "--reset", "--admin", "root", "--seed", "7")
    assert reset.code == 0, reset.err
    everything = run("--json", "ticket", "list", "--query", "is:all", "--limit", "500")
    assert everything.data["total"] == 6


def test_bare_helpdesk_runs_the_app_with_the_config(run, monkeypatch):
    seen = {}
    app = types.ModuleType("tui_helpdesk.tui.app")

    def fake_run(config):
        seen["config"] = config
        return 0

    app.run = fake_run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tui_helpdesk.tui.app", app)
    assert cli.main(["--as", "sam"]) == 0
    assert seen["config"].agent == "sam"


def test_bare_helpdesk_without_the_app_says_so(run, monkeypatch):
    monkeypatch.setitem(sys.modules, "tui_helpdesk.tui.app", None)  # import fails as if it were missing
    result = run()
    if result.code == 0:
        pytest.skip("the terminal app exists")  # pragma: no cover
    assert result.code == EXIT_ERROR


def test_a_script_through_a_real_process(sqlite_desk, sqlite_url, tmp_path):
    # SQLite only, and two processes (each pays the interpreter's start and imports, ~1-2 s of CPU): the
    # subject is the process (arguments, stdin, stdout, exit codes, stderr, the console script); the
    # commands themselves run on both engines in-process in tests/cli/test_tickets_cli.py.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env.update(
        HELPDESK_DATABASE_URL=sqlite_url,
        HELPDESK_DATA_DIR=str(tmp_path / "data"),
        HELPDESK_CONFIG_DIR=str(tmp_path / "config"),
    )
    python = sys.executable

    script = Path(python).with_name("helpdesk")  # the installed console script is the same program
    module = [python, "-m", "tui_helpdesk.cli"]

    def helpdesk(
        *argv: str, stdin: str | None = None, program: list[str] = module
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*program, "--as", "root", *argv],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    created = sqlite_desk(
        "--json", "ticket", "create", "--subject", "From cron", "--body", "disk 91% full",
        "--contact", "ops@acme.example", "--department", "Support", "--priority", "High",
    )  # fmt: skip
    assert created.code == 0, created.err
    number = created.data["number"]
    replied = helpdesk("ticket", "reply", number, "--body", "-", "--json", stdin="Cleaned up /var/log")
    assert replied.returncode == 0, replied.stderr
    answer = json.loads(replied.stdout)
    assert answer["entry"]["body"] == "Cleaned up /var/log" and answer["ticket"]["number"] == number
    missing = helpdesk("ticket", "show", "TCK-4040", program=[str(script)] if script.exists() else module)
    assert missing.returncode == 3 and missing.stderr == "helpdesk: error: no ticket TCK-4040\n"
    assert missing.stdout == ""
    shown = sqlite_desk("--json", "ticket", "show", number)
    assert shown.code == 0, shown.err
    assert [i["body"] for i in shown.data["thread"] if i["kind"] == "reply"] == ["Cleaned up /var/log"]
    listed = sqlite_desk("--json", "ticket", "list")
    assert listed.code == 0, listed.err
    assert [t["number"] for t in listed.data["tickets"]] == [number]


def test_help_starts_without_the_database_stack():
    code = (
        "import sys, tui_helpdesk.cli as c; c.build_parser(); "
        "print(','.join(m for m in ('sqlalchemy', 'sqlmodel', 'alembic', 'textual') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_no_admin_row_carries_a_secret_value(desk, sqlite_url):
    """The rows every face gets from services/admin know only whether a secret is set."""
    from tui_helpdesk.services import admin

    assert desk("setting", "set", "smtp_password", "hunter2").code == 0
    with reading(get_engine(sqlite_url), Actor(None, "root", is_admin=True)) as tx:
        rows = {r.key: r for r in admin.list_settings(tx)}
    assert rows["smtp_password"].display == "(set)" and "hunter2" not in repr(rows["smtp_password"])
    assert rows["mail_secret"].display in ("(set)", "(not set)")
