"""The garbage collector held while `helpdesk` starts the app.

Issue 11 measured the start against a bare Textual app importing the same libraries. Start-up builds
some 150,000 long-lived objects (60 table classes and their mappers, Textual's widgets and styles) and
almost no cyclic garbage, yet the collector walked them again and again: about 1 s of CPU on the loaded
2-core machine, a third of the start. `helpdesk` holds it from its first step (`hold_gc`, before the app's
modules are imported) until the first screen has painted its rows (`release_gc`, called by the app), then
freezes what start-up built (it lives as long as the process, so later collections skip it) and lets it
run again. Only the `helpdesk` entry holds it: an app started any other way (the tests, an embedder)
collects as usual, so nothing they leave behind is frozen.

This module imports nothing heavy: it runs before Textual, SQLAlchemy and the models are imported.
"""

from __future__ import annotations

import gc

_held = False


def hold_gc() -> None:
    """The first thing `helpdesk` does when it opens the app (cli/app.py; benchmarks/app_start.py too)."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def gc_held() -> bool:
    return _held


def release_gc(freeze: bool = True) -> None:
    """Start-up is over: the first rows are on screen (freeze what start-up built), or the app stopped
    before them (`freeze=False`: a test calling `helpdesk` in-process keeps its garbage collectable)."""
    global _held
    if _held:
        _held = False
        if freeze:
            gc.freeze()
        gc.enable()
