"""A status as an integration names it: the desk's status id or name (or a state), or one of seed 002's
ids 1-5, mapped onto the desk's statuses by the `api_status_ids` setting (`1=open, 2=closed, ...`: each
name a status or a state)."""

from __future__ import annotations

from tui_helpdesk.models import Status

from . import lookup, settings
from .context import Tx
from .errors import ValidationError


def resolve(tx: Tx, value: str | int) -> Status:
    """A JSON integer the setting maps is a seed 002 id; anything else names a status as everywhere."""
    if isinstance(value, bool) or value in (None, ""):
        raise ValidationError("status", "is required (a status id or name)")
    if isinstance(value, int):
        mapped = settings.id_pairs(settings.get(tx.session, "api_status_ids")).get(str(value))
        if mapped:
            return lookup.status(tx.session, mapped)
    return lookup.status(tx.session, value)
