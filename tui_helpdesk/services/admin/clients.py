"""The people tickets come from: organizations (with their email domains) and contacts, with CSV import."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, or_, select

from tui_helpdesk.models import (
    Collaborator,
    Contact,
    Organization,
    OrganizationDomain,
    ScheduledTicket,
    Ticket,
    TicketEntry,
)

from .. import lookup
from ..context import Tx, require_admin
from ..errors import ValidationError
from . import _common as c

LIST_LIMIT = 500  # contacts and organizations can number in the hundreds of thousands: filter, then page

# --- organizations ----------------------------------------------------------------------------------------

ORGANIZATION_FIELDS = ("name", "notes", "domains", "archived")


@dataclass(frozen=True)
class OrganizationRow:
    id: int
    name: str
    domains: tuple[str, ...]
    notes: str
    archived: bool
    contacts: int


def list_organizations(tx: Tx, search: str = "", limit: int = LIST_LIMIT) -> list[OrganizationRow]:
    s = tx.session
    q = select(Organization).order_by(func.lower(Organization.name)).limit(limit)
    if search.strip():
        pattern = f"%{search.strip().lower()}%"
        q = q.where(
            or_(
                func.lower(Organization.name).like(pattern),
                Organization.id.in_(
                    select(OrganizationDomain.organization_id).where(OrganizationDomain.domain.like(pattern))
                ),
            )
        )
    orgs = list(s.execute(q).scalars())
    ids = [o.id for o in orgs]
    domains: dict[int, list[str]] = {}
    counts: dict[int, int] = {}
    if ids:
        for d in s.execute(
            select(OrganizationDomain).where(OrganizationDomain.organization_id.in_(ids))
        ).scalars():
            domains.setdefault(d.organization_id, []).append(d.domain)
        counts = dict(
            s.execute(
                select(Contact.organization_id, func.count())
                .where(Contact.organization_id.in_(ids))
                .group_by(Contact.organization_id)
            ).all()
        )
    return [
        OrganizationRow(
            o.id, o.name, tuple(sorted(domains.get(o.id, []))), o.notes, o.archived, counts.get(o.id, 0)
        )
        for o in orgs
    ]


def _organization_row(tx: Tx, org_id: int) -> OrganizationRow:
    tx.session.flush()
    org = tx.session.get(Organization, org_id)
    return next(r for r in list_organizations(tx, org.name, limit=50) if r.id == org_id)


def _apply_organization(tx: Tx, org: Organization, values: dict[str, Any]) -> list[str] | None:
    s = tx.session
    c.check_keys(values, ORGANIZATION_FIELDS)
    if "name" in values:
        org.name = c.text(values["name"], "name", required=True, limit=200)
    c.unique(s, Organization.name, org.name, org.id, "name", "an organization named")
    if "notes" in values:
        org.notes = "" if values["notes"] is None else str(values["notes"])
    if "archived" in values:
        org.archived = c.boolean(values["archived"], "archived")
    if "domains" not in values:
        return None
    wanted: list[str] = []
    for item in c.split_list(values["domains"]):
        dom = c.domain(item)
        if dom not in wanted:
            wanted.append(dom)
        owner = (
            s.execute(select(OrganizationDomain).where(OrganizationDomain.domain == dom)).scalars().first()
        )
        if owner is not None and owner.organization_id != org.id:
            other = s.get(Organization, owner.organization_id)
            raise ValidationError("domains", f"{dom} belongs to {other.name!r}")
    return wanted


def _set_domains(tx: Tx, org_id: int, wanted: list[str]) -> None:
    s = tx.session
    current = set(
        s.execute(
            select(OrganizationDomain.domain).where(OrganizationDomain.organization_id == org_id)
        ).scalars()
    )
    gone = current - set(wanted)
    if gone:
        s.execute(
            delete(OrganizationDomain).where(
                OrganizationDomain.organization_id == org_id, OrganizationDomain.domain.in_(gone)
            )
        )
    for dom in wanted:
        if dom not in current:
            s.add(OrganizationDomain(organization_id=org_id, domain=dom))


def create_organization(tx: Tx, **values: Any) -> OrganizationRow:
    require_admin(tx)
    values.setdefault("name", "")
    org = Organization(name="")
    wanted = _apply_organization(tx, org, values)
    tx.session.add(org)
    tx.session.flush()
    _set_domains(tx, org.id, wanted or [])
    c.record(tx, "create", "organization", org.id, name=org.name, domains=wanted or [])
    return _organization_row(tx, org.id)


def update_organization(tx: Tx, org_id: int, **values: Any) -> OrganizationRow:
    require_admin(tx)
    s = tx.session
    org = c.get(s, Organization, org_id, "organization")
    domains_before = sorted(
        s.execute(
            select(OrganizationDomain.domain).where(OrganizationDomain.organization_id == org_id)
        ).scalars()
    )
    before = {**c.snapshot(org, ("name", "notes", "archived")), "domains": domains_before}
    wanted = _apply_organization(tx, org, values)
    s.add(org)
    if wanted is not None:
        _set_domains(tx, org.id, wanted)
    after = {
        **c.snapshot(org, ("name", "notes", "archived")),
        "domains": sorted(wanted) if wanted is not None else domains_before,
    }
    changes = c.diff(before, after)
    if changes:
        c.record(tx, "update", "organization", org.id, changes=changes)
    return _organization_row(tx, org.id)


def archive_organization(tx: Tx, org_id: int) -> OrganizationRow:
    return update_organization(tx, org_id, archived=True)


def delete_organization(tx: Tx, org_id: int) -> None:
    require_admin(tx)
    s = tx.session
    org = c.get(s, Organization, org_id, "organization")
    reasons = c.usage(
        s,
        [
            (Contact.organization_id, org_id, "contacts"),
            (Ticket.organization_id, org_id, "tickets"),
            (ScheduledTicket.organization_id, org_id, "scheduled tickets"),
        ],
    )
    c.refuse_in_use("organization", org.name, reasons, "archive it instead")
    s.execute(delete(OrganizationDomain).where(OrganizationDomain.organization_id == org_id))
    s.delete(org)
    c.record(tx, "delete", "organization", org_id, name=org.name)


# --- contacts ---------------------------------------------------------------------------------------------

CONTACT_FIELDS = ("email", "name", "phone", "organization", "archived")


@dataclass(frozen=True)
class ContactRow:
    id: int
    email: str
    name: str
    phone: str
    organization_id: int | None
    organization: str
    archived: bool


def _contact_rows(tx: Tx, contacts: list[Contact]) -> list[ContactRow]:
    org_ids = {ct.organization_id for ct in contacts if ct.organization_id}
    names = (
        dict(
            tx.session.execute(
                select(Organization.id, Organization.name).where(Organization.id.in_(org_ids))
            ).all()
        )
        if org_ids
        else {}
    )
    return [
        ContactRow(
            ct.id,
            ct.email,
            ct.name,
            ct.phone,
            ct.organization_id,
            names.get(ct.organization_id, ""),
            ct.archived,
        )
        for ct in contacts
    ]


def list_contacts(tx: Tx, search: str = "", limit: int = LIST_LIMIT) -> list[ContactRow]:
    q = select(Contact).order_by(Contact.email).limit(limit)
    if search.strip():
        pattern = f"%{search.strip().lower()}%"
        q = q.where(or_(Contact.email.like(pattern), func.lower(Contact.name).like(pattern)))
    return _contact_rows(tx, list(tx.session.execute(q).scalars()))


def count_contacts(tx: Tx) -> int:
    return tx.session.execute(select(func.count()).select_from(Contact)).scalar() or 0


def _contact_row(tx: Tx, contact_id: int) -> ContactRow:
    tx.session.flush()
    return _contact_rows(tx, [tx.session.get(Contact, contact_id)])[0]


def _apply_contact(tx: Tx, contact: Contact, values: dict[str, Any]) -> None:
    s = tx.session
    c.check_keys(values, CONTACT_FIELDS)
    if "email" in values:
        contact.email = c.email(values["email"], required=True)
    c.unique(s, Contact.email, contact.email, contact.id, "email", "a contact with the address")
    if "name" in values:
        contact.name = c.text(values["name"], "name", limit=200)
    if "phone" in values:
        contact.phone = c.text(values["phone"], "phone", limit=50)
    if "organization" in values:
        contact.organization_id = c.ref(s, values["organization"], "organization", lookup.organization)
    if "archived" in values:
        contact.archived = c.boolean(values["archived"], "archived")


_CONTACT_AUDIT = ("email", "name", "phone", "organization_id", "archived")


def create_contact(tx: Tx, **values: Any) -> ContactRow:
    require_admin(tx)
    values.setdefault("email", "")
    contact = Contact(email="")
    _apply_contact(tx, contact, values)
    if "organization" not in values:
        org = lookup.organization_for_domain(tx.session, contact.email)
        contact.organization_id = org.id if org else None
    tx.session.add(contact)
    tx.session.flush()
    c.record(tx, "create", "contact", contact.id, **c.snapshot(contact, _CONTACT_AUDIT))
    return _contact_row(tx, contact.id)


def update_contact(tx: Tx, contact_id: int, **values: Any) -> ContactRow:
    require_admin(tx)
    contact = c.get(tx.session, Contact, contact_id, "contact")
    before = c.snapshot(contact, _CONTACT_AUDIT)
    _apply_contact(tx, contact, values)
    tx.session.add(contact)
    changes = c.diff(before, c.snapshot(contact, _CONTACT_AUDIT))
    if changes:
        c.record(tx, "update", "contact", contact.id, changes=changes)
    return _contact_row(tx, contact.id)


def archive_contact(tx: Tx, contact_id: int) -> ContactRow:
    return update_contact(tx, contact_id, archived=True)


def delete_contact(tx: Tx, contact_id: int) -> None:
    require_admin(tx)
    s = tx.session
    contact = c.get(s, Contact, contact_id, "contact")
    reasons = c.usage(
        s,
        [
            (Ticket.contact_id, contact_id, "tickets"),
            (TicketEntry.contact_id, contact_id, "thread messages"),
            (Collaborator.contact_id, contact_id, "tickets (as CC)"),
            (ScheduledTicket.contact_id, contact_id, "scheduled tickets"),
        ],
    )
    c.refuse_in_use("contact", contact.email, reasons, "archive it instead")
    s.delete(contact)
    c.record(tx, "delete", "contact", contact_id, email=contact.email)


# --- CSV import -------------------------------------------------------------------------------------------

IMPORT_COLUMNS = ("email", "name", "phone", "organization")


@dataclass(frozen=True)
class RowError:
    line: int  # the line of the file, counting the header as line 1
    email: str
    message: str


@dataclass(frozen=True)
class ImportReport:
    created: int
    updated: int
    errors: tuple[RowError, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        text = f"{self.created} created, {self.updated} updated, {len(self.errors)} rejected"
        return text


def import_contacts_file(tx: Tx, path: str | Path) -> ImportReport:
    path = Path(path).expanduser()
    try:
        data = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ValidationError("path", f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError("path", f"cannot read {path}: {exc}") from None
    return import_contacts(tx, data)


def import_contacts(tx: Tx, data: str) -> ImportReport:
    """Contacts from CSV with the columns email,name,phone,organization (header required, any order).

    Good rows are imported and bad ones reported by line, so one typo does not cost the whole file.
    A known address is updated with the non-empty fields of its row. Every row is checked before it
    is written, so the transaction never holds a half-written row.
    """
    require_admin(tx)
    s = tx.session
    reader = csv.DictReader(io.StringIO(data))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "email" not in header:
        raise ValidationError("file", "the first line must name the columns; an email column is required")
    unknown = [h for h in header if h not in IMPORT_COLUMNS]
    if unknown:
        raise ValidationError(
            "file", f"unknown column(s) {', '.join(unknown)}; expected {', '.join(IMPORT_COLUMNS)}"
        )
    reader.fieldnames = header
    created = updated = 0
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    orgs: dict[str, int | None] = {}
    for row in reader:
        line = reader.line_num
        raw = {k: (v or "").strip() for k, v in row.items() if k is not None}
        email = raw.get("email", "")
        if None in row:
            errors.append(RowError(line, email, "more fields than columns"))
            continue
        try:
            values = _import_values(tx, raw, orgs)
        except ValidationError as exc:
            errors.append(RowError(line, email, f"{exc.field}: {exc.message}"))
            continue
        email = values["email"]
        if email in seen:
            errors.append(RowError(line, email, f"repeats line {seen[email]}"))
            continue
        seen[email] = line
        existing = s.execute(select(Contact).where(Contact.email == email)).scalars().first()
        if existing is None:
            if values.get("organization_id") is None:
                org = lookup.organization_for_domain(s, email)
                values["organization_id"] = org.id if org else None
            contact = Contact(**values)
            s.add(contact)
            created += 1
        else:
            for key, value in values.items():
                if value not in ("", None):
                    setattr(existing, key, value)
            s.add(existing)
            updated += 1
    s.flush()
    report = ImportReport(created, updated, tuple(errors))
    if created or updated:
        c.record(tx, "import", "contact", None, created=created, updated=updated, rejected=len(errors))
    return report


def _import_values(tx: Tx, raw: dict[str, str], orgs: dict[str, int | None]) -> dict[str, Any]:
    values: dict[str, Any] = {"email": c.email(raw.get("email", ""), required=True)}
    values["name"] = c.text(raw.get("name", ""), "name", limit=200)
    values["phone"] = c.text(raw.get("phone", ""), "phone", limit=50)
    org_name = raw.get("organization", "")
    values["organization_id"] = None
    if org_name:
        key = org_name.lower()
        if key not in orgs:
            row = tx.session.execute(
                select(Organization.id).where(func.lower(Organization.name) == key)
            ).scalar()
            orgs[key] = row
        if orgs[key] is None:
            raise ValidationError("organization", f"unknown organization {org_name!r}; add it first")
        values["organization_id"] = orgs[key]
    return values
