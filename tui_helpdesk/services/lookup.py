"""Finding things by what a user types: a name, an id, an email, a ticket number."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlmodel import Session

from tui_helpdesk.models import (
    Agent,
    Classification,
    Contact,
    Department,
    HelpTopic,
    Organization,
    OrganizationDomain,
    Priority,
    SLAPlan,
    Status,
    Team,
    Ticket,
)

from . import settings
from .errors import NotFound, ValidationError

EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def _by_name(session: Session, model, value: str | int, field: str, label: str):
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        row = session.get(model, int(value))
        if row is not None:
            return row
    text = str(value).strip()
    row = session.execute(select(model).where(func.lower(model.name) == text.lower())).scalars().first()
    if row is None:
        raise ValidationError(field, f"unknown {label} {text!r}")
    return row


def department(session: Session, value: str | int, *, for_new_ticket: bool = False) -> Department:
    dept = _by_name(session, Department, value, "department", "department")
    if for_new_ticket and dept.state != "active":
        raise ValidationError("department", f"{dept.name!r} is {dept.state}; choose an active department")
    return dept


def priority(session: Session, value: str | int) -> Priority:
    return _by_name(session, Priority, value, "priority", "priority")


def default_priority(session: Session) -> Priority:
    row = session.execute(select(Priority).order_by(Priority.is_default.desc(), Priority.rank)).scalars().first()
    if row is None:
        raise ValidationError("priority", "no priorities are defined")
    return row


def status(session: Session, value: str | int) -> Status:
    """A status by name or id; a bare system state name picks that state's default status."""
    try:
        return _by_name(session, Status, value, "status", "status")
    except ValidationError:
        text = str(value).strip().lower()
        row = default_status_for(session, text, required=False)
        if row is None:
            raise
        return row


def default_status_for(session: Session, state: str, required: bool = True) -> Status | None:
    row = (
        session.execute(
            select(Status)
            .where(Status.state == state, Status.archived.is_(False))
            .order_by(Status.is_default.desc(), Status.sort_order, Status.id)
        )
        .scalars()
        .first()
    )
    if row is None and required:
        raise ValidationError("status", f"no status is mapped to the state {state!r}")
    return row


def agent(session: Session, value: str | int) -> Agent:
    if isinstance(value, int) or str(value).isdigit():
        row = session.get(Agent, int(value))
        if row is not None:
            return row
    text = str(value).strip().lower()
    row = (
        session.execute(
            select(Agent).where((func.lower(Agent.username) == text) | (func.lower(Agent.email) == text))
        )
        .scalars()
        .first()
    )
    if row is None:
        raise ValidationError("agent", f"unknown agent {value!r}")
    return row


def team(session: Session, value: str | int) -> Team:
    return _by_name(session, Team, value, "team", "team")


def topic(session: Session, value: str | int) -> HelpTopic:
    return _by_name(session, HelpTopic, value, "topic", "help topic")


def organization(session: Session, value: str | int) -> Organization:
    return _by_name(session, Organization, value, "organization", "organization")


def sla_plan(session: Session, value: str | int) -> SLAPlan:
    return _by_name(session, SLAPlan, value, "sla", "SLA plan")


def classification(session: Session, value: str | int, kind: str, parent_id: int | None) -> Classification:
    """A node of the Category -> Type -> Item cascade, which must hang under the chosen parent."""
    if isinstance(value, int) or str(value).isdigit():
        row = session.get(Classification, int(value))
    else:
        q = select(Classification).where(
            Classification.kind == kind, func.lower(Classification.name) == str(value).strip().lower()
        )
        if parent_id is not None:
            q = q.where(Classification.parent_id == parent_id)
        row = session.execute(q).scalars().first()
    if row is None or row.kind != kind:
        raise ValidationError(kind, f"unknown {kind} {value!r}")
    if kind != "category" and row.parent_id != parent_id:
        raise ValidationError(kind, f"{row.name!r} does not belong under the chosen {'category' if kind == 'type' else 'type'}")
    return row


def normalise_email(value: str) -> str:
    value = value.strip().lower()
    if not EMAIL_RE.match(value):
        raise ValidationError("email", f"{value!r} is not an email address")
    return value


def organization_for_domain(session: Session, email: str) -> Organization | None:
    domain = email.rsplit("@", 1)[-1].lower()
    row = session.execute(select(OrganizationDomain).where(OrganizationDomain.domain == domain)).scalars().first()
    return session.get(Organization, row.organization_id) if row else None


def contact(session: Session, email: str, name: str = "", create: bool = True) -> Contact:
    """The contact with this address; created (and matched to an organization by domain) if new."""
    email = normalise_email(email)
    row = session.execute(select(Contact).where(Contact.email == email)).scalars().first()
    if row is None:
        if not create:
            raise NotFound(f"no contact {email}")
        org = organization_for_domain(session, email)
        row = Contact(email=email, name=name.strip(), organization_id=org.id if org else None)
        session.add(row)
        session.flush()
    elif name and not row.name:
        row.name = name.strip()
        session.add(row)
    return row


def format_number(session: Session, n: int) -> str:
    return f"{settings.get(session, 'number_prefix')}-{n}"


def ticket(session: Session, ref: str | int, *, lock: bool = False) -> Ticket:
    """A ticket by id (an int), by number (TCK-1042) or by typed digits ("1042": the number, then the id)."""
    text = str(ref).strip().lstrip(":#")
    candidates = []
    if isinstance(ref, int):
        candidates.append(Ticket.id == ref)
    elif text.isdigit():
        candidates.append(Ticket.number == format_number(session, int(text)))
        candidates.append(Ticket.id == int(text))
    else:
        candidates.append(func.upper(Ticket.number) == text.upper())
    for cond in candidates:
        q = select(Ticket).where(cond)
        if lock:
            q = q.with_for_update()
        row = session.execute(q).scalars().first()
        if row is not None:
            return row
    raise NotFound(f"no ticket {ref}")
