"""What every headless app in the test process does more cheaply than Textual would, and why no test can
tell: installed once for the suite by tests/conftest.py. A Pilot test's app is headless (`run_test`, and
`snap_compare`'s `run(headless=True)`); an app with a terminal is left alone.

**Frames nobody looks at are not drawn.** In a headless app every frame is still drawn: each refresh
renders the dirty widgets' lines (styles, segments, colour filters) and cuts them into the update the driver
is given, and the headless driver throws it away. That was ~45% of a queue test's CPU. A test sees the
screen only by asking for it (`export_screenshot` and so `snap_compare`, `Compositor.render_strips`, a
widget's `render_line`), and each of those draws afresh from the widgets' state: a widget marked dirty
stays dirty until drawn, and Textual's line caches are keyed on what they show. So in a headless app a
partial or layout frame draws only what drawing does more than draw:

- every widget whose drawing code is the app's (or any library's but Textual's): it may keep state as it
  draws (the ticket list works out which columns fit, the thread settles its layout and notes it was
  painted, the key footer notes where each key is for clicks), so it is drawn as before;
- Textual's OptionList (and so SelectionList and our sidebar) indexes its lines and sets its virtual size
  as it draws: that index update runs, the drawing does not;
- every other widget whose render methods are Textual's own (read for textual 8: Widget, DataTable,
  Tree, Input, MaskedInput, TextArea, Log, RichLog, and every `render()` in textual's widgets) keeps
  nothing but caches, and is drawn only when the screen is read.

A full update (`render_update(full=True)`, the screenshot's) draws everything, as before. The snapshot
tests check that the pictures are byte for byte the same.

**Every app shares the parsed stylesheets.** HelpdeskApp installs tui/shared_css.py's SharedStylesheet
itself; the tests' stand-in apps (the harnesses that push one TicketScreen, AdminScreen or form) got
Textual's, which parses every sheet again for each app: ~7% of tests/tui/test_ticket_screen.py's CPU.
They get a SharedStylesheet too, as a subclass of it, so test_shared_css can still tell whether
HelpdeskApp installs its own.

**Message dispatch looks its handlers up once per class.** For every message each node handles, Textual
walks the node's class MRO and the message's, reading each class's dict for `@on` handlers and an
`on_<name>` method (~4% of a Pilot test's CPU), and counts a new callback's parameters with
inspect.signature (a closure made per call, as call_later's often are, is a new function each time).
Both depend only on the classes and the code, so here they are worked out once and kept: the `@on`
selectors and the "no default action" stop are still checked per message, in Textual's order. A test
that replaced a handler method on a class after that class had handled that message would not see its
replacement: none does (patch the module function the handler calls instead).
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Iterator
from typing import Any

import textual
import textual._callback
import textual.app
from textual._compositor import Compositor
from textual._context import active_app, visible_screen_stack
from textual.css.match import match
from textual.geometry import Region
from textual.message import Message
from textual.message_pump import MessagePump, OnNoWidget
from textual.widget import Widget
from textual.widgets import DataTable, Input, Log, MaskedInput, OptionList, RichLog, TextArea, Tree

from tui_helpdesk.tui.shared_css import SharedStylesheet

_draw_update = Compositor.render_update

# Render methods read and found to keep nothing but caches of what they draw.
_PURE_DRAWING = {
    getattr(cls, name)
    for cls in (Widget, DataTable, Tree, Input, MaskedInput, TextArea, Log, RichLog)
    for name in ("render_line", "render_lines")
}


@functools.cache
def _how_drawn(cls: type[Widget]) -> str:
    """'defer' (nothing but the picture), 'index' (an OptionList's line index first) or 'draw'."""
    render = cls.render
    if not (getattr(render, "__module__", None) or "").startswith("textual."):
        return "draw"
    if issubclass(cls, OptionList) and cls.render_lines is OptionList.render_lines:
        return "index" if cls.render_line is OptionList.render_line else "draw"
    if cls.render_line in _PURE_DRAWING and cls.render_lines in _PURE_DRAWING:
        return "defer"
    return "draw"


def _headless() -> bool:
    try:
        return bool(active_app.get().is_headless)
    except LookupError:
        return False


def render_update(
    self: Compositor, full: bool = False, screen_stack: list[Any] | None = None, simplify: bool = False
) -> Any:
    if full or not _headless():
        return _draw_update(self, full, screen_stack, simplify)
    dirty = self._dirty_regions
    if not dirty:
        return None
    screen = self.size.region
    # the area Textual's update would have drawn (render_full_update / render_partial_update)
    crop = screen if screen in dirty else Region.from_union(list(dirty)).intersection(screen)
    dirty.clear()
    visible_screen_stack.set([] if screen_stack is None else screen_stack)
    for widget, (region, clip) in list(self.visible_widgets.items()):
        if not crop.overlaps(clip):
            continue
        how = _how_drawn(type(widget))
        if how == "defer":
            continue
        if how == "index":
            widget._update_lines()  # type: ignore[attr-defined]
            continue
        # as Compositor._get_renders asks it: the widget's visible part
        if clip.contains_region(region):
            widget.render_lines(Region(0, 0, region.width, region.height))
        else:
            x, y, width, height = region.intersection(clip)
            if width and height:
                widget.render_lines(Region(x - region.x, y - region.y, width, height))
    return None


# --- message dispatch --------------------------------------------------------------------------------

_Plan = tuple[tuple[type, tuple[tuple[Callable[..., Any], dict[str, Any]], ...], Callable[..., Any] | None], ...]


@functools.cache
def _dispatch_plan(node_class: type, message_class: type, method_name: str) -> _Plan:
    """MessagePump._get_dispatch_methods' walk, for the classes alone: per class of the node's MRO that has
    any, its `@on` handlers for the message's classes (in the message's MRO order) and its named method."""
    message_mro = [t for t in message_class.__mro__ if issubclass(t, Message)]
    plan = []
    for cls in node_class.__mro__:
        decorated_handlers = cls.__dict__.get("_decorated_handlers")
        decorated = tuple(
            (method, selectors)
            for message_type in message_mro
            for method, selectors in (decorated_handlers.get(message_type, []) if decorated_handlers else [])
        )
        method = cls.__dict__.get(f"_{method_name}") or cls.__dict__.get(method_name)
        named = method if method is not None and not getattr(method, "_textual_on", None) else None
        if decorated or named is not None:
            plan.append((cls, decorated, named))
    return tuple(plan)


def _get_dispatch_methods(
    self: MessagePump, method_name: str, message: Message
) -> Iterator[tuple[type, Callable[..., Any]]]:
    # Textual's body (message_pump.py), the class dicts read from the plan
    methods_dispatched: set[Callable[..., Any]] = set()
    for cls, decorated, named in _dispatch_plan(type(self), type(message), method_name):
        if message._no_default_action:
            break
        for method, selectors in decorated:
            if method in methods_dispatched:
                continue
            if not selectors:
                yield cls, method.__get__(self, cls)
                methods_dispatched.add(method)
            else:
                if not message._sender:
                    continue
                for attribute, selector in selectors.items():
                    node = getattr(message, attribute)
                    if node is None:
                        break
                    if not isinstance(node, Widget):
                        raise OnNoWidget(
                            f"on decorator can't match against {attribute!r} as it is not a widget."
                        )
                    if not match(selector, node):
                        break
                else:
                    yield cls, method.__get__(self, cls)
                    methods_dispatched.add(method)
        if named is not None:
            yield cls, named.__get__(self, cls)


_count_by_signature = textual._callback._count_parameters


@functools.lru_cache(maxsize=4096)
def _count_for_code(code: types.CodeType) -> int:
    flags = code.co_flags
    return (
        code.co_argcount
        + code.co_kwonlyargcount
        + bool(flags & 0x04)  # *args
        + bool(flags & 0x08)  # **kwargs
    )


def _count_parameters(func: Callable[..., Any]) -> int:
    # a plain function's signature is its code's (unless something says otherwise: __wrapped__, __signature__)
    if type(func) is types.FunctionType and not hasattr(func, "__wrapped__") and not hasattr(func, "__signature__"):
        return _count_for_code(func.__code__)
    return _count_by_signature(func)


class HarnessStylesheet(SharedStylesheet):
    """The stylesheet of every app but HelpdeskApp (which installs its own) in the test process."""


def install() -> None:
    """For the whole test process (tests/conftest.py). Only over the Textual it was read for: another
    would run the tests on plain Textual, slower but never on a patch that no longer fits."""
    if not textual.__version__.startswith("8."):
        return
    Compositor.render_update = render_update  # type: ignore[method-assign]
    MessagePump._get_dispatch_methods = _get_dispatch_methods  # type: ignore[method-assign]
    textual._callback._count_parameters = _count_parameters
    textual.app.Stylesheet = HarnessStylesheet  # type: ignore[misc] - the name App.__init__ builds
