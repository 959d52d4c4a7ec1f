"""The journal's door: raw bytes into ``inbound_message``, committed, before anything else happens.

Written with SQLAlchemy Core and the standard library only, no ORM and no models: an MTA starts one
`helpdesk ingest` process per message, and when a worker is running that process only journals the
message (the worker processes it within a second), so what it imports is what it costs. The tables are
described here as far as the journal needs them; tests/mail_flow/test_pipe.py checks them against the
models. services/inbound.py does the processing and re-exports these functions.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32

from sqlalchemy import (
    Boolean,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    String,
    Text,
    bindparam,
    column,
    delete,
    func,
    insert,
    select,
    table,
    update,
)

from tui_helpdesk.db import is_sqlite
from tui_helpdesk.mail.parse import normalize_msgid
from tui_helpdesk.mail.threading import SYNTHETIC_SUFFIX
from tui_helpdesk.untrusted import clean_line

inbound_message = table(
    "inbound_message",
    column("id", Integer),
    column("mailbox_id", Integer),
    column("uidvalidity", Integer),
    column("uid", Integer),
    column("message_id", String),
    column("size", Integer),
    column("received_at", DateTime(timezone=True)),
    column("state", String),
    column("outcome", String),
    column("reason", Text),
    column("attempts", Integer),
    column("server_done", Boolean),
    column("deliveries", Integer),
)
# The bytes apart from the row: a state change rewrites the row, and must not rewrite 50 MB with it.
inbound_raw = table("inbound_raw", column("journal_id", Integer), column("raw", LargeBinary))
mailbox = table(
    "mailbox", column("id", Integer), column("address", String), column("last_uid", Integer),
    column("uidvalidity", Integer),
)  # fmt: skip
worker_lock = table(
    "worker_lock", column("name", String), column("holder", String), column("expires_at", DateTime(timezone=True))
)  # fmt: skip
LOCK_NAME = "worker"
# No holder grants itself a lease this far ahead: one that ends later was written by a pinned clock (an
# older version wrote leases with HELPDESK_NOW) and belongs to no live process.
LEASE_CEILING = timedelta(minutes=2)
# The lease a pipe takes for the processing stage it starts: long enough for the stage's interpreter to
# start on a loaded machine and renew it (worker.LEASE is its renewal), short enough that a stage that
# never started is replaced soon.
STAGE_LEASE = timedelta(seconds=30)


_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_HEADER_BLOCK_MAX = 1024 * 1024
_BLOB_CHUNK = 1 << 20


@dataclass(frozen=True)
class IngestResult:
    journal_id: int
    state: str  # pending | done | ignored | quarantined
    outcome: str  # new_ticket | reply | reopened | new_ticket_late | refused | bounce | auto_reply | duplicate | ...
    ticket_id: int | None = None
    entry_id: int | None = None
    reason: str = ""
    already_journaled: bool = False


def journal_message_id(raw: bytes) -> str:
    """The Message-ID to dedupe on: the header's, or one derived from the bytes when there is none."""
    found = None
    try:
        # the header block only: given the whole message, the parser decodes and splits the body too
        end = _BLANK_LINE.search(raw, 0, _HEADER_BLOCK_MAX)
        headers = BytesHeaderParser(policy=compat32).parsebytes(
            raw[: end.end()] if end else raw[:_HEADER_BLOCK_MAX]
        )
        found = normalize_msgid(str(headers.get("message-id") or "")) if headers.get("message-id") else None
    except Exception:  # noqa: BLE001 - broken headers are the parser's business, not the journal's
        found = None
    if found and len(found) <= 400 and "\n" not in found:
        return clean_line(found)
    return f"<{hashlib.sha256(raw).hexdigest()[:40]}{SYNTHETIC_SUFFIX}"


def _now() -> datetime:
    from tui_helpdesk import clock

    return clock.now()


def journal(
    engine: Engine,
    raw: bytes,
    *,
    mailbox_id: int | None = None,
    uidvalidity: int | None = None,
    uid: int | None = None,
) -> tuple[int, bool]:
    """Store the raw bytes and commit; returns (journal id, whether this message was journaled before).

    Before means: the same UID of the same mailbox, or the very same bytes sitting in quarantine (an MTA
    retrying, a folder read again), which then count one more delivery on their row.
    """
    begin = engine.execution_options(sqlite_begin="IMMEDIATE") if is_sqlite(engine) else engine
    with begin.begin() as conn:
        found = _journal_one(conn, raw, mailbox_id, uidvalidity, uid)
        _advance_last_uid(conn, mailbox_id, uidvalidity, uid)
        return found


