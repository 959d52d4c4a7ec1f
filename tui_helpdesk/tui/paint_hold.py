"""Holding the app's repaints while what the next frame should show is being read.

A screen that is about to change completely (a ticket opening, the queue's list after a filter or sort
change) would otherwise be laid out and painted in the state between: an empty screen, a list of
placeholders, a total without its rows. Each such frame costs a full paint and is gone a moment later.
A hold keeps Textual's display batched until it is released (the data came, or failed to) or `seconds`
pass, whichever is first, so a slow read still shows the state between, as before.
"""

from __future__ import annotations

from textual.widget import Widget


class PaintHold:
    """One hold of the app's repaints, taken at construction; `release` ends it, once. When `seconds`
    pass first, the hold ends and `node` is refreshed (what it shows then is painted)."""

    def __init__(self, node: Widget, seconds: float) -> None:
        self._app = node.app
        self._node = node
        self.held = True
        self._app._begin_batch()
        node.set_timer(seconds, self._expire)

    def _expire(self) -> None:
        if self.release():
            self._node.refresh()

    def release(self) -> bool:
        """End the hold; True if this call ended it (False when it had already ended)."""
        if not self.held:
            return False
        self.held = False
        self._app._end_batch()
        return True
