"""A new ticket typed by an agent, with its files, in one transaction (the app's new-ticket form).

`tickets.create` owns every rule of the ticket itself; this adds what the form sends beside it: the
files, checked before anything is written (so a blocked type names the field and opens nothing) and
stored on the first message, and removed again if the transaction fails, as `drafts.send` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from tui_helpdesk.models import TicketEntry

from . import attachments, tickets
from .context import Actor, transaction
from .ticket_view import TicketDetail


def create_with_files(
    engine: Engine, actor: Actor, *, attachments_dir: Path, files: Sequence[Path] = (), **fields: Any
) -> TicketDetail:
    """Open the ticket (`tickets.open_ticket` fields) and attach `files` to its first message."""
    stored: list[attachments.Stored] = []
    try:
        with transaction(engine, actor) as tx:
            checked = attachments.check_files(tx, files)
            ticket = tickets.open_ticket(tx, **fields)
            first = tx.session.execute(
                select(TicketEntry.id).where(TicketEntry.ticket_id == ticket.id).order_by(TicketEntry.id).limit(1)
            ).scalar()
            for path in checked:
                stored.append(attachments.store(tx, ticket.number, path, attachments_dir, entry_id=first))
            return tickets.view(tx, ticket.number)
    except BaseException:
        attachments.discard(stored)
        raise
