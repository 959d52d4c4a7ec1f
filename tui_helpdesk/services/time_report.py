"""Time worked in a period: minutes per ticket, per agent and per organization, with amounts.

The entries are those of the tickets the actor may see (visibility.where_visible), grouped in SQL by
ticket, agent, billable and invoiced (a few rows per ticket, never an entry at a time), then priced
with billing.priced_groups, the invoice's own rule. Amounts are for billable minutes only.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlmodel import SQLModel

from tui_helpdesk.models import Agent, Organization, Ticket, TimeEntry

from . import billing, lookup, visibility
from .context import Tx
from .errors import ValidationError
from .time_entries import parse_date


class TimeLine(SQLModel):
    key: str  # the ticket number, the agent's username, the organization's name ("" for none)
    name: str  # the ticket's subject, the agent's full name, the organization's name
    minutes: int = 0
    billable_minutes: int = 0
    invoiced_minutes: int = 0
    amount_cents: int = 0

    @property
    def amount(self) -> str:
        return billing.money(self.amount_cents)


class TimeReport(SQLModel):
    date_from: date | None
    date_to: date | None
    organization: str | None
    billable_only: bool
    currency: str
    tickets: list[TimeLine]
    agents: list[TimeLine]
    organizations: list[TimeLine]
    total: TimeLine


def report(
    tx: Tx, *, organization: str | int | None = None, date_from: Any = None, date_to: Any = None,
    billable_only: bool = False, ticket: str | int | None = None,
) -> TimeReport:
    start, end = parse_date(date_from, "from"), parse_date(date_to, "to")
    if start and end and start > end:
        raise ValidationError("from", f"{start} is after the end of the period ({end})")
    org = lookup.organization(tx.session, organization) if organization not in (None, "") else None
    invoiced = TimeEntry.invoice_id.is_not(None)
    stmt = (
        select(
            TimeEntry.ticket_id, Ticket.organization_id, TimeEntry.agent_id, TimeEntry.billable,
            invoiced.label("invoiced"), func.sum(TimeEntry.minutes),
        )
        .join(Ticket, Ticket.id == TimeEntry.ticket_id)
        .group_by(TimeEntry.ticket_id, Ticket.organization_id, TimeEntry.agent_id, TimeEntry.billable, invoiced)
    )
    scope = visibility.where_visible(tx)
    if scope is not None:
        stmt = stmt.where(scope)
    if org is not None:
        stmt = stmt.where(Ticket.organization_id == org.id)
    if ticket not in (None, ""):
        one = lookup.ticket(tx.session, ticket)
        visibility.require_findable(tx, one)
        stmt = stmt.where(TimeEntry.ticket_id == one.id)
    if start:
        stmt = stmt.where(TimeEntry.work_date >= start)
    if end:
        stmt = stmt.where(TimeEntry.work_date <= end)
    if billable_only:
        stmt = stmt.where(TimeEntry.billable.is_(True))
    groups = tx.session.execute(stmt).all()

    tickets: dict[int, TimeLine] = {}
    agents: dict[int, TimeLine] = {}
    orgs: dict[int | None, TimeLine] = {}
    total = TimeLine(key="total", name="")
    billable: list[tuple[int, int | None, int, int]] = []
    for ticket_id, org_id, agent_id, is_billable, is_invoiced, minutes in groups:
        minutes = int(minutes or 0)
        for line in (
            tickets.setdefault(ticket_id, TimeLine(key="", name="")),
            agents.setdefault(agent_id, TimeLine(key="", name="")),
            orgs.setdefault(org_id, TimeLine(key="", name="")),
            total,
        ):
            line.minutes += minutes
            line.billable_minutes += minutes if is_billable else 0
            line.invoiced_minutes += minutes if is_invoiced else 0
        if is_billable:
            billable.append((ticket_id, org_id, agent_id, minutes))
    for p in billing.priced_groups(tx, billable):
        tickets[p.ticket_id].amount_cents += p.amount_cents
        agents[p.agent_id].amount_cents += p.amount_cents
        orgs[p.organization_id].amount_cents += p.amount_cents
        total.amount_cents += p.amount_cents
    _name(tx, tickets, Ticket, lambda t: (t.number, t.subject))
    _name(tx, agents, Agent, lambda a: (a.username, a.name))
    _name(tx, {k: v for k, v in orgs.items() if k is not None}, Organization, lambda o: (o.name, o.name))
    if None in orgs:
        orgs[None].key, orgs[None].name = "", "(no organization)"
    return TimeReport(
        date_from=start, date_to=end, organization=org.name if org else None, billable_only=billable_only,
        currency=billing.currency(tx),
        tickets=sorted(tickets.values(), key=lambda line: line.key),
        agents=sorted(agents.values(), key=lambda line: line.key),
        organizations=sorted(orgs.values(), key=lambda line: line.name),
        total=total,
    )


def _name(tx: Tx, lines: dict[Any, TimeLine], model: Any, names: Any) -> None:
    if not lines:
        return
    for row in tx.session.execute(select(model).where(model.id.in_(list(lines)))).scalars():
        lines[row.id].key, lines[row.id].name = names(row)


CSV_COLUMNS = ("level", "key", "name", "minutes", "hours", "billable_minutes", "invoiced_minutes",
               "amount", "currency")


def as_csv(rep: TimeReport) -> Iterator[str]:
    """One table: a row per ticket, agent and organization, then the total (the `level` column says which)."""
    buf = io.StringIO()
    writer = csv.writer(buf)

    def flush() -> str:
        text = buf.getvalue()
        buf.seek(0)
        buf.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    for level, lines in (("ticket", rep.tickets), ("agent", rep.agents), ("organization", rep.organizations),
                         ("total", [rep.total])):
        for line in lines:
            writer.writerow([level, safe_cell(line.key), safe_cell(line.name), line.minutes,
                             billing.hours(line.minutes), line.billable_minutes, line.invoiced_minutes,
                             line.amount, rep.currency])
            yield flush()


def as_json(rep: TimeReport) -> dict[str, Any]:
    def line(x: TimeLine) -> dict[str, Any]:
        return {**x.model_dump(), "hours": billing.hours(x.minutes), "amount": x.amount}

    return {
        "from": rep.date_from.isoformat() if rep.date_from else None,
        "to": rep.date_to.isoformat() if rep.date_to else None,
        "organization": rep.organization, "billable_only": rep.billable_only, "currency": rep.currency,
        "tickets": [line(x) for x in rep.tickets], "agents": [line(x) for x in rep.agents],
        "organizations": [line(x) for x in rep.organizations], "total": line(rep.total),
    }


def safe_cell(value: str) -> str:
    """A text cell a spreadsheet will not run: subjects and names come from outside, and a leading
    = + - @ makes Excel or LibreOffice read a formula (CSV injection); a quote keeps it text."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
