"""Queueing outgoing mail in the outbox table (sent later by the worker). Filled in by the mail work."""

from __future__ import annotations

from typing import Any


def queue_reply(tx: Any, ticket: Any, entry: Any) -> None:
    return None


def queue_alert(tx: Any, ticket: Any, kind: str, **context: Any) -> None:
    return None


def queue_client_notice(tx: Any, ticket: Any, kind: str) -> None:
    return None
