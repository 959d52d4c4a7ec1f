"""Issue 10 item 11: a journaled message's bytes are written once, apart from the journal row, and no
state change writes them again (on SQLite a row holding 50 MB was read and rewritten whole on every
update: one `helpdesk ingest` of a 51 MB message peaked at 312 MB; benchmarks/ingest_memory.py)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from mailflow_support import MailDesk
from sqlalchemy import Engine, text

from tui_helpdesk.db import session_scope
from tui_helpdesk.models import InboundMessage
from tui_helpdesk.services import inbound

BIG = 4 * 1024 * 1024


def _wal_bytes(engine: Engine) -> int:
    wal = Path(f"{engine.url.database}-wal")
    return wal.stat().st_size if wal.exists() else 0


def _truncate_wal(engine: Engine) -> None:
    engine.dispose()  # no pooled connection holds a read snapshot that keeps frames in the log
    with engine.connect() as conn:
        busy, _, _ = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    assert busy == 0 and _wal_bytes(engine) == 0


def _with_attachment(payload: bytes) -> bytes:
    return (
        b"From: carol@customer.test\r\nTo: support@helpdesk.test\r\nSubject: the big scan\r\n"
        b"Message-ID: <scan-1@customer.test>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n'
        b'The scan is attached.\r\n--b\r\nContent-Type: application/pdf; name="scan.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(payload).replace(b"\n", b"\r\n")
        + b"\r\n--b--\r\n"
    )


def test_processing_and_quarantine_never_write_the_bytes_again(lite_desk: MailDesk) -> None:
    desk = lite_desk
    desk.set("max_message_bytes", 1000)
    raw = _with_attachment(os.urandom(BIG))
    journal_id, _ = inbound.journal(desk.engine, raw)
    assert desk.raw(journal_id) == raw
    _truncate_wal(desk.engine)
    # too big: quarantined (a state change and a notice), then retried after the limit is raised
    assert inbound.process(desk.engine, journal_id, attachments_dir=desk.attachments).outcome == "too_big"
    desk.set("max_message_bytes", 0)
    assert inbound.retry(desk.engine, journal_id, attachments_dir=desk.attachments).outcome == "new_ticket"
    # before: each of those updates wrote the whole 5.5 MB row into the write-ahead log again
    assert _wal_bytes(desk.engine) < BIG // 4, f"{_wal_bytes(desk.engine)} bytes written by state changes"
    with session_scope(desk.engine, write=False) as s:
        row = s.get(InboundMessage, journal_id)
        assert (row.state, row.size, row.attempts) == ("done", len(raw), 2)
    assert desk.raw(journal_id) == raw


def test_the_migration_moves_the_bytes_of_existing_rows(engine: Engine) -> None:
    from alembic import command

    from tui_helpdesk import db

    cfg = db.alembic_config(engine)
    command.downgrade(cfg, "0016")
    raw = b"From: carol@customer.test\r\nSubject: kept\r\n\r\n" + bytes(range(256)) * 10
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO inbound_message (message_id, raw, received_at, state, outcome, reason, attempts,"
                 " server_done, deliveries) VALUES ('<kept@x>', :raw, CURRENT_TIMESTAMP, 'quarantined', '', '',"
                 " 1, false, 1)"),
            {"raw": raw},
        )  # fmt: skip
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        journal_id, size = conn.execute(text("SELECT id, size FROM inbound_message")).one()
        assert size == len(raw) and inbound.read_raw(conn, journal_id) == raw
