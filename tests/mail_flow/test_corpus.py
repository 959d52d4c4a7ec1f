"""Every message of the shared mail corpus through the real ingest, in SHARDS SQLite databases.

None may crash, hang or vanish: each journal row ends done, ignored or quarantined (with a reason), and
its raw bytes are the file's bytes.

The corpus is split by a hash of each file's bytes, so that files with the same bytes (the journal keeps
one row for them, counting deliveries) land in the same shard, and the shards are separate tests: one
20 s test was the last thing a loaded CI run waited for, alone on one worker.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from mailflow_support import build_desk
from sqlalchemy import func, select
from support.corpus import CORPUS, needs_corpus

from tui_helpdesk.db import get_engine, session_scope
from tui_helpdesk.models import InboundMessage
from tui_helpdesk.services import inbound

PER_MESSAGE_LIMIT = 10.0  # seconds; a hang shows up as a failure naming the file
SHARDS = 4


def corpus_files() -> list[tuple[Path, str]]:
    """(file, catalog kind: message, body-text, html-fragment, mbox, ...) for every fixture."""
    rows = (CORPUS / "CATALOG.tsv").read_text(encoding="utf-8").splitlines()
    header = next(i for i, line in enumerate(rows) if line.startswith("path\t"))
    out = []
    for line in rows[header + 1 :]:
        if line.strip():
            path, kind = line.split("\t")[:2]
            out.append((CORPUS / path, kind))
    return out


def shard_of(raw: bytes) -> int:
    return hashlib.sha256(raw).digest()[0] % SHARDS


@needs_corpus
@pytest.mark.parametrize("shard", range(SHARDS))
def test_whole_corpus_is_ingested_without_loss(sqlite_url: str, tmp_path: Path, shard: int) -> None:
    desk = build_desk(get_engine(sqlite_url), tmp_path)
    every = corpus_files()
    assert len(every) > 1000
    files = [(path, kind, raw) for path, kind in every if shard_of(raw := path.read_bytes()) == shard]
    assert len(files) > len(every) // (2 * SHARDS)  # the hash spreads them; no shard is left (nearly) empty
    journal: dict[int, Path] = {}
    kinds: dict[int, str] = {}
    for path, kind, raw in files:
        start = time.monotonic()
        result = inbound.ingest_raw(
            desk.engine, raw, mailbox_id=desk.mailbox_id, attachments_dir=tmp_path / "att"
        )
        assert time.monotonic() - start < PER_MESSAGE_LIMIT, f"{path} took too long"
        assert result.state in ("done", "ignored", "quarantined"), path
        if result.state == "quarantined":
            assert result.reason, path
        journal[result.journal_id] = path
        kinds[result.journal_id] = kind
    with session_scope(desk.engine, write=False) as s:
        rows = [
            (row_id, state, inbound.read_raw(s.connection(), row_id))
            for row_id, state in s.execute(select(InboundMessage.id, InboundMessage.state)).all()
        ]
    # one row per file, except that the same bytes quarantined again are one row counting deliveries
    assert len(rows) == len(journal)
    with session_scope(desk.engine, write=False) as s:
        deliveries = s.execute(select(func.sum(InboundMessage.deliveries))).scalar_one()
    assert deliveries == len(files)
    for row_id, state, raw in rows:
        assert state != "pending"
        assert raw == journal[row_id].read_bytes()
    # whole messages (not bare bodies or fragments) must mostly become tickets, replies, bounces or
    # auto-replies; quarantine is for the truly broken
    messages = [state for row_id, state, _ in rows if kinds[row_id] == "message"]
    assert messages.count("quarantined") < len(messages) * 0.15
