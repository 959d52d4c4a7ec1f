"""services/ssh_access.py without a server: rate limits, session limits, what exec may run, and the CLI that
manages keys and TOTP (`helpdesk agent key ...`, `helpdesk agent totp ...`)."""

from __future__ import annotations

import json

import pyotp
import pytest
from sqlalchemy import Engine, select

from tui_helpdesk import cli, db
from tui_helpdesk.models import AuditLog
from tui_helpdesk.services import admin, settings, setup, ssh_access
from tui_helpdesk.services.context import Actor, resolve_actor, transaction
from tui_helpdesk.services.errors import Conflict, PermissionDenied, ValidationError


@pytest.fixture
def desk(sqlite_url: str) -> tuple[Engine, Actor, Actor]:
    engine = db.get_engine(sqlite_url)
    with db.session_scope(engine) as s:
        setup.create_first_admin(s, "root", "Root Admin", "root@example.com")
    with db.session_scope(engine) as s:
        root = resolve_actor(s, "root", "cli")
    with transaction(engine, root) as tx:
        admin.create_agent(tx, username="sam", name="Sam", department="Support", role="Agent")
    with db.session_scope(engine) as s:
        sam = resolve_actor(s, "sam", "cli")
    return engine, root, sam


def _pub(comment: str = "k") -> str:
    import asyncssh  # here: every xdist worker collects this file; asyncssh is ~0.2 s of CPU to import

    return asyncssh.generate_private_key("ssh-ed25519", comment=comment).export_public_key("openssh").decode()


def test_failed_logins_lock_out_the_username_then_the_address(desk) -> None:
    engine, _, _ = desk
    gate = ssh_access.SshGate(engine, address_limit=4, user_limit=2)
    for _ in range(2):
        attempt = ssh_access.Attempt(address="10.0.0.9", username="sam")
        gate.admit(attempt)
        assert not gate.check_key(attempt, "SHA256:nope").accepted
        gate.gave_up(attempt)
    with pytest.raises(ssh_access.RateLimited):
        gate.admit(ssh_access.Attempt(address="10.0.0.7", username="sam"))  # the user, from anywhere
    gate.admit(ssh_access.Attempt(address="10.0.0.9", username="root"))  # the address may still try others
    for name in ("a", "b"):
        attempt = ssh_access.Attempt(address="10.0.0.9", username=name)
        gate.check_key(attempt, "SHA256:nope")
        gate.gave_up(attempt)
    with pytest.raises(ssh_access.RateLimited):
        gate.admit(ssh_access.Attempt(address="10.0.0.9", username="root"))
    with db.session_scope(engine, write=False) as s:
        reasons = s.execute(select(AuditLog.data).where(AuditLog.action == ssh_access.REFUSED)).scalars().all()
    assert [r["reason"] for r in reasons] == ["unknown key"] * 2 + ["unknown user"] * 2
    assert reasons[0]["fingerprint"] == "SHA256:nope" and reasons[0]["address"] == "10.0.0.9"


def test_session_limits_per_agent_and_in_total(desk) -> None:
    engine, root, sam = desk
    with db.session_scope(engine) as s:
        settings.put(s, "ssh_max_sessions_per_agent", 2)
        settings.put(s, "ssh_max_sessions", 3)
    gate = ssh_access.SshGate(engine)
    held = [gate.open_session(sam, "h", "app"), gate.open_session(sam, "h", "exec")]
    with pytest.raises(ssh_access.SessionRefused, match="ssh_max_sessions_per_agent"):
        gate.open_session(sam, "h", "app")
    held.append(gate.open_session(root, "h", "app"))
    with pytest.raises(ssh_access.SessionRefused, match="ssh_max_sessions"):
        gate.open_session(root, "h", "app")
    gate.close_session(held.pop(0))
    gate.open_session(sam, "h", "app")
    assert gate.sessions() == {"sam": 2, "root": 1}


def test_the_desk_can_require_totp_of_everyone(desk) -> None:
    engine, root, _ = desk
    key = _pub()
    with transaction(engine, root) as tx:
        ssh_access.add_key(tx, "sam", key)
        settings.put(tx.session, "ssh_require_totp", True)
    fingerprint = ssh_access.parse_public_key(key).fingerprint
    gate = ssh_access.SshGate(engine)
    verdict = gate.check_key(ssh_access.Attempt(address="h", username="sam"), fingerprint)
    assert not verdict.accepted and verdict.reason == "TOTP required by the desk and not set up"
    with transaction(engine, root) as tx:
        secret = ssh_access.enable_totp(tx, "sam").secret
    attempt = ssh_access.Attempt(address="h", username="sam")
    assert gate.check_key(attempt, fingerprint).needs_totp
    code = pyotp.TOTP(secret).now()
    assert gate.check_totp(attempt, code)
    assert not gate.check_totp(attempt, code)  # a code is good once


