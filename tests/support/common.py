"""Small helpers shared by the service starters."""

from __future__ import annotations

import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import pytest

REQUIRE_ENV = "HELPDESK_REQUIRE_SERVICES"


def services_required() -> bool:
    """CI sets HELPDESK_REQUIRE_SERVICES=1 so a missing server is an error, not a quiet skip."""
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def unavailable(reason: str) -> NoReturn:
    """Skip the test, or fail it when the services are required."""
    if services_required():
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1, so this is an error)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A port that was free a moment ago; callers retry if another process takes it first."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0, alive: subprocess.Popen | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and alive.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def is_root() -> bool:
    return os.geteuid() == 0


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def chown_tree(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)


def as_user(user: str | None, argv: Sequence[str]) -> list[str]:
    """Wrap a command so it runs as `user` (only meaningful when we are root)."""
    if user is None:
        return list(argv)
    if shutil.which("runuser"):
        return ["runuser", "-u", user, "--", *argv]
    # su needs one shell string; the arguments here are paths and options we built ourselves.
    return ["su", "-s", "/bin/sh", user, "-c", shlex.join(argv)]


def make_service_dir(prefix: str) -> Path:
    """A private temp dir outside pytest's tmp root: that root is 0700 root-owned and the service
    users (postgres, nobody) could not reach anything below it."""
    return Path(tempfile.mkdtemp(prefix=prefix))
