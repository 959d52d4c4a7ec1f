"""Peak memory of one `helpdesk ingest` process for a big message.

    python benchmarks/ingest_memory.py [--mb 50] [--kind attachment|text|html]

Builds a fresh SQLite desk in a temporary folder, writes a message of about --mb megabytes (a short
text and one base64 attachment, or one long text or HTML body), pipes it into a real `helpdesk ingest` process
(with --here, so that the same process journals and processes it, as the background stage
would) and prints the process's peak resident memory (getrusage's ru_maxrss of the child) and what the
ingest said. The size limit is raised above the message so that it is parsed, not refused.
"""

from __future__ import annotations

import argparse
import base64
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


RUNNER = """
import resource, subprocess, sys
with open(sys.argv[1], "rb") as fh:
    done = subprocess.run([sys.executable, "-m", "tui_helpdesk.cli", "ingest", "--here"], stdin=fh,
                          capture_output=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
sys.stdout.write(f"{peak}\\0{done.returncode}\\0{done.stdout.decode()}\\0{done.stderr.decode()}")
"""


def big_message(megabytes: float, kind: str) -> bytes:
    size = int(megabytes * 1_000_000)
    head = (
        "From: carol@customer.test\r\nTo: support@helpdesk.test\r\nSubject: the big scan\r\n"
        "Message-ID: <big-1@customer.test>\r\nMIME-Version: 1.0\r\n"
    )
    if kind in ("text", "html"):
        line = ("All work and no play makes Jack a dull boy. " * 2)[:76] + "\r\n"
        line = f"<p>{line[:-2]}</p>\r\n" if kind == "html" else line
        body = line * (size // len(line))
        return (head + f"Content-Type: text/{'plain' if kind == 'text' else 'html'}; charset=utf-8\r\n\r\n"
                + body).encode()
    payload = base64.encodebytes(os.urandom(size * 3 // 4)).replace(b"\n", b"\r\n")
    return (
        (head + 'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n'
         "The scan is attached.\r\n--b\r\nContent-Type: application/pdf; name=\"scan.pdf\"\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\n").encode()
        + payload
        + b"\r\n--b--\r\n"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=50)
    ap.add_argument("--kind", choices=("attachment", "text", "html"), default="attachment")
    args = ap.parse_args()
    from tui_helpdesk.db import get_engine, session_scope
    from tui_helpdesk.services import settings, setup

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/helpdesk.db"
        engine = get_engine(url)
        with session_scope(engine) as s:
            setup.create_first_admin(s, "bench", "Bench Admin", "bench@bench.test")
            settings.put(s, "max_message_bytes", 10**9)
        engine.dispose()
        raw = big_message(args.mb, args.kind)
        message_file = Path(tmp) / "message.eml"
        message_file.write_bytes(raw)
        size = len(raw)
        del raw
        env = {**os.environ, "HELPDESK_DATABASE_URL": url, "HELPDESK_DATA_DIR": tmp}
        # Linux carries a process's peak RSS across exec, and a child started from this process (which
        # built the message) would start with this process's peak: a small runner starts the ingest.
        start = time.monotonic()
        runner = subprocess.run([sys.executable, "-c", RUNNER, str(message_file)], env=env, capture_output=True)
        took = time.monotonic() - start
        peak_kb, code, out, err = runner.stdout.decode().split("\0")
        peak_mb = int(peak_kb) / 1024
        done = subprocess.CompletedProcess([], int(code), out.encode(), err.encode())
        print(f"{size / 1e6:.1f} MB {args.kind} message: peak RSS {peak_mb:.0f} MB, {took:.1f} s, "
              f"exit {done.returncode}: {done.stdout.decode().strip()} {done.stderr.decode().strip()[-300:]}")


if __name__ == "__main__":
    main()
