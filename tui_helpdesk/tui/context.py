"""What every screen needs: the engine, the acting agent, the process config.

The app holds one `AppContext` as `app.ctx`. Screens read it through `ctx_of(widget)`.
Database work runs in thread workers, each with its own session (never share a session
between threads), via the services; a screen never writes SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from tui_helpdesk.config import Config
from tui_helpdesk.services.context import Actor

if TYPE_CHECKING:
    from textual.dom import DOMNode


@dataclass
class AppContext:
    engine: Engine
    actor: Actor
    config: Config


def ctx_of(node: DOMNode) -> AppContext:
    return node.app.ctx  # type: ignore[attr-defined]
