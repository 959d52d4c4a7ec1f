"""An organization's assets (ITFlow's related asset) and the one a ticket is about.

Assets are client data like the organization itself, so the same rule edits them (admins); any agent
who may edit a ticket picks one of its organization's assets for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tui_helpdesk.models import Asset, Organization, Ticket, TicketAsset

from . import lookup
from .admin import _common as c
from .context import Tx, event, require, require_admin
from .errors import Conflict, NotFound, ValidationError

FIELDS = ("name", "type", "serial", "notes")


@dataclass(frozen=True)
class AssetRow:
    id: int
    organization_id: int
    organization: str
    name: str
    type: str
    serial: str
    notes: str
    tickets: int  # how many tickets name it

    @property
    def label(self) -> str:
        """How a picker and the header name it: "Laptop 7 (laptop, LT-7)"."""
        extra = ", ".join(x for x in (self.type, self.serial) if x)
        return f"{self.name} ({extra})" if extra else self.name


def _rows(session: Session, *where: Any) -> list[AssetRow]:
    counts = (select(TicketAsset.asset_id, func.count().label("n")).group_by(TicketAsset.asset_id)
              .subquery())
    q = (select(Asset, Organization.name, counts.c.n)
         .join(Organization, Organization.id == Asset.organization_id)
         .outerjoin(counts, counts.c.asset_id == Asset.id)
         .where(*where).order_by(func.lower(Asset.name), Asset.id))
    return [
        AssetRow(a.id, a.organization_id, org, a.name, a.type, a.serial, a.notes, int(n or 0))
        for a, org, n in session.execute(q).all()
    ]


def list_assets(tx: Tx, organization: str | int) -> list[AssetRow]:
    org = lookup.organization(tx.session, organization)
    return _rows(tx.session, Asset.organization_id == org.id)


def list_all(tx: Tx, search: str = "", limit: int = 500) -> list[AssetRow]:
    """Every organization's assets (the admin list); `search` matches a name, serial or organization."""
    where = []
    if search.strip():
        like = f"%{search.strip().lower()}%"
        where.append(func.lower(Asset.name).like(like) | func.lower(Asset.serial).like(like)
                     | func.lower(Organization.name).like(like))
    return _rows(tx.session, *where)[:limit]


def get(tx: Tx, asset_id: int | str) -> AssetRow:
    found = _rows(tx.session, Asset.id == c.integer(asset_id, "asset"))
    if not found:
        raise NotFound(f"no asset with id {asset_id}")
    return found[0]


def _apply(asset: Asset, values: dict[str, Any]) -> None:
    c.check_keys(values, FIELDS)
    if "name" in values:
        asset.name = c.text(values["name"], "name", required=True, limit=200)
    if "type" in values:
        asset.type = c.text(values["type"], "type", limit=60)
    if "serial" in values:
        asset.serial = c.text(values["serial"], "serial", limit=100)
    if "notes" in values:
        asset.notes = "" if values["notes"] is None else str(values["notes"]).strip()


def add_asset(tx: Tx, organization: str | int, **values: Any) -> AssetRow:
    require_admin(tx)
    org_id = c.ref(tx.session, organization, "organization", lookup.organization)
    if org_id is None:
        raise ValidationError("organization", "is required (the client that owns the asset)")
    org = c.get(tx.session, Organization, org_id, "organization")
    values.setdefault("name", "")
    asset = Asset(organization_id=org.id, name="", created_at=tx.now)
    _apply(asset, values)
    tx.session.add(asset)
    tx.session.flush()
    c.record(tx, "create", "asset", asset.id, organization_id=org.id, **c.snapshot(asset, FIELDS))
    return get(tx, asset.id)


def update_asset(tx: Tx, asset_id: int | str, **values: Any) -> AssetRow:
    require_admin(tx)
    asset = c.get(tx.session, Asset, c.integer(asset_id, "asset"), "asset")
    before = c.snapshot(asset, FIELDS)
    _apply(asset, values)
    changes = c.diff(before, c.snapshot(asset, FIELDS))
    if changes:
        c.record(tx, "update", "asset", asset.id, changes=changes)
    tx.session.flush()
    return get(tx, asset.id)


def remove_asset(tx: Tx, asset_id: int | str) -> AssetRow:
    """Remove an asset no ticket names (a ticket's history keeps pointing at what it was about)."""
    require_admin(tx)
    row = get(tx, asset_id)
    if row.tickets:
        raise Conflict(f"asset {row.name!r} is named by {row.tickets} ticket(s); clear it there first "
                       "or rename it instead")
    c.record(tx, "delete", "asset", row.id, name=row.name, organization_id=row.organization_id)
    tx.session.execute(delete(Asset).where(Asset.id == row.id))
    return row


def of_ticket(session: Session, ticket_id: int) -> AssetRow | None:
    found = _rows(session, Asset.id.in_(select(TicketAsset.asset_id).where(TicketAsset.ticket_id == ticket_id)))
    return found[0] if found else None


def set_ticket_asset(tx: Tx, ref: str | int, asset: int | str | None, *, reason: str = "",
                     expected_version: int | None = None) -> AssetRow | None:
    """The asset a ticket is about: one of its organization's; None or "" clears it. An event records it."""
    from . import tickets

    ticket: Ticket = tickets.load(tx, ref, expected_version)
    require(tx, ticket, "ticket.edit")
    old = of_ticket(tx.session, ticket.id)
    new: AssetRow | None = None
    if asset not in (None, ""):
        new = _find_for(tx, ticket, asset)
    if (old.id if old else None) == (new.id if new else None):
        return new
    tx.session.execute(delete(TicketAsset).where(TicketAsset.ticket_id == ticket.id))
    if new is not None:
        tx.session.add(TicketAsset(ticket_id=ticket.id, asset_id=new.id))
    event(tx, ticket, "field_edited", field="asset", old=old.label if old else None,
          new=new.label if new else None, reason=reason)
    tx.session.flush()
    return new


def _find_for(tx: Tx, ticket: Ticket, asset: int | str) -> AssetRow:
    if ticket.organization_id is None:
        raise ValidationError("asset", f"{ticket.number} has no organization, so it has no assets to pick from")
    mine = _rows(tx.session, Asset.organization_id == ticket.organization_id)
    text = str(asset).strip()
    found = [a for a in mine if str(a.id) == text] or [a for a in mine if a.name.lower() == text.lower()] or [
        a for a in mine if a.serial and a.serial.lower() == text.lower()]
    if len(found) == 1:
        return found[0]
    org = tx.session.get(Organization, ticket.organization_id)
    if found:
        raise ValidationError("asset", f"{text!r} names {len(found)} assets of {org.name}; use the id")
    names = ", ".join(a.name for a in mine[:10]) or "none yet"
    raise ValidationError("asset", f"{text!r} is not an asset of {org.name} (its assets: {names})")