def journal_batch(
    engine: Engine, fetched: list[tuple[int, bytes]], *, mailbox_id: int, uidvalidity: int
) -> list[tuple[int, bool]]:
    """Journal the messages of one IMAP FETCH in one transaction: (journal id, journaled before) for
    each (uid, raw bytes), in order. The mailbox's last UID advances in the same commit, so the batch is
    either all journaled and skipped by the next poll, or none of it is and it is fetched again."""
    if not fetched:
        return []
    begin = engine.execution_options(sqlite_begin="IMMEDIATE") if is_sqlite(engine) else engine
    with begin.begin() as conn:
        found = [_journal_one(conn, raw, mailbox_id, uidvalidity, uid) for uid, raw in fetched]
        _advance_last_uid(conn, mailbox_id, uidvalidity, max(uid for uid, _raw in fetched))
        return found


def _journal_one(
    conn, raw: bytes | bytearray, mailbox_id: int | None, uidvalidity: int | None, uid: int | None
) -> tuple[int, bool]:
    """One message into the journal within the caller's transaction (which advances the last UID)."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", errors="surrogateescape")
    if not isinstance(raw, bytes | bytearray):
        raw = bytes(raw)
    message_id = journal_message_id(raw)
    if mailbox_id is not None and uid is not None:
        by_uid = _STATEMENTS["by_uid"] if uidvalidity is not None else select(inbound_message.c.id).where(
            inbound_message.c.mailbox_id == mailbox_id,
            inbound_message.c.uidvalidity.is_(None),
            inbound_message.c.uid == uid,
        )  # fmt: skip
        existing = conn.execute(by_uid, {"mailbox_id": mailbox_id, "uidvalidity": uidvalidity, "uid": uid}).scalar()
        if existing is not None:
            return int(existing), True
    again = _quarantined_copy(conn, message_id, raw)
    if again is not None:
        conn.execute(
            update(inbound_message)
            .where(inbound_message.c.id == again)
            .values(deliveries=inbound_message.c.deliveries + 1)
        )
        return again, True
    journal_id = conn.execute(
        _STATEMENTS["insert"],
        {
            "mailbox_id": mailbox_id,
            "uidvalidity": uidvalidity,
            "uid": uid,
            "message_id": message_id,
            "size": len(raw),
            "received_at": _now().astimezone(UTC),
            "state": "pending",
            "outcome": "",
            "reason": "",
            "attempts": 0,
            "server_done": False,
            "deliveries": 1,
        },
    ).scalar_one()
    _write_raw(conn, int(journal_id), raw)
    return int(journal_id), False


# The statements every journaled message runs, built once (building one cost more than running it).
_STATEMENTS = {
    "by_uid": select(inbound_message.c.id).where(
        inbound_message.c.mailbox_id == bindparam("mailbox_id"),
        inbound_message.c.uidvalidity == bindparam("uidvalidity"),
        inbound_message.c.uid == bindparam("uid"),
    ),
    "quarantined": select(inbound_message.c.id).where(
        inbound_message.c.message_id == bindparam("message_id"),
        inbound_message.c.state == "quarantined",
        inbound_message.c.size == bindparam("size"),
    ),
    "insert": insert(inbound_message).returning(inbound_message.c.id),
}


def _write_raw(conn, journal_id: int, raw: bytes | bytearray) -> None:
    """The bytes, written once. On SQLite as a zeroblob filled through the blob API in chunks: a bound
    50 MB parameter is copied by the driver and again into the record, where this goes page by page."""
    dbapi = conn.connection.driver_connection if conn.dialect.name == "sqlite" else None
    if dbapi is None or not hasattr(dbapi, "blobopen") or not raw:
        conn.execute(insert(inbound_raw).values(journal_id=journal_id, raw=bytes(raw)))
        return
    conn.exec_driver_sql(
        "INSERT INTO inbound_raw (journal_id, raw) VALUES (?, zeroblob(?))", (journal_id, len(raw))
    )
    view = memoryview(raw)
    with dbapi.blobopen("inbound_raw", "raw", journal_id) as blob:
        for start in range(0, len(view), _BLOB_CHUNK):
            blob.write(view[start : start + _BLOB_CHUNK])


def _advance_last_uid(conn, mailbox_id: int | None, uidvalidity: int | None, uid: int | None) -> None:
    # Advancing the mailbox's high-water mark with the journal row: a message is either journaled and
    # skipped next poll, or neither.
    if mailbox_id is not None and uid is not None:
        conn.execute(
            update(mailbox)
            .where(mailbox.c.id == mailbox_id, mailbox.c.last_uid < uid)
            .values(last_uid=uid, uidvalidity=uidvalidity)
        )


def _quarantined_copy(conn, message_id: str, raw: bytes) -> int | None:
    """The quarantined row holding these very bytes, if any (a Message-ID alone proves nothing)."""
    candidates = conn.execute(_STATEMENTS["quarantined"], {"message_id": message_id, "size": len(raw)}).scalars()
    for journal_id in candidates.all():
        if read_raw(conn, int(journal_id)) == raw:
            return int(journal_id)
    return None


def read_raw(conn, journal_id: int) -> bytes:
    """A journal row's raw bytes, on SQLite through the blob API: SELECTing a 50 MB column holds it
    twice (SQLite's row buffer and the bytes made from it) where this reads it into one buffer."""
    if conn.dialect.name == "sqlite":
        dbapi = conn.connection.driver_connection
        if hasattr(dbapi, "blobopen"):
            try:
                with dbapi.blobopen("inbound_raw", "raw", journal_id, readonly=True) as blob:
                    return blob.read()
            except dbapi.OperationalError:  # no such row: the SELECT below says so as every engine does
                pass
    raw = conn.execute(select(inbound_raw.c.raw).where(inbound_raw.c.journal_id == journal_id)).scalar_one()
    return bytes(raw)


def read_raw_head(conn, journal_id: int, limit: int) -> bytes:
    """The first ``limit`` bytes of a journal row's message (its header block, for one too big to read)."""
    if conn.dialect.name == "sqlite":
        dbapi = conn.connection.driver_connection
        if hasattr(dbapi, "blobopen"):
            with dbapi.blobopen("inbound_raw", "raw", journal_id, readonly=True) as blob:
                return blob.read(limit)
    raw = conn.execute(
        select(func.substr(inbound_raw.c.raw, 1, limit)).where(inbound_raw.c.journal_id == journal_id)
    ).scalar_one()
    return bytes(raw)


def mailbox_id_for(engine: Engine, address: str) -> int | None:
    """The mailbox with this address (`ingest --mailbox`), or None."""
    with engine.connect() as conn:
        found = conn.execute(
            select(mailbox.c.id).where(mailbox.c.address == address.strip().lower())
        ).scalar()
    return int(found) if found is not None else None


def acquire_lease(engine: Engine, holder: str, lease: timedelta, *, now: datetime | None = None) -> bool:
    """Take or renew the worker's lease (the row in ``worker_lock``); False while another live holder has
    it. The one rule for the lease: tui_helpdesk/worker.py's workers take it here, and so does the MTA
    pipe for the processing stage it starts when no worker runs, without importing the ORM."""
    from sqlalchemy.exc import IntegrityError

    now = now or datetime.now(UTC).replace(microsecond=0)
    begin = engine.execution_options(sqlite_begin="IMMEDIATE") if is_sqlite(engine) else engine
    try:
        with begin.begin() as conn:
            row = conn.execute(
                select(worker_lock.c.holder, worker_lock.c.expires_at)
                .where(worker_lock.c.name == LOCK_NAME)
                .with_for_update()
            ).first()
            if row is None:
                conn.execute(insert(worker_lock).values(name=LOCK_NAME, holder=holder, expires_at=now + lease))
                return True
            expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
            live = now < expires <= now + LEASE_CEILING
            if row.holder != holder and live:
                return False
            conn.execute(
                update(worker_lock)
                .where(worker_lock.c.name == LOCK_NAME)
                .values(holder=holder, expires_at=now + lease)
            )
            return True
    except IntegrityError:
        return False  # another holder inserted the first lease at the same moment


def release_lease(engine: Engine, holder: str) -> None:
    """Give the lease up, if this holder still has it."""
    with engine.begin() as conn:
        conn.execute(delete(worker_lock).where(worker_lock.c.name == LOCK_NAME, worker_lock.c.holder == holder))


def worker_alive(engine: Engine, name: str = "worker") -> bool:
    """Whether a worker holds a live lease (tui_helpdesk/worker.py): it will process what is journaled.

    The lease is on the wall clock, as the worker writes it (a pinned help-desk clock never leases)."""
    with engine.connect() as conn:
        expires = conn.execute(select(worker_lock.c.expires_at).where(worker_lock.c.name == name)).scalar()
    if expires is None:
        return False
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    return expires > datetime.now(UTC)


def has_pending(engine: Engine) -> bool:
    """Whether a journaled message waits for processing (the worker looks between its passes)."""
    with engine.connect() as conn:
        return (
            conn.execute(
                select(inbound_message.c.id).where(inbound_message.c.state == "pending").limit(1)
            ).first()
            is not None
        )
