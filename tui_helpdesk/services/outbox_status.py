"""What is wrong with the outgoing mail, in words, for the worker's status line.

The outbox retries a message that could not go; until it goes, the status line should say why
("2 messages waiting: no SMTP server is configured"), not count retries nobody can act on.
"""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from tui_helpdesk.db import session_scope
from tui_helpdesk.models import OutboundMessage

_O = OutboundMessage.__table__.c


def _short(error: str) -> str:
    # the stored error ends with a hint in brackets ("(set one on the mailbox ...)"): the admin screen
    # shows it whole; the status line has room for the cause only
    text = " ".join((error or "").split())
    cause = text.split(" (", 1)[0].strip()
    return cause or "an unknown error"


def waiting_words(engine: Engine) -> str:
    """"N messages waiting: <the most common reason>" while queued mail has failed to go at least once;
    "" when nothing waits. Reads the queued rows only (the outbox's state index), a few at most."""
    stmt = (
        select(_O.last_error, func.count())
        .where(_O.state == "queued", _O.attempts > 0)
        .group_by(_O.last_error)
        .order_by(func.count().desc(), _O.last_error)
    )
    with session_scope(engine, write=False) as s:
        rows = [(str(error or ""), int(n)) for error, n in s.execute(stmt)]
    if not rows:
        return ""
    total = sum(n for _, n in rows)
    noun = "message" if total == 1 else "messages"
    text = f"{total} {noun} waiting: {_short(rows[0][0])}"
    if len(rows) > 1:
        text += f" (and {len(rows) - 1} other reason{'s' if len(rows) > 2 else ''})"
    return text
