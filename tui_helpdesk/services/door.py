"""How a face (the app, a CLI command) runs a use case: the transaction belongs to the services.

`write(engine, actor, use_case, *args, **kwargs)` opens the one kind of writing transaction there is
(context.transaction: permission checks, events, audit, the change counter), calls the use case
with it and commits; `read(...)` does the same in a read-only transaction. A face names the use
case and passes what the person typed or saw (the version included); it never opens a transaction,
runs a query or touches a session itself (tests/test_layers.py holds the app to that).

A use case is a service function `(tx, ...)`, or a small function of the face that only calls service
functions with the `tx` it is given (an admin form's section mapping its fields onto a service call).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine

from .context import Actor, Tx, reading, transaction

T = TypeVar("T")


def write(engine: Engine, actor: Actor, use_case: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run `use_case(tx, *args, **kwargs)` in a writing transaction; its errors pass through unchanged."""
    with transaction(engine, actor) as tx:
        return use_case(tx, *args, **kwargs)


def read(engine: Engine, actor: Actor, use_case: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run `use_case(tx, *args, **kwargs)` in a read-only transaction (never takes a write lock)."""
    with reading(engine, actor) as tx:
        return use_case(tx, *args, **kwargs)


__all__ = ["Tx", "read", "write"]
