"""Issue 10 item 12: a `helpdesk ingest` killed -9 after writing an attachment file but before its
commit leaves the file with no row; the worker's pass sweeps it (after a grace period), and keeps the
files rows name and the files of a transaction that may still be running."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from mailflow_support import build_desk
from sqlalchemy import select

from tui_helpdesk import worker
from tui_helpdesk.db import get_engine, session_scope
from tui_helpdesk.models import Attachment, InboundMessage

# The real CLI in a real process, killed by SIGKILL right after the attachment files are written.
KILLED_INGEST = """
import os, signal, sys
from tui_helpdesk.services import inbound
real = inbound._store_attachments
def store_then_die(*args, **kwargs):
    real(*args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
inbound._store_attachments = store_then_die
from tui_helpdesk.cli import main
sys.exit(main(["ingest", "--here", "--mailbox", "support@helpdesk.test"]))
"""

MAIL = (
    b"From: carol@customer.test\r\nTo: support@helpdesk.test\r\nSubject: scan\r\n"
    b"Message-ID: <scan-1@customer.test>\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nThe scan.\r\n'
    b'--b\r\nContent-Type: application/pdf; name="scan.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
    b"JVBERi0xLjQK\r\n--b--\r\n"
)


def _files(root: Path) -> set[Path]:
    return {p for p in root.glob("*/*") if p.is_file()}


def test_a_killed_ingest_leaves_a_file_that_the_worker_sweeps(sqlite_url: str, tmp_path: Path) -> None:
    engine = get_engine(sqlite_url)
    desk = build_desk(engine, tmp_path)
    data = tmp_path / "data"
    env = {**os.environ, "HELPDESK_DATABASE_URL": sqlite_url, "HELPDESK_DATA_DIR": str(data),
           "HELPDESK_NOW": "2026-03-02T10:00:00Z"}  # fmt: skip
    killed = subprocess.run([sys.executable, "-c", KILLED_INGEST], input=MAIL, env=env, capture_output=True,
                            timeout=120)  # fmt: skip
    assert killed.returncode == -9, killed.stderr
    store = data / "attachments"
    [orphan] = _files(store)
    with session_scope(engine, write=False) as s:
        assert s.execute(select(Attachment)).first() is None
        assert s.execute(select(InboundMessage.state)).scalar_one() == "pending"
    # a young orphan may be a transaction still running: kept
    counts = worker.run_once(engine, attachments_dir=store)
    assert orphan.exists()
    # the pass finished the journal row: its file has a row now (and stays), the orphan is still young
    with session_scope(engine, write=False) as s:
        [row] = s.execute(select(Attachment)).scalars().all()
    kept = store / row.storage_name
    assert kept.exists() and kept != orphan and counts.get("journal_done") == 1
    # two hours later the orphan goes; the file its row names stays, however old; foreign files stay
    stranger = store / "README"
    stranger.write_text("not ours")
    old = time.time() - 2 * 3600
    for path in (orphan, kept, stranger):
        os.utime(path, (old, old))
    counts = worker.run_once(engine, attachments_dir=store)
    assert counts.get("attachments_orphans_removed") == 1
    assert not orphan.exists() and kept.exists() and stranger.exists()
    assert desk.tickets() == 1
