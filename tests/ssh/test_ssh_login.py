"""Agents over SSH, end to end: a real server on 127.0.0.1, asyncssh's client, the app read with pyte."""

from __future__ import annotations

import asyncio
import json

import pyotp
import pyte
import pytest
from conftest import SshDesk, connect, run, wait_screen, wrong_code

from tui_helpdesk.services import ssh_access

# asyncssh (~0.2 s of CPU to import) is imported in the tests that name it: every xdist worker collects
# this file, only the one running these tests needs it.


def _text(screen: pyte.Screen) -> str:
    return "\n".join(screen.display)


def test_a_listed_key_opens_the_queue_and_a_resize_reflows_it(ssh_desk: SshDesk) -> None:
    async def go() -> tuple[str, str]:
        async with await connect(ssh_desk, "alice", "alice") as conn:
            proc = await conn.create_process(term_type="xterm-256color", term_size=(120, 30), encoding=None,
                                             env={"COLORTERM": "truecolor"})
            screen = pyte.Screen(120, 30)
            stream = pyte.ByteStream(screen)

            async def read() -> None:
                data = await proc.stdout.read(65536)
                if not data:
                    raise AssertionError(f"the app ended:\n{_text(screen)}")
                stream.feed(data)

            # the rows may first paint at the PTY's size before the client's (the child can start before
            # the window size reaches it), so wait for the 120-column layout itself: Requester fits there
            await wait_screen(read, lambda: all(n in _text(screen) for n in ssh_desk.numbers)
                              and "Requester" in _text(screen), "the queue rows at 120 columns")
            wide = _text(screen)
            proc.change_terminal_size(80, 24)
            screen.resize(24, 80)
            await wait_screen(read, lambda: "no room for" in _text(screen) and ssh_desk.numbers[-1] in _text(screen),
                              "the queue laid out again for 80 columns")
            narrow = _text(screen)
            assert len(ssh_desk.server.listener.live) == 1
        # the client hung up without quitting the app: the app's process ends with the connection
        for _ in range(200):
            if not ssh_desk.server.listener.live and not ssh_desk.server.gate.sessions():
                break
            await asyncio.sleep(0.05)
        assert not ssh_desk.server.listener.live, "the app outlived its connection"
        return wide, narrow

    wide, narrow = run(go())
    assert "Requester" in wide and "Requester" not in narrow.split("no room for")[0]
    assert all(len(line) <= 80 for line in narrow.splitlines())
    logins = [r for r in ssh_desk.audit(ssh_access.LOGIN) if r.actor == "alice"]
    assert logins and logins[-1].data["fingerprint"] == ssh_desk.keys["alice"].get_fingerprint("sha256")


def test_an_exec_request_runs_the_cli_as_the_agent_and_returns_json(ssh_desk: SshDesk) -> None:
    import asyncssh

    async def go() -> tuple[asyncssh.SSHCompletedProcess, asyncssh.SSHCompletedProcess]:
        async with await connect(ssh_desk, "alice", "alice") as conn:
            listed = await conn.run("ticket list --json", timeout=30)
            claimed = await conn.run("--as root ticket list", timeout=30)
            return listed, claimed

    listed, claimed = run(go())
    assert listed.exit_status == 0, listed.stderr
    numbers = {t["number"] for t in json.loads(listed.stdout)["tickets"]}
    assert numbers == set(ssh_desk.numbers)
    assert claimed.exit_status == 2 and "--as is not allowed" in claimed.stderr


@pytest.mark.parametrize(("username", "key", "reason"), [
    ("alice", "stranger", "unknown key"),
    ("ivan", "ivan", "agent deactivated"),
    ("nobody", "alice", "unknown user"),
])
def test_refused_logins_are_audited_with_the_fingerprint(ssh_desk: SshDesk, username: str, key: str,
                                                         reason: str) -> None:
    import asyncssh

    with pytest.raises(asyncssh.PermissionDenied):
        run(connect(ssh_desk, username, key))
    fingerprint = ssh_desk.keys[key].get_fingerprint("sha256")

    async def audited() -> None:
        for _ in range(100):
            if any(r.data.get("fingerprint") == fingerprint and r.data["username"] == username
                   for r in ssh_desk.audit(ssh_access.REFUSED)):
                return
            await asyncio.sleep(0.05)
        raise AssertionError("no refusal in the audit log")

    run(audited())
    row = next(r for r in ssh_desk.audit(ssh_access.REFUSED) if r.data["username"] == username)
    assert row.data["reason"] == reason and row.data["address"] == "127.0.0.1"


def test_totp_wrong_codes_are_refused_and_the_right_code_lets_in(ssh_desk: SshDesk) -> None:
    import asyncssh

    bad = wrong_code(ssh_desk.totp_secret)
    with pytest.raises(asyncssh.PermissionDenied):
        run(connect(ssh_desk, "tara", "tara", codes=[bad, bad, bad]))
    wrong = [r for r in ssh_desk.audit(ssh_access.REFUSED) if r.data["username"] == "tara"]
    assert [r.data["reason"] for r in wrong] == ["wrong TOTP code"] * 3
    assert wrong[0].data["fingerprint"] == ssh_desk.keys["tara"].get_fingerprint("sha256")

    async def good() -> str:
        async with await connect(ssh_desk, "tara", "tara", codes=[pyotp.TOTP(ssh_desk.totp_secret).now()]) as conn:
            return conn.get_extra_info("username")

    assert run(good()) == "tara"

    async def logged() -> None:
        for _ in range(100):
            if any(r.actor == "tara" for r in ssh_desk.audit(ssh_access.LOGIN)):
                return
            await asyncio.sleep(0.05)
        raise AssertionError("tara's login is not in the audit log")

    run(logged())


def test_the_key_alone_is_not_enough_when_totp_is_on(ssh_desk: SshDesk) -> None:
    import asyncssh

    with pytest.raises(asyncssh.PermissionDenied):
        run(connect(ssh_desk, "tara", "tara", codes=[]))


def test_shells_subsystems_and_forwarding_are_refused(ssh_desk: SshDesk) -> None:
    import asyncssh

    async def go() -> tuple[asyncssh.SSHCompletedProcess, str, str]:
        async with await connect(ssh_desk, "alice", "alice") as conn:
            reset = await conn.run("demo --reset", timeout=30)
            try:
                await conn.start_sftp_client()
                sftp = "opened"
            except asyncssh.Error as exc:
                sftp = type(exc).__name__
            try:
                await conn.open_connection("127.0.0.1", ssh_desk.port)
                tunnel = "opened"
            except asyncssh.Error as exc:
                tunnel = type(exc).__name__
            return reset, sftp, tunnel

    reset, sftp, tunnel = run(go())
    assert reset.exit_status == 2 and "not over SSH" in reset.stderr
    assert sftp != "opened" and tunnel != "opened"
