"""The host key: made on first start (ed25519, mode 0600) in the data dir, the same key ever after, so
agents' known_hosts stay right."""

from __future__ import annotations

import os
from pathlib import Path

import asyncssh

FILE_NAME = "ssh_host_ed25519_key"


def load_or_create(data_dir: Path) -> tuple[asyncssh.SSHKey, Path, bool]:
    """(the key, its file, whether it was made now)."""
    path = Path(data_dir) / FILE_NAME
    if path.exists():
        return asyncssh.read_private_key(str(path)), path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    key = asyncssh.generate_private_key("ssh-ed25519", comment="tui-helpdesk host key")
    # created 0600 from the start: never a moment where another account could read it
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.export_private_key("openssh"))
    path.with_name(FILE_NAME + ".pub").write_bytes(key.export_public_key("openssh"))
    return key, path, True


def fingerprint(key: asyncssh.SSHKey) -> str:
    return key.get_fingerprint("sha256")
