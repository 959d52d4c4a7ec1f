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

from textual import events
from textual.app import App
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Input, TextArea
from textual.worker import WorkerState

TIMEOUT = 30.0  # generous: only a broken test waits this long
POLL = 0.01  # how often the condition is looked at; not a synchronisation


# A notification leaves `app._notifications` when its 5 s are up, by the clock. A test starved of CPU for
# longer than that (a loaded machine) looked after it was gone and failed on a message the agent was
# shown. So every message an app shows is also kept in a list that only grows, and `notified` reads that.
_show = App.notify


def _notify_and_keep(self: App[Any], message: Any, **kwargs: Any) -> None:
    self.__dict__.setdefault("_shown_to_the_agent", []).append(str(message))
    _show(self, message, **kwargs)


_clear = App.clear_notifications


def _clear_and_forget(self: App[Any]) -> None:
    # a test that clears the notifications waits for a new one: forget the kept ones too
    self.__dict__["_shown_to_the_agent"] = []
    _clear(self)


App.notify = _notify_and_keep  # type: ignore[method-assign]
App.clear_notifications = _clear_and_forget  # type: ignore[method-assign]


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
        await _poll(pilot)


async def _poll(pilot: Pilot[Any]) -> None:
    """Let the app run for POLL seconds, then give its screen the update it has waiting (layout, repaint,
    after-refresh callbacks), as pilot.pause does. Not pilot.pause itself: its first step, a call_later
    through every node of the screen, cost ~4 ms of CPU a poll on the queue screen (27 nodes; 0.2 ms
    without it), and a condition looked at again and again needs no such barrier."""
    await asyncio.sleep(POLL)
    try:
        screen = pilot.app.screen
    except Exception:  # noqa: BLE001 - no screen (the app is stopping): nothing to update
        return
    screen._on_timer_update()


def busy(pilot: Pilot[Any]) -> bool:
    """A worker is pending or running, a message waits in the app, a screen or a widget, the screen on
    top has a layout, recompose or after-refresh callback to come, or a table has rows it has not
    measured yet."""
    app = pilot.app
    if any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in list(app.workers)):
        return True
    top = app.screen
    if top._layout_required or top._scroll_required or top._recompose_required or top._callbacks:
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
    """A notification containing `text` was shown (and may since have timed out)."""
    return any(text in message for message in notifications(app))


def notifications(app: Any) -> list[str]:
    """Every notification the app has shown, oldest first."""
    return list(app.__dict__.get("_shown_to_the_agent", ()))


# --- keys: pressed only where they will land ------------------------------------------------------------
# A key goes to whatever has the focus when the app handles it. While a screen is being pushed that is the
# screen being left (or the new screen itself, before its widgets are composed); a widget's focus() lands a
# message hop later; at 80 columns the queue's sidebar folds after the first layout. A key pressed in that
# moment is lost or does something else, and only on a slow machine: so wait for where the key must go.


def _queues_empty(app: Any, screen: Screen[Any]) -> bool:
    nodes: list[Any] = [app, *screen.walk_children(with_self=True)]
    return all(node._message_queue.empty() for node in nodes)


def takes_keys(app: Any, screen: Screen[Any]) -> bool:
    """`screen` is on top, composed, and its focus has landed (no focus call or mount message still queued
    in it or the app), so a key pressed now reaches the widget it will reach for the agent."""
    if app.screen is not screen or not screen.is_mounted or not _queues_empty(app, screen):
        return False
    return screen.focused is not None or not screen.focus_chain


async def on_top(pilot: Pilot[Any], kind: type, what: str = "") -> Any:
    """Until a screen of `kind` is the one the agent sees and it takes keys (see takes_keys)."""
    await until(
        pilot,
        lambda: isinstance(pilot.app.screen, kind) and takes_keys(pilot.app, pilot.app.screen),
        what or f"a {kind.__name__} on top, taking keys",
    )
    return pilot.app.screen


async def focused(pilot: Pilot[Any], target: Widget | str, what: str = "") -> Any:
    """Until `target` (a widget, or a selector on the screen on top) has the focus on the screen on top."""

    def widget() -> Widget:
        return pilot.app.screen.query_one(target) if isinstance(target, str) else target

    def landed() -> bool:
        w = widget()
        return w.has_focus and w.screen is pilot.app.screen and _queues_empty(pilot.app, w.screen)

    await until(pilot, landed, what or f"{target!r} to have the focus")
    return widget()


async def press_on(pilot: Pilot[Any], target: Widget | str, *keys: str) -> None:
    """Press `keys` once `target` has the focus (see focused)."""
    await focused(pilot, target)
    await pilot.press(*keys)


def _value(widget: Widget) -> str:
    if isinstance(widget, TextArea):
        return widget.text
    assert isinstance(widget, Input), f"{widget!r} takes no typing"
    return widget.value


async def type_into(pilot: Pilot[Any], target: Widget | str, text: str, replace: bool = False) -> Any:
    """Type `text` into the Input or TextArea `target` once it has the focus, and wait until it holds it.

    Each character is the Key event a terminal sends (as pilot.press makes it), all of them at once, as
    a terminal passes on a quick typist's or a paste's keys: the app handles them in order, each with its
    validation as typed and completions, as it does for an agent, and the test waits on the widget holding
    the whole text. Neither pilot.press's idle check after every key (at least 40 ms a key, up to 2 s on a
    busy machine) nor a wait for each character to show (a repaint of the screen per character: a long
    command line cost seconds of CPU). The text goes in at the cursor, which is where focus leaves it (the
    end); `replace` empties the widget first."""
    widget = await focused(pilot, target)
    if replace:
        if isinstance(widget, TextArea):
            widget.text = ""
        else:
            widget.value = ""
        await until(pilot, lambda: _value(widget) == "", f"{target!r} emptied")
    expected = _value(widget) + text
    for char in text:
        key = char if char.isalnum() else _character_to_key(char)
        event = events.Key(key, char)
        event.set_sender(pilot.app)
        pilot.app.post_message(event)
    await until(pilot, lambda: _value(widget) == expected, f"{target!r} to hold {expected!r}")
    return widget


keys_typed = type_into  # for modules with a type_into of their own (one that sets the value, types nothing)
