"""One action over many tickets (the queue's marks): each ticket in its own transaction, at the
version the person saw it.

A ticket changed since the list showed it is skipped, not overwritten, and the result names who
changed it and when; a refusal on one ticket never undoes or stops the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Engine

from . import door
from .context import Actor, Tx
from .errors import ServiceError, StaleVersion


class Seen(Protocol):
    """A ticket as a list showed it (queries.QueueRow is one)."""

    @property
    def id(self) -> int: ...
    @property
    def number(self) -> str: ...
    @property
    def version(self) -> int: ...


# `each(tx, ticket_id, expected_version)`: the write on one ticket, refusing a stale version
Each = Callable[[Tx, int, int], Any]


@dataclass(frozen=True)
class BulkResult:
    done: tuple[str, ...]  # numbers of the tickets changed
    skipped: tuple[str, ...]  # "TCK-1302 changed by sam at 10:42": changed since they were seen
    failed: tuple[str, ...]  # "TCK-1303: not allowed ...": refused for another reason

    @property
    def refused(self) -> tuple[str, ...]:
        return self.skipped + self.failed


def stale_reason(number: str, exc: StaleVersion) -> str:
    """'TCK-1302 changed by sam at 10:42' (the StaleVersion message without the advice)."""
    text = str(exc)
    when = text.split(" (version", 1)[0]  # "TCK-1302 was changed by sam at 10:42"
    return when.replace(f"{exc.what} was changed", f"{number} changed", 1)


def run(engine: Engine, actor: Actor, targets: Iterable[Seen], each: Each) -> BulkResult:
    done: list[str] = []
    skipped: list[str] = []
    failed: list[str] = []
    for seen in targets:
        try:
            door.write(engine, actor, each, seen.id, seen.version)
        except StaleVersion as exc:
            skipped.append(stale_reason(seen.number, exc))
        except ServiceError as exc:
            failed.append(f"{seen.number}: {exc}")
        else:
            done.append(seen.number)
    return BulkResult(tuple(done), tuple(skipped), tuple(failed))
