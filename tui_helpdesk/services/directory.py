"""One contact or organization by id, as the lists in admin/clients.py show them (for the HTTP API's get)."""

from __future__ import annotations

from tui_helpdesk.models import Contact, Organization

from .admin import clients
from .context import Tx
from .errors import NotFound


def contact(tx: Tx, contact_id: int) -> clients.ContactRow:
    row = tx.session.get(Contact, contact_id)
    if row is None:
        raise NotFound(f"no contact #{contact_id}")
    return clients._contact_rows(tx, [row])[0]


def organization(tx: Tx, org_id: int) -> clients.OrganizationRow:
    row = tx.session.get(Organization, org_id)
    if row is None:
        raise NotFound(f"no organization #{org_id}")
    found = [o for o in clients.list_organizations(tx, search=row.name, limit=50) if o.id == org_id]
    if not found:
        raise NotFound(f"no organization #{org_id}")
    return found[0]
