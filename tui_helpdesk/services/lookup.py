"""Finding things by what a user types: a name, an id, an email, a ticket number."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlmodel import Session

from tui_helpdesk import batch_cache
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

# Any syntactically valid address: a domain of dot-separated labels, one label being enough
# (root@localhost, ops@intranet: local mail is real mail), or an address literal ([192.0.2.1]).
EMAIL_RE = re.compile(r"^[^@\s<>]+@(?:[^@\s<>.\[\]]+(?:\.[^@\s<>.\[\]]+)*|\[[^@\s<>\[\]]+\])$")


# What a user may type for each kind of thing: its id, its name in any case, and (topics) its path
# "Parent / Child" as `admin topics list` prints it. Every CLI option, form and filter term goes
# through `find_id`, so `--department 3`, `--department support` and `dept:Support` agree.
_KINDS: dict[str, tuple[type, tuple[str, ...], str]] = {
    "department": (Department, ("name",), "department"),
    "priority": (Priority, ("name",), "priority"),
    "status": (Status, ("name",), "status"),
    "team": (Team, ("name",), "team"),
    "topic": (HelpTopic, ("name",), "help topic"),
    "organization": (Organization, ("name",), "organization"),
    "sla_plan": (SLAPlan, ("name",), "SLA plan"),
    "agent": (Agent, ("username", "email", "name"), "agent"),
}
PATH_SEPARATOR = "/"


def find_id(bind: Session | Connection, kind: str, value: str | int, field: str | None = None) -> int:
    """The id of the `kind` row a user means by `value`: an id, a name (any case) or a topic path.

    Raises ValidationError naming `field` (default: the kind) when nothing or more than one row
    matches. Works on a Session or a Connection, so the filter language uses the same rule."""
    model, columns, label = _KINDS[kind]
    field = field or kind
    table = model.__table__
    text = str(value).strip()
    if not text:
        raise ValidationError(field, f"name a {label}")
    if isinstance(value, int) or text.isdigit():
        found = batch_cache.cached(
            bind, ("id", kind, int(text)), lambda: bind.execute(select(table.c.id).where(table.c.id == int(text))).scalar()
        )
        if found is not None:
            return int(found)
    for column in columns:
        ids = _ids(bind, select(table.c.id).where(func.lower(table.c[column]) == text.lower()))
        if len(ids) == 1:
            return ids[0]
        if len(ids) > 1:
            raise ValidationError(field, f"more than one {label} is called {text!r}; give its id or path")
    if kind == "topic" and PATH_SEPARATOR in text:
        found = _topic_path(bind, [p.strip() for p in text.split(PATH_SEPARATOR)])
        if found is not None:
            return found
    raise ValidationError(field, f"unknown {label} {text!r}")


def _ids(bind: Session | Connection, stmt) -> list[int]:
    return [int(i) for i in bind.execute(stmt.limit(2)).scalars()]


def _topic_path(bind: Session | Connection, parts: list[str]) -> int | None:
    c = HelpTopic.__table__.c
    parent: int | None = None
    for part in parts:
        where = c.parent_id.is_(None) if parent is None else c.parent_id == parent
        ids = _ids(bind, select(c.id).where(where, func.lower(c.name) == part.lower()))
        if len(ids) != 1:
            return None
        parent = ids[0]
    return parent


def _by_name(session: Session, model, value: str | int, field: str, label: str):
    kind = next(k for k, (m, _, _) in _KINDS.items() if m is model)
    return session.get(model, find_id(session, kind, value, field))


def department(session: Session, value: str | int, *, for_new_ticket: bool = False) -> Department:
    dept = _by_name(session, Department, value, "department", "department")
    if for_new_ticket and dept.state != "active":
        raise ValidationError("department", f"{dept.name!r} is {dept.state}; choose an active department")
    return dept


def priority(session: Session, value: str | int) -> Priority:
    return _by_name(session, Priority, value, "priority", "priority")


def default_priority(session: Session) -> Priority:
    row = batch_cache.cached(session, "default_priority", lambda: session.execute(
        select(Priority).order_by(Priority.is_default.desc(), Priority.rank)).scalars().first())  # fmt: skip
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
    row = batch_cache.cached(session, ("default_status", state), lambda: (
        session.execute(
            select(Status)
            .where(Status.state == state, Status.archived.is_(False))
            .order_by(Status.is_default.desc(), Status.sort_order, Status.id)
        )
        .scalars()
        .first()
    ))  # fmt: skip
    if row is None and required:
        raise ValidationError("status", f"no status is mapped to the state {state!r}")
    return row


def agent(session: Session, value: str | int) -> Agent:
    """An agent by id, username, email or full name."""
    return session.get(Agent, find_id(session, "agent", value))


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
        return new_contact(session, email, name)
    if name and not row.name:
        row.name = name.strip()
        session.add(row)
    return row


def new_contact(session: Session, email: str, name: str = "") -> Contact:
    """The contact for a normalised address that has none yet (the caller looked), matched to an
    organization by domain."""
    org = organization_for_domain(session, email)
    row = Contact(email=email, name=name.strip(), organization_id=org.id if org else None)
    session.add(row)
    session.flush()
    return row


def format_number(session: Session, n: int) -> str:
    return f"{settings.get(session, 'number_prefix')}-{n}"


NUMBER_RE = re.compile(r"^(?:([A-Za-z0-9_]+)-)?(\d{1,12})$")


def ticket_by_number(session: Session, text: str, *, lock: bool = False) -> Ticket | None:
    """The ticket a typed or quoted number means, or None. The one rule for numbers, used by the
    CLI, the app's `:1300` and the mail threading (subjects like `[ITF-1300]`).

    Accepts `TCK-1300`, `tck-1300`, `1300`, and the same digits under the current prefix after an
    admin changed it (`ITF-1300` finds the ticket numbered TCK-1300: a ticket keeps its number
    forever). Another prefix (`FOO-1300`) finds nothing. Uses the index on `number_seq`, never a
    scan of upper(number)."""
    m = NUMBER_RE.match(str(text).strip().lstrip(":#").strip())
    if m is None:
        return None
    typed = m.group(1).upper() if m.group(1) else None
    seq = int(m.group(2))
    current = str(settings.get(session, "number_prefix")).upper()
    if typed is not None and typed != current:
        # only the ticket's own (older) prefix is left: its stored number, on the unique index
        return _first(session, select(Ticket).where(Ticket.number == f"{typed}-{m.group(2)}"), lock) or _first(
            session, select(Ticket).where(Ticket.number == f"{m.group(1)}-{m.group(2)}"), lock
        )
    q = select(Ticket).where(Ticket.number_seq == seq).order_by(Ticket.id.desc()).limit(5)
    rows = list(session.execute(q.with_for_update() if lock else q).scalars())
    # two desks' worth of numbers can share digits after a renumbering: the current prefix wins
    rows.sort(key=lambda t: t.number.rsplit("-", 1)[0].upper() != current)
    if rows:
        return rows[0]
    # rows written before number_seq existed (or by bulk loaders) still match on the stored number
    return _first(session, select(Ticket).where(Ticket.number == f"{current}-{m.group(2)}"), lock)


def _first(session: Session, q, lock: bool) -> Ticket | None:
    return session.execute(q.with_for_update() if lock else q).scalars().first()


def number_seq(number: str) -> int | None:
    """The digits of a stored ticket number (`TCK-1300` -> 1300)."""
    m = NUMBER_RE.match(number)
    return int(m.group(2)) if m else None


def ticket(session: Session, ref: str | int, *, lock: bool = False) -> Ticket:
    """A ticket by id (an int), by number (TCK-1042, ITF-1042) or by typed digits ("1042": the
    number, then the id)."""
    if isinstance(ref, int):
        row = _first(session, select(Ticket).where(Ticket.id == ref), lock)
    else:
        text = str(ref).strip().lstrip(":#").strip()
        row = ticket_by_number(session, text, lock=lock)
        if row is None and text.isdigit() and len(text) <= 18:  # longer is no id (and overflows SQLite)
            row = _first(session, select(Ticket).where(Ticket.id == int(text)), lock)
    if row is None:
        raise NotFound(f"no ticket {ref}")
    return row
