"""Waiting in Pilot tests on a condition, never on time: the one helper every tui test uses.

A slow or loaded machine makes thread workers, message hops and repaints take longer, not happen in a
different order, so a test that waits for what it is about to assert (the row, the notification, the
screen) passes however slow the machine is. A fixed `pause(0.1)` or "four rounds" guesses how slow the
machine is, and fails the day it guesses wrong.

Imported by the test modules of tests/tui (they are on sys.path as the test's own directory).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable
from textual.worker import WorkerState

TIMEOUT = 30.0  # generous: only a broken test waits this long
POLL = 0.01  # how often the condition is looked at; not a synchronisation


async def until(
    pilot: Pilot[Any], condition: Callable[[], Any], what: str = "", timeout: float = TIMEOUT
) -> None:
    """Let the app run until `condition()` is true; fail naming `what` after `timeout` seconds.

    A condition that raises (a widget not mounted yet, a screen not pushed yet) counts as false; the
    last such error is in the failure message.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    error: BaseException | None = None
    while True:
        try:
            if condition():
                return
            error = None
        except Exception as exc:  # noqa: BLE001 - not there yet
            error = exc
        crashed = getattr(pilot.app, "_exception", None)
        if crashed is not None:  # the app died: waiting longer only hides why
            raise AssertionError(f"the app crashed while waiting for {what or condition}") from crashed
        if loop.time() > deadline:
            detail = f"; last error: {error!r}" if error is not None else ""
            raise AssertionError(
                f"timed out after {timeout:.0f}s waiting for {what or condition}{detail}; "
                f"on top: {pilot.app.screen!r}; notifications: {notifications(pilot.app)}"
            )
        await pilot.pause(POLL)


def busy(pilot: Pilot[Any]) -> bool:
    """A worker is pending or running, a message waits in the app, a screen or a widget, or a table
    has rows it has not measured yet."""
    app = pilot.app
    if any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in list(app.workers)):
        return True
    nodes: list[Any] = [app]
    for screen in list(app.screen_stack):
        nodes.extend(screen.walk_children(with_self=True))
    return any(not node._message_queue.empty() or _unmeasured(node) for node in nodes)


def _unmeasured(node: Any) -> bool:
    # A DataTable sizes its columns to new rows on its next idle, not when they are added: until then
    # it paints at header width, which a picture taken on a loaded machine caught (cut-off addresses).
    if not isinstance(node, DataTable):
        return False
    return bool(node._require_update_dimensions or node._new_rows or node._updated_cells)


async def settled(pilot: Pilot[Any], timeout: float = TIMEOUT) -> None:
    """Until the app is quiet: no worker running and no message queued, seen twice in a row.

    For the moments before a snapshot or a negative check ("nothing changed"), where there is no one
    thing to wait for; a test that can name what it expects waits on that with `until`.
    """
    quiet = 0

    def twice_quiet() -> bool:
        nonlocal quiet
        quiet = 0 if busy(pilot) else quiet + 1
        return quiet >= 2

    await until(pilot, twice_quiet, "the app to be quiet (no worker running, no message queued)", timeout)


def notified(app: Any, text: str) -> bool:
    """A notification containing `text` was shown."""
    return any(text in str(n.message) for n in app._notifications)


def notifications(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications]
