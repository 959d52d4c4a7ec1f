"""Hourly rates and what billable time costs: the one place amounts are computed.

A rate is set for an organization, an agent, both, or neither (the desk's default). The most specific
one applies to an entry: organization and agent, then organization, then agent, then the default; with
none, the time costs 0 and says so (`rate_source` "none"). Amounts are integer cents, computed per
ticket and agent (one rate applies to each such group) as minutes x rate / 60, rounded half up; the
time report and the invoice both use `priced_groups`, so their figures agree to the cent.

Rates are set by admins only; the currency is the `billing_currency` setting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlmodel import SQLModel

from tui_helpdesk.models import Agent, BillingRate, Organization

from . import lookup, settings
from .context import Tx, audit, require_admin
from .errors import NotFound, ValidationError


class RateRow(SQLModel):
    id: int
    organization: str | None  # None: any organization
    agent: str | None  # None: any agent
    hourly: str  # "95.00"
    hourly_cents: int
    currency: str


def money(cents: int) -> str:
    """Cents as a decimal amount with two places ("1234.50")."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def parse_money(value: Any, field: str = "rate") -> int:
    """ "95", "95.5", "95.50" -> cents; refuses negatives and fractions of a cent."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(field, f"{value!r} is not an amount (e.g. 95 or 95.50)") from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError(field, f"{value!r} is not an amount of 0 or more")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValidationError(field, f"{value!r} has fractions of a cent")
    return int(cents)


def amount_cents(minutes: int, hourly_cents: int) -> int:
    return int((Decimal(minutes) * hourly_cents / 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def hours(minutes: int) -> str:
    """Minutes as hours with two places, for people and for an accounting tool's quantity."""
    return str((Decimal(minutes) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def currency(tx: Tx) -> str:
    return str(settings.get(tx.session, "billing_currency"))


# --- rates ---------------------------------------------------------------------------------------------


class Rates:
    """The rates of a desk, read once; `for_(org_id, agent_id)` is the rule of precedence."""

    def __init__(self, tx: Tx) -> None:
        self._by_key = {
            (r.organization_id, r.agent_id): r.hourly_cents
            for r in tx.session.execute(select(BillingRate)).scalars()
        }

    def for_(self, organization_id: int | None, agent_id: int | None) -> tuple[int, str]:
        """(cents per hour, where it came from: org+agent | organization | agent | default | none)."""
        for key, source in (
            ((organization_id, agent_id), "org+agent"),
            ((organization_id, None), "organization"),
            ((None, agent_id), "agent"),
            ((None, None), "default"),
        ):
            # a ticket without an organization skips the rows that name one (its key has a None there)
            if (source == "org+agent" and organization_id is None) or (
                source == "organization" and organization_id is None
            ):
                continue
            if key in self._by_key:
                return self._by_key[key], source
        return 0, "none"


def _rate_row(tx: Tx, row: BillingRate) -> RateRow:
    org = tx.session.get(Organization, row.organization_id) if row.organization_id else None
    agent = tx.session.get(Agent, row.agent_id) if row.agent_id else None
    return RateRow(
        id=row.id or 0, organization=org.name if org else None, agent=agent.username if agent else None,
        hourly=money(row.hourly_cents), hourly_cents=row.hourly_cents, currency=currency(tx),
    )


def _key(tx: Tx, organization: str | int | None, agent: str | int | None) -> tuple[int | None, int | None]:
    org_id = lookup.organization(tx.session, organization).id if organization not in (None, "") else None
    agent_id = lookup.agent(tx.session, agent).id if agent not in (None, "") else None
    return org_id, agent_id


def set_rate(tx: Tx, hourly: Any, *, organization: str | int | None = None,
             agent: str | int | None = None) -> RateRow:
    """Set (or replace) the hourly rate for an organization, an agent, both, or the default."""
    require_admin(tx)
    cents = parse_money(hourly, "rate")
    org_id, agent_id = _key(tx, organization, agent)
    row = tx.session.execute(
        select(BillingRate).where(_is(BillingRate.organization_id, org_id), _is(BillingRate.agent_id, agent_id))
    ).scalar_one_or_none()
    before = row.hourly_cents if row else None
    if row is None:
        row = BillingRate(organization_id=org_id, agent_id=agent_id, hourly_cents=cents)
    row.hourly_cents = cents
    row.updated_at = tx.now
    row.updated_by_id = tx.actor.agent_id
    tx.session.add(row)
    tx.session.flush()
    audit(tx, "rate.set", "billing_rate", row.id, organization_id=org_id, agent_id=agent_id,
          before=before, after=cents)
    return _rate_row(tx, row)


def clear_rate(tx: Tx, *, organization: str | int | None = None, agent: str | int | None = None) -> None:
    require_admin(tx)
    org_id, agent_id = _key(tx, organization, agent)
    row = tx.session.execute(
        select(BillingRate).where(_is(BillingRate.organization_id, org_id), _is(BillingRate.agent_id, agent_id))
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("no such rate")
    audit(tx, "rate.clear", "billing_rate", row.id, organization_id=org_id, agent_id=agent_id,
          before=row.hourly_cents)
    tx.session.delete(row)


def list_rates(tx: Tx) -> list[RateRow]:
    rows = tx.session.execute(select(BillingRate).order_by(BillingRate.id)).scalars().all()
    return [_rate_row(tx, r) for r in rows]


def _is(column: Any, value: int | None) -> Any:
    return column.is_(None) if value is None else column == value


# --- pricing --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Priced:
    """The billable minutes of one ticket by one agent, priced."""

    ticket_id: int
    organization_id: int | None
    agent_id: int
    minutes: int
    hourly_cents: int
    rate_source: str
    amount_cents: int


def priced_groups(tx: Tx, entries: Iterable[tuple[int, int | None, int, int]]) -> list[Priced]:
    """(ticket_id, organization_id, agent_id, minutes) of billable entries -> one priced group per
    ticket and agent, in first-seen order."""
    rates = Rates(tx)
    sums: dict[tuple[int, int | None, int], int] = {}
    for ticket_id, org_id, agent_id, minutes in entries:
        key = (ticket_id, org_id, agent_id)
        sums[key] = sums.get(key, 0) + minutes
    out = []
    for (ticket_id, org_id, agent_id), minutes in sums.items():
        cents, source = rates.for_(org_id, agent_id)
        out.append(Priced(ticket_id, org_id, agent_id, minutes, cents, source, amount_cents(minutes, cents)))
    return out
