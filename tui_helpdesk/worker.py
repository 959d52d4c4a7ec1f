"""The background loop: poll due mailboxes, finish pending journal rows, send the outbox, run timers.

Only one worker acts per database at a time. It holds a lease, a row in ``worker_lock`` with an
expiry that each pass renews; a holder that crashed simply stops renewing and another takes over
once the lease has run out. Every agent's app can start a worker thread: the ones that do not hold
the lease idle, so a mailbox is never fetched twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from tui_helpdesk import clock
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import WorkerLock

log = logging.getLogger(__name__)

LOCK_NAME = "worker"
LEASE = timedelta(seconds=90)
INTERVAL = 10.0


def new_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(engine: Engine, holder: str, lease: timedelta = LEASE) -> bool:
    """Take or renew the lease; False while another live holder has it."""
    now = clock.now()
    try:
        with session_scope(engine) as s:
            row = s.get(WorkerLock, LOCK_NAME, with_for_update=True)
            if row is None:
                s.add(WorkerLock(name=LOCK_NAME, holder=holder, expires_at=now + lease))
                return True
            if row.holder != holder and row.expires_at > now:
                return False
            row.holder = holder
            row.expires_at = now + lease
            s.add(row)
            return True
    except IntegrityError:
        return False  # another worker inserted the first lease at the same moment


def release(engine: Engine, holder: str) -> None:
    with session_scope(engine) as s:
        row = s.get(WorkerLock, LOCK_NAME)
        if row is not None and row.holder == holder:
            s.delete(row)


def holder_of(engine: Engine) -> tuple[str, object] | None:
    with session_scope(engine, write=False) as s:
        row = s.get(WorkerLock, LOCK_NAME)
        return (row.holder, row.expires_at) if row is not None else None


def _run_timers(engine: Engine) -> dict[str, int]:
    try:
        from tui_helpdesk.services import lifecycle
    except ImportError:
        return {}
    runner = getattr(lifecycle, "run_timers", None)
    return dict(runner(engine) or {}) if runner else {}


def run_once(
    engine: Engine,
    holder: str | None = None,
    *,
    attachments_dir: Path | None = None,
    errors: list[str] | None = None,
) -> dict[str, int]:
    """One pass. Returns counts; {"skipped": 1} when another worker holds the lease.

    A failing step (a mailbox that cannot be reached, an SMTP error) is recorded and the other steps
    still run; the messages go to ``errors`` when a list is given.
    """
    from tui_helpdesk.mail import imap, ingest, smtp

    holder = holder or new_holder()
    if not acquire(engine, holder):
        return {"skipped": 1}
    counts: dict[str, int] = {}
    errors = errors if errors is not None else []

    def add(prefix: str, values: dict[str, int]) -> None:
        for key, value in values.items():
            counts[f"{prefix}{key}"] = counts.get(f"{prefix}{key}", 0) + int(value)

    for mailbox_id in imap.due_mailboxes(engine):
        try:
            add("mail_", imap.poll(engine, mailbox_id, attachments_dir=attachments_dir))
        except Exception as exc:  # noqa: BLE001 - recorded on the mailbox (last_error) and reported
            errors.append(f"mailbox {mailbox_id}: {imap.describe_error(exc)}")
        acquire(engine, holder)
    for step, prefix, func in (
        ("journal", "journal_", lambda: ingest.process_pending(engine, attachments_dir=attachments_dir)),
        ("outbox", "outbox_", lambda: smtp.send_due(engine)),
        ("timers", "timer_", lambda: _run_timers(engine)),
    ):
        try:
            add(prefix, func())
        except Exception as exc:  # noqa: BLE001
            log.exception("worker step %s failed", step)
            errors.append(f"{step}: {type(exc).__name__}: {exc}")
        acquire(engine, holder)
    return counts


@dataclass
class WorkerHandle:
    """A running worker thread: `stop()` ends it after the current pass; `status` is its last line."""

    thread: threading.Thread
    stop_event: threading.Event
    status: str = "starting"
    last_error: str = ""
    passes: int = 0
    holder: str = field(default_factory=new_holder)

    def stop(self, timeout: float | None = 30) -> None:
        self.stop_event.set()
        if self.thread.is_alive() and threading.current_thread() is not self.thread:
            self.thread.join(timeout)

    @property
    def running(self) -> bool:
        return self.thread.is_alive()


def _summary(counts: dict[str, int]) -> str:
    keys = ("mail_fetched", "outbox_sent", "outbox_retry", "outbox_failed", "journal_quarantined")
    parts = [f"{k.split('_', 1)[1]} {counts[k]}" for k in keys if counts.get(k)]
    return ", ".join(parts)


def run_forever(
    engine: Engine,
    *,
    interval: float = INTERVAL,
    stop_event: threading.Event | None = None,
    on_status: Callable[[str], None] | None = None,
    holder: str | None = None,
    handle: WorkerHandle | None = None,
) -> None:
    stop_event = stop_event or threading.Event()
    holder = holder or new_holder()

    def report(text: str) -> None:
        if handle is not None:
            handle.status = text
        if on_status is not None:
            try:
                on_status(text)
            except Exception:  # noqa: BLE001 - a broken status line must not stop the mail
                log.exception("worker status callback failed")

    try:
        while not stop_event.is_set():
            errors: list[str] = []
            try:
                counts = run_once(engine, holder, errors=errors)
            except Exception as exc:  # noqa: BLE001 - e.g. the database went away; try again later
                errors.append(f"{type(exc).__name__}: {exc}")
                counts = {}
            if handle is not None:
                handle.passes += 1
                if errors:
                    handle.last_error = errors[-1]
            stamp = clock.now().strftime("%H:%M")
            if counts.get("skipped"):
                report(f"worker: standby (another worker holds the lock) {stamp}")
            elif errors:
                report(f"worker: error at {stamp}: {errors[-1]}")
            else:
                summary = _summary(counts)
                report(f"worker: ok {stamp}" + (f" ({summary})" if summary else ""))
            stop_event.wait(interval)
    finally:
        try:
            release(engine, holder)
        except Exception:  # noqa: BLE001 - the lease expires on its own
            pass
        report("worker: stopped")


def start_thread(
    engine: Engine, on_status: Callable[[str], None], *, interval: float = INTERVAL
) -> WorkerHandle:
    """Run the worker in a daemon thread (inside the app); `on_status` gets one line after each pass."""
    stop_event = threading.Event()
    handle = WorkerHandle(thread=threading.Thread(), stop_event=stop_event)
    handle.thread = threading.Thread(
        target=run_forever,
        kwargs={
            "engine": engine,
            "interval": interval,
            "stop_event": stop_event,
            "on_status": on_status,
            "holder": handle.holder,
            "handle": handle,
        },
        name="helpdesk-worker",
        daemon=True,
    )
    handle.thread.start()
    return handle