def test_exec_runs_the_cli_as_the_agent_only() -> None:
    assert ssh_access.SshGate.exec_argv("ticket list --json") == ["ticket", "list", "--json"]
    assert ssh_access.SshGate.exec_argv("helpdesk ticket show 'TCK-1'") == ["ticket", "show", "TCK-1"]
    for refused in ("", "--as=root ticket list", "ticket list --as root", "--json demo --reset", "db upgrade",
                    "serve --ssh 0:22", "ticket 'unclosed", "bash -i", "--version"):
        with pytest.raises(ValidationError) as err:
            ssh_access.SshGate.exec_argv(refused)
        assert err.value.field == "command"


def test_every_cli_command_is_either_run_as_the_agent_or_refused_over_ssh() -> None:
    from tui_helpdesk import cli

    assert not ssh_access.EXEC_AS_AGENT & ssh_access.EXEC_DESK_ONLY
    assert set(cli.COMMANDS) == ssh_access.EXEC_AS_AGENT | ssh_access.EXEC_DESK_ONLY


def test_an_agent_manages_only_their_own_keys(desk) -> None:
    engine, root, sam = desk
    sams_key = _pub("sam")
    with transaction(engine, root) as tx:
        roots = ssh_access.add_key(tx, "root", _pub("root"))
    with transaction(engine, sam) as tx:
        mine = ssh_access.add_key(tx, "sam", sams_key)
        assert [k.id for k in ssh_access.list_keys(tx)] == [mine.id]
        with pytest.raises(PermissionDenied):
            ssh_access.add_key(tx, "root", _pub())
        with pytest.raises(PermissionDenied):
            ssh_access.remove_key(tx, roots.id)
        with pytest.raises(PermissionDenied):
            ssh_access.enable_totp(tx, "root")
    with transaction(engine, root) as tx, pytest.raises(Conflict, match="another agent"):
        ssh_access.add_key(tx, "root", sams_key)  # a key names one agent


def test_the_cli_adds_lists_and_removes_keys_and_prints_the_totp_qr(desk, tmp_path, monkeypatch, capsys) -> None:
    engine, _, _ = desk
    monkeypatch.setenv("HELPDESK_DATABASE_URL", str(engine.url))
    monkeypatch.setenv("HELPDESK_AGENT", "root")
    pub = tmp_path / "id_ed25519.pub"
    pub.write_text(_pub("sam@laptop"))

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, _ = run("agent", "key", "add", "sam", str(pub))
    assert code == 0 and out.startswith("key SHA256:") and "added for sam" in out
    code, out, _ = run("agent", "key", "list", "sam", "--json")
    (row,) = json.loads(out)
    assert row["username"] == "sam" and row["comment"] == "sam@laptop" and row["last_used_at"] is None
    code, _, err = run("agent", "key", "add", "sam", str(tmp_path / "missing.pub"))
    assert code == 1 and "file: cannot read" in err
    code, _, err = run("--json", "agent", "key", "add", "sam", str(tmp_path))
    assert code == 1 and json.loads(err)["field"] == "file"
    code, out, _ = run("agent", "key", "remove", row["fingerprint"])
    assert code == 0 and "removed" in out
    assert json.loads(run("agent", "key", "list", "--json")[1]) == []

    code, out, _ = run("agent", "totp", "enable", "sam")
    assert code == 0 and "otpauth://totp/tui-helpdesk:sam?secret=" in out
    assert "▀" in out or "█" in out  # the QR code, in half blocks
    assert max(len(line) for line in out.splitlines() if "█" in line or "▀" in line) <= 80
    assert run("agent", "totp", "enable", "sam")[0] == 5  # already on
    assert run("agent", "totp", "disable", "sam")[0] == 0


def test_serve_ssh_refuses_to_start_under_an_account_that_does_not_own_the_desk(tmp_path, monkeypatch,
                                                                                 capsys) -> None:
    import os

    if os.geteuid() != 0:
        pytest.skip("needs root to give the desk's directory to another account")
    desk_dir = tmp_path / "desk"
    desk_dir.mkdir()
    os.chown(desk_dir, 65534, 65534)  # nobody's desk; this process is root's
    monkeypatch.setenv("HELPDESK_DATABASE_URL", f"sqlite:///{desk_dir}/helpdesk.db")
    monkeypatch.delenv("HELPDESK_AGENT", raising=False)
    code = cli.main(["serve", "--ssh", "127.0.0.1:2222", "--no-http", "--no-worker"])
    assert code == 4
    assert "must run as the account that owns the help desk's data" in capsys.readouterr().err
    assert not (desk_dir / "ssh_host_ed25519_key").exists()
