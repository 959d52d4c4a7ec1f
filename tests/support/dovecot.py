"""A private Dovecot IMAP server: own config, own dirs, own port, plaintext logins on loopback."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from .common import chown_tree, free_port, is_root, make_service_dir, user_exists, wait_for_port

DEFAULT_USERS: dict[str, str] = {
    "support": "support-secret",
    "alice": "alice-secret",
    "bob": "bob-secret",
}


class DovecotUnavailable(RuntimeError):
    """Dovecot is not installed; the fixture turns this into a skip (or a failure in CI)."""


def find_dovecot() -> Path | None:
    for candidate in ("/usr/sbin/dovecot", shutil.which("dovecot")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def _accounts() -> tuple[str, str, str]:
    """(login user, internal/mail user, mail group). Dovecot will not run its login processes as root;
    without root we cannot switch users at all, so everything runs as ourselves."""
    if not is_root():
        me = pwd.getpwuid(os.geteuid()).pw_name
        return me, me, grp.getgrgid(os.getegid()).gr_name
    login = "dovenull" if user_exists("dovenull") else "nobody"
    internal = "nobody"
    group = grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name
    return login, internal, group


def _config(base: Path, port: int, login: str, internal: str, group: str) -> str:
    return f"""\
# Written by the test fixtures; nothing here touches the system's /etc/dovecot.
instance_name = helpdesk-test-{port}
base_dir = {base}/run
state_dir = {base}/state
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# Tests log in with wrong passwords on purpose; the usual delays would add seconds to every later login.
auth_failure_delay = 0
log_path = {base}/dovecot.log
default_login_user = {login}
default_internal_user = {internal}
default_internal_group = {group}
mail_location = maildir:{base}/mail/%n
mail_uid = {internal}
mail_gid = {group}
first_valid_uid = 1
first_valid_gid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {base}/passwd
}}
userdb {{
  driver = static
  args = home={base}/mail/%n
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
# Every test logs in a few times (clean_imap alone logs in each user): a new login and mail process per
# connection cost the server ~21 ms of CPU a login, a reused one 1.5 ms. The users share one uid here.
service imap-login {{
  chroot =
  service_count = 0
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service imap {{
  service_count = 0
}}
service anvil {{
  chroot =
  # Turns the per-IP failed-login penalty off: every test connects from 127.0.0.1.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


@dataclass
class DovecotServer:
    """A running Dovecot. `users` maps login name to password; every mailbox starts empty."""

    host: str
    port: int
    users: dict[str, str]
    base_dir: Path
    config_file: Path
    _process: subprocess.Popen | None = field(default=None, repr=False)

    def client(self, user: str) -> IMAPClient:
        """A logged-in IMAPClient; use it as a context manager so it logs out."""
        imap = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        imap.login(user, self.users[user])
        return imap

    def append(
        self, user: str, raw: bytes, folder: str = "INBOX", flags: tuple[bytes, ...] = ()
    ) -> int | None:
        """Deliver one raw RFC 5322 message; returns its UID (Dovecot reports it via UIDPLUS)."""
        with self.client(user) as imap:
            if folder.upper() != "INBOX":
                try:
                    imap.create_folder(folder)
                except IMAPClientError:
                    pass  # it exists already; a real problem shows in the APPEND below
            response = imap.append(folder, raw, flags=flags)
        return _appended_uid(response)

    def reset(self, user: str) -> None:
        """Empty INBOX and delete every other folder, so the user looks brand new (UIDs keep rising)."""
        with self.client(user) as imap:
            # Children first; a parent that only existed implicitly vanishes with its last child.
            for flags, _sep, name in sorted(imap.list_folders(), key=lambda f: -len(f[2])):
                if name.upper() != "INBOX" and not {b"\\NonExistent", b"\\Noselect"} & set(flags):
                    imap.delete_folder(name)
            imap.select_folder("INBOX")
            uids = imap.search("ALL")
            if uids:
                imap.delete_messages(uids)
                imap.expunge()
            imap.close_folder()

    def reset_all(self) -> None:
        for user in self.users:
            self.reset(user)

    def uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        with self.client(user) as imap:
            return int(imap.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"])

    def change_uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        """Give the folder a new UIDVALIDITY, as a server does when it rebuilds its index; messages stay.
        Returns the new value."""
        new = self.uidvalidity(user, folder) + 1
        subprocess.run(
            [
                "doveadm",
                "-c",
                str(self.config_file),
                "mailbox",
                "update",
                "-u",
                user,
                "--uid-validity",
                str(new),
                folder,
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
        return new

    def log(self) -> str:
        path = self.base_dir / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
            self._process = None
        shutil.rmtree(self.base_dir, ignore_errors=True)


def _appended_uid(response: bytes | None) -> int | None:
    # "[APPENDUID <uidvalidity> <uid>] Append completed."
    if not response or b"APPENDUID" not in response:
        return None
    try:
        return int(response.split(b"APPENDUID", 1)[1].split(b"]", 1)[0].split()[1])
    except (IndexError, ValueError):
        return None


def start(users: dict[str, str] | None = None) -> DovecotServer:
    binary = find_dovecot()
    if binary is None:
        raise DovecotUnavailable("Dovecot not found (install Debian's `dovecot-imapd`)")
    users = dict(users or DEFAULT_USERS)
    login, internal, group = _accounts()

    base = make_service_dir("helpdesk-imap-")
    # The unprivileged Dovecot processes must reach the config, passwd file and mail below here.
    base.chmod(0o755)
    for sub in ("run", "state", "mail"):
        (base / sub).mkdir()
    (base / "passwd").write_text("".join(f"{name}:{password}::::::\n" for name, password in users.items()))
    if is_root():
        chown_tree(base / "mail", internal)

    last_log = ""
    for _attempt in range(5):
        port = free_port()
        config = base / "dovecot.conf"
        config.write_text(_config(base, port, login, internal, group))
        # A file, not a pipe: nobody reads a pipe while the server runs, and a full one would block it.
        with (base / "stdout.log").open("ab") as out:
            process = subprocess.Popen(
                [str(binary), "-F", "-c", str(config)], stdin=subprocess.DEVNULL, stdout=out, stderr=out
            )
        if wait_for_port(port, alive=process):
            server = DovecotServer("127.0.0.1", port, users, base, config, process)
            _wait_for_login(server)
            return server
        process.terminate()
        process.wait(timeout=15)
        last_log = "".join(
            (base / name).read_text(errors="replace")
            for name in ("stdout.log", "dovecot.log")
            if (base / name).exists()
        )
    shutil.rmtree(base, ignore_errors=True)
    raise RuntimeError(f"could not start Dovecot:\n{last_log}")


def _wait_for_login(server: DovecotServer, timeout: float = 15.0) -> None:
    # The listener opens before the auth process is ready; a first login can fail for a moment.
    deadline = time.monotonic() + timeout
    user = next(iter(server.users))
    while True:
        try:
            with server.client(user):
                return
        except Exception:
            if time.monotonic() > deadline:
                server.stop()
                raise
            time.sleep(0.1)
