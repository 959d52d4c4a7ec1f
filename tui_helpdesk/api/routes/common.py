"""What every route shares: running a use case as the key's actor, the If-Match version, notify=false."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Path, Query, Request

from tui_helpdesk.services import door, notify
from tui_helpdesk.services.context import Actor
from tui_helpdesk.services.errors import ValidationError

from ..auth import current_actor, engine_of

T = TypeVar("T")

# a row id in a path: the columns are 32-bit on PostgreSQL, and a bigger number can name no row
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": None, "description": text}
    for code, text in (
        (401, "no key, or a key that is not valid"),
        (403, "the key's agent may not do this"),
        (404, "no such ticket, reply or object (or outside the agent's scope)"),
        (409, "the object's state forbids it"),
        (412, "the ticket changed since the version in If-Match"),
        (413, "the request body is too large"),
        (422, "invalid input; `field` names the field"),
        (429, "too many failed authentications from this address"),
    )
}


def _errors() -> dict[int | str, dict[str, Any]]:
    from ..schemas import Error

    return {code: {**value, "model": Error} for code, value in ERRORS.items()}


RESPONSES = _errors()


class Face:
    """The key's actor and the engine: `face.read(use_case, ...)` and `face.write(...)` run a service
    use case through services/door.py, as the CLI does."""

    def __init__(self, request: Request, actor: Actor) -> None:
        self.engine = engine_of(request)
        self.actor = actor

    def read(self, use_case: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        return door.read(self.engine, self.actor, use_case, *args, **kwargs)

    def write(self, use_case: Callable[..., T], /, *args: Any, notify_people: bool = True, **kwargs: Any) -> T:
        with _notifying(notify_people):
            return door.write(self.engine, self.actor, use_case, *args, **kwargs)


def face(request: Request, actor: Actor = Depends(current_actor)) -> Face:
    return Face(request, actor)


@contextmanager
def _notifying(enabled: bool) -> Iterator[None]:
    if enabled:
        yield
        return
    with notify.suppressed():  # seed 002's silent semantics, on request: recorded, no mail
        yield


NotifyParam = Query(True, description="false records the change without sending mail (seed 002's silent mode)")


def if_match(
    if_match: str | None = Header(
        None, alias="If-Match", description="the ticket's version as last read; a stale one is refused (412)"
    ),
) -> int | None:
    if if_match is None or if_match.strip() in ("", "*"):
        return None
    text = if_match.strip().removeprefix("W/").strip('"').strip()
    if not text.isdigit():
        raise ValidationError("If-Match", f"expected the ticket's version number, got {if_match!r}")
    return int(text)

