"""The background loop: poll due mailboxes, finish pending journal rows, send the outbox, run timers.

Only one worker acts per database at a time. It holds a lease, a row in ``worker_lock`` with a short
expiry that a heartbeat thread renews while the worker runs, and that it deletes on every way out
(normal end, exception, SIGTERM, Ctrl-C). A holder that was killed outright stops renewing, and
another takes over within one lease. Every agent's app can start a worker thread: the ones that do
not hold the lease idle, so a mailbox is never fetched twice.

The lease runs on the wall clock, never on the pinned one (``HELPDESK_NOW``): it is about live
processes, and a run pinned to a future time must not leave a lease that blocks real workers.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from tui_helpdesk import clock
from tui_helpdesk.db import refresh_statistics, session_scope
from tui_helpdesk.models import WorkerLock
from tui_helpdesk.services.inbound_journal import LOCK_NAME, acquire_lease, release_lease

log = logging.getLogger(__name__)

# Short, so a killed holder is replaced within seconds; the heartbeat renews it three times per lease.
LEASE = timedelta(seconds=15)
# A host whose database stalls for longer (a slow network disk) can lengthen it; the tests shorten it.
LEASE_ENV = "HELPDESK_WORKER_LEASE"
INTERVAL = 10.0


class Terminated(BaseException):
    """SIGTERM arrived: unwinds like Ctrl-C (a BaseException, so no step's error handler swallows it)."""


def wall_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def new_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(engine: Engine, holder: str, lease: timedelta = LEASE, *, now: datetime | None = None) -> bool:
    """Take or renew the lease; False while another live holder has it. `now` is for tests."""
    return acquire_lease(engine, holder, lease, now=now or wall_now())


def release(engine: Engine, holder: str) -> None:
    release_lease(engine, holder)


def holder_of(engine: Engine) -> tuple[str, datetime] | None:
    with session_scope(engine, write=False) as s:
        row = s.get(WorkerLock, LOCK_NAME)
        return (row.holder, clock.as_utc(row.expires_at)) if row is not None else None


def lease_length() -> timedelta:
    """LEASE, or HELPDESK_WORKER_LEASE seconds (at least 2: the heartbeat beats three times a lease)."""
    raw = os.environ.get(LEASE_ENV, "").strip()
    if not raw:
        return LEASE
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(f"{LEASE_ENV} must be a number of seconds, not {raw!r}") from None
    return timedelta(seconds=max(seconds, 2.0))


class Lease:
    """The lease as one worker holds it: `take()` acquires (or renews) it and starts the heartbeat,
    `drop()` stops the heartbeat and deletes the row. `lost` turns true when a renewal found another
    holder (this process stalled for longer than a lease); the pass then stops at its next step."""

    def __init__(self, engine: Engine, holder: str | None = None, length: timedelta | None = None) -> None:
        self.engine = engine
        self.holder = holder or new_holder()
        self.length = length or lease_length()
        self.lost = False
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def take(self) -> bool:
        if not acquire(self.engine, self.holder, self.length):
            return False
        self.lost = False
        if self._beat is None or not self._beat.is_alive():
            self._stop = threading.Event()
            self._beat = threading.Thread(target=self._heartbeat, name="helpdesk-worker-lease", daemon=True)
            self._beat.start()
        return True

    def _heartbeat(self) -> None:
        # The kernel hands a process's SIGINT/SIGTERM to any thread that does not block them. Taken
        # here, the main thread would learn of it only when its blocking read ends (the IMAP timeout,
        # 30 s on a silent server), so Ctrl-C would seem ignored: leave the signals to the main thread.
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        while not self._stop.wait(self.length.total_seconds() / 3):
            try:
                if not acquire(self.engine, self.holder, self.length):
                    self.lost = True
                    log.warning("worker lease taken over by another worker")
                    return
            except Exception:  # noqa: BLE001 - a database hiccup: the next beat tries again
                log.exception("worker lease renewal failed")

    def drop(self) -> None:
        self._stop.set()
        if self._beat is not None and self._beat is not threading.current_thread():
            self._beat.join(10)
        self._beat = None
        try:
            release(self.engine, self.holder)
        except Exception:  # noqa: BLE001 - the lease is short: it runs out on its own
            log.exception("worker lease release failed")


@contextmanager
def graceful_exit() -> Iterator[None]:
    """While inside, SIGTERM raises Terminated in the main thread, so `finally` blocks (the lease
    release) run as they do for Ctrl-C. Outside the main thread signals cannot be handled: no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_term(signum: int, _frame: Any) -> None:
        raise Terminated(signum)

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_timers(engine: Engine) -> dict[str, int]:
    from tui_helpdesk.services import lifecycle

    return dict(lifecycle.run_timers(engine))


SWEEP_EVERY = 3600.0  # seconds between two sweeps of the attachment store in a running worker


def _sweep(engine: Engine, attachments_dir: Path | None) -> dict[str, int]:
    from tui_helpdesk.services import attachments

    if attachments_dir is None:
        from tui_helpdesk.config import load_config

        attachments_dir = load_config().attachments_dir
    return {"orphans_removed": attachments.sweep_orphans(engine, attachments_dir)}


def _purge_deleted(engine: Engine, attachments_dir: Path | None) -> dict[str, int]:
    from tui_helpdesk.services import ticket_delete

    if attachments_dir is None:
        from tui_helpdesk.config import load_config

        attachments_dir = load_config().attachments_dir
    return ticket_delete.purge_due(engine, attachments_dir)


def run_once(
    engine: Engine,
    holder: str | None = None,
    *,
    attachments_dir: Path | None = None,
    errors: list[str] | None = None,
    lease: Lease | None = None,
    sweep: bool = True,
) -> dict[str, int]:
    """One pass. Returns counts; {"skipped": 1} when another worker holds the lease.

    ``sweep`` also removes attachment files left without a row by a killed process (run_forever asks
    for it once per SWEEP_EVERY: it lists the whole store).

    Without `lease` the pass takes its own and releases it when it ends, however it ends. With one
    (run_forever's) the lease stays held after the pass. A failing step (a mailbox that cannot be
    reached, an SMTP error) is recorded and the other steps still run; the messages go to ``errors``
    when a list is given.
    """
    from tui_helpdesk.mail import imap
    from tui_helpdesk.services import inbound, inbound_fetch, outbound

    own = lease is None
    lease = lease or Lease(engine, holder)
    if not lease.take():
        return {"skipped": 1}
    try:
        counts: dict[str, int] = {}
        errors = errors if errors is not None else []

        def add(prefix: str, values: dict[str, int]) -> None:
            for key, value in values.items():
                counts[f"{prefix}{key}"] = counts.get(f"{prefix}{key}", 0) + int(value)

        def still_ours() -> bool:
            if lease.lost:
                errors.append("lease: another worker took over; this pass stopped early")
            return not lease.lost

        for mailbox_id in inbound_fetch.due_mailboxes(engine):
            if not still_ours():
                return counts
            try:
                add("mail_", inbound_fetch.poll(engine, mailbox_id, attachments_dir=attachments_dir))
            except Exception as exc:  # noqa: BLE001 - recorded on the mailbox (last_error) and reported
                errors.append(f"mailbox {mailbox_id}: {imap.describe_error(exc)}")
        for step, prefix, func in (
            ("journal", "journal_", lambda: inbound.process_pending(engine, attachments_dir=attachments_dir)),
            ("outbox", "outbox_", lambda: outbound.send_due(engine)),
            ("timers", "timer_", lambda: _run_timers(engine)),
            ("deleted tickets", "deleted_", lambda: _purge_deleted(engine, attachments_dir)),
            ("attachments", "attachments_", lambda: _sweep(engine, attachments_dir) if sweep else {}),
            ("statistics", "statistics_", lambda: refresh_statistics(engine) if sweep else {}),
        ):
            if not still_ours():
                return counts
            try:
                add(prefix, func())
            except Exception as exc:  # noqa: BLE001
                log.exception("worker step %s failed", step)
                errors.append(f"{step}: {type(exc).__name__}: {exc}")
        return counts
    finally:
        if own:
            lease.drop()


def drain_journal(
    engine: Engine, holder: str | None = None, *, attachments_dir: Path | None = None
) -> dict[str, int]:
    """Process what waits in the journal under the worker's lease, then release it and stop: the stage
    that `helpdesk ingest` starts when no worker runs (the pipe took the lease for ``holder``).

    While the lease is held, pipes only journal, trusting its holder to process what they wrote. So the
    journal is read once more after the release: a message journaled before a pipe found the lease held
    is committed before the release, and this last look sees it (and takes the lease again)."""
    from tui_helpdesk.services import inbound
    from tui_helpdesk.services.inbound_journal import has_pending

    counts: dict[str, int] = {}
    while True:
        lease = Lease(engine, holder)
        if not lease.take():
            return counts  # a worker holds it: the journal is its business
        try:
            while not lease.lost:
                done = inbound.process_pending(engine, attachments_dir=attachments_dir)
                for key, value in done.items():
                    counts[key] = counts.get(key, 0) + value
                if not done:
                    break
        finally:
            lease.drop()
        if lease.lost or not has_pending(engine):
            return counts


def dry_run(engine: Engine) -> dict[str, list[str]]:
    """What each timer would do now (the pinned clock if any): the tickets per timer. Reads only: no
    rows, no outbox, no lease, so it can run beside a live worker."""
    from tui_helpdesk.services import lifecycle

    return lifecycle.preview_timers(engine)


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
    keys = ("mail_fetched", "outbox_sent", "outbox_retry", "outbox_failed", "journal_quarantined",
            "attachments_orphans_removed", "deleted_purged")  # fmt: skip
    parts = [f"{k.split('_', 1)[1]} {counts[k]}" for k in keys if counts.get(k)]
    return ", ".join(parts)


def _outbox_words(engine: Engine) -> str:
    from tui_helpdesk.services.outbox_status import waiting_words

    try:
        return waiting_words(engine)
    except Exception:  # noqa: BLE001 - the status line is a hint; the next pass tries again
        log.debug("outbox status failed", exc_info=True)
        return ""


WAKE_EVERY = 1.0  # seconds: how soon a message journaled by `helpdesk ingest` is processed


def _wait(engine: Engine, stop_event: threading.Event, interval: float) -> None:
    """Sleep until the next pass, but wake as soon as a message waits in the journal: while a worker
    runs, `helpdesk ingest` only journals (services/inbound_journal), leaving the processing here."""
    from tui_helpdesk.services.inbound_journal import has_pending

    deadline = time.monotonic() + interval
    while not stop_event.wait(min(WAKE_EVERY, max(0.0, deadline - time.monotonic()))):
        if time.monotonic() >= deadline:
            return
        try:
            if has_pending(engine):
                return
        except Exception:  # noqa: BLE001 - the database is away; the next pass reports it
            log.debug("pending check failed", exc_info=True)


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
    # held across passes (the heartbeat renews it while the loop sleeps), released when the loop ends
    lease = Lease(engine, holder)

    def report(text: str) -> None:
        if handle is not None:
            handle.status = text
        if on_status is not None:
            try:
                on_status(text)
            except Exception:  # noqa: BLE001 - a broken status line must not stop the mail
                log.exception("worker status callback failed")

    next_sweep = 0.0
    try:
        while not stop_event.is_set():
            errors: list[str] = []
            sweep = time.monotonic() >= next_sweep
            try:
                counts = run_once(engine, errors=errors, lease=lease, sweep=sweep)
                if sweep and not counts.get("skipped"):
                    next_sweep = time.monotonic() + SWEEP_EVERY
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
            elif waiting := _outbox_words(engine):
                report(f"worker: {waiting} ({stamp})")  # what is wrong, in words, not a retry count
            else:
                summary = _summary(counts)
                report(f"worker: ok {stamp}" + (f" ({summary})" if summary else ""))
            _wait(engine, stop_event, interval)
    finally:
        lease.drop()
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
