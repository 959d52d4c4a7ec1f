"""Invoices of billable time (ITFlow): record one for an organization, lock what it bills, export it.

`create` takes an organization's billable entries not yet invoiced, worked up to a day (and from one,
when given), on the tickets of that organization; writes the invoice with a line per ticket and agent
(priced by billing.priced_groups) and sets each entry's `invoice_id`, which locks it
(time_entries refuses corrections). Time is never billed twice: the entries are read FOR UPDATE and
claimed with `UPDATE ... WHERE invoice_id IS NULL`; if any was claimed by a concurrent invoice
meanwhile, the count differs and the whole invoice is refused (rolled back). On SQLite the write
transaction is serial (BEGIN IMMEDIATE), so a second create simply finds nothing left to bill.

Invoices are for admins: they create, list, show and export them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import SQLModel

from tui_helpdesk.models import Agent, Invoice, InvoiceLine, Organization, Ticket, TimeEntry
from tui_helpdesk.untrusted import clean_line

from . import billing, lookup
from .context import Tx, audit, bump_counter, require_admin
from .errors import Conflict, NotFound, ValidationError
from .time_entries import parse_date
from .time_report import safe_cell

NUMBER_COUNTER = "invoice_number"
NUMBER_PREFIX = "INV-"


class InvoiceLineRow(SQLModel):
    ticket: str
    agent: str
    description: str
    minutes: int
    hours: str
    unit_price: str
    amount: str
    amount_cents: int


class InvoiceRow(SQLModel):
    id: int
    number: str
    organization: str
    period_from: date | None
    period_to: date
    currency: str
    total_minutes: int
    total_hours: str
    total: str
    total_cents: int
    created_at: datetime
    created_by: str
    entries: int
    lines: list[InvoiceLineRow] = []


def create(tx: Tx, organization: str | int, to: Any, *, date_from: Any = None) -> InvoiceRow:
    require_admin(tx)
    org = lookup.organization(tx.session, organization)
    end = parse_date(to, "to")
    if end is None:
        raise ValidationError("to", "is required (the last day the invoice bills)")
    start = parse_date(date_from, "from")
    if start and start > end:
        raise ValidationError("from", f"{start} is after the end of the period ({end})")
    stmt = (
        select(TimeEntry.id, TimeEntry.ticket_id, TimeEntry.agent_id, TimeEntry.minutes)
        .join(Ticket, Ticket.id == TimeEntry.ticket_id)
        .where(
            Ticket.organization_id == org.id, TimeEntry.billable.is_(True), TimeEntry.invoice_id.is_(None),
            TimeEntry.work_date <= end,
        )
        .order_by(TimeEntry.ticket_id, TimeEntry.agent_id, TimeEntry.id)
        .with_for_update(of=TimeEntry)
    )
    if start:
        stmt = stmt.where(TimeEntry.work_date >= start)
    entries = tx.session.execute(stmt).all()
    if not entries:
        raise Conflict(f"{org.name} has no billable time left to invoice up to {end}")
    seq = bump_counter(tx.session, NUMBER_COUNTER)
    invoice = Invoice(
        number=f"{NUMBER_PREFIX}{seq:05d}", organization_id=org.id, period_from=start, period_to=end,
        currency=billing.currency(tx), created_at=tx.now, created_by_id=tx.actor.agent_id,
    )
    tx.session.add(invoice)
    tx.session.flush()
    ids = [e.id for e in entries]
    claimed = 0
    for i in range(0, len(ids), 500):  # bound parameter lists stay small on every engine
        chunk = ids[i:i + 500]
        claimed += tx.session.execute(
            update(TimeEntry)
            .where(TimeEntry.id.in_(chunk), TimeEntry.invoice_id.is_(None))
            .values(invoice_id=invoice.id),
            execution_options={"synchronize_session": False},
        ).rowcount
    if claimed != len(ids):
        raise Conflict(f"time of {org.name} was invoiced by someone else meanwhile; run the invoice again")
    groups = billing.priced_groups(tx, [(e.ticket_id, org.id, e.agent_id, e.minutes) for e in entries])
    names = _names(tx, {g.ticket_id for g in groups}, {g.agent_id for g in groups})
    for g in groups:
        number, subject = names[0][g.ticket_id]
        tx.session.add(InvoiceLine(
            invoice_id=invoice.id, ticket_id=g.ticket_id, agent_id=g.agent_id,
            description=f"{number} {clean_line(subject)} ({names[1][g.agent_id]})"[:500],
            minutes=g.minutes, hourly_cents=g.hourly_cents, amount_cents=g.amount_cents,
        ))
    invoice.total_minutes = sum(g.minutes for g in groups)
    invoice.total_cents = sum(g.amount_cents for g in groups)
    tx.session.add(invoice)
    tx.session.flush()
    audit(tx, "invoice.create", "invoice", invoice.id, number=invoice.number, organization=org.name,
          period_from=start.isoformat() if start else None, period_to=end.isoformat(), entries=len(ids),
          minutes=invoice.total_minutes, total_cents=invoice.total_cents)
    return _row(tx, invoice, lines=True)


def _names(tx: Tx, ticket_ids: set[int], agent_ids: set[int]) -> tuple[dict[int, tuple[str, str]], dict[int, str]]:
    tickets = {t.id: (t.number, t.subject) for t in
               tx.session.execute(select(Ticket).where(Ticket.id.in_(ticket_ids))).scalars()}
    agents = {a.id: a.name or a.username for a in
              tx.session.execute(select(Agent).where(Agent.id.in_(agent_ids))).scalars()}
    return tickets, agents


def _row(tx: Tx, inv: Invoice, *, lines: bool) -> InvoiceRow:
    org = tx.session.get(Organization, inv.organization_id)
    author = tx.session.get(Agent, inv.created_by_id) if inv.created_by_id else None
    count = tx.session.execute(
        select(func.count()).select_from(TimeEntry).where(TimeEntry.invoice_id == inv.id)
    ).scalar_one()
    out: list[InvoiceLineRow] = []
    if lines:
        rows = tx.session.execute(
            select(InvoiceLine, Ticket.number, Agent.username)
            .join(Ticket, Ticket.id == InvoiceLine.ticket_id).join(Agent, Agent.id == InvoiceLine.agent_id)
            .where(InvoiceLine.invoice_id == inv.id).order_by(InvoiceLine.id)
        ).all()
        out = [
            InvoiceLineRow(ticket=number, agent=username, description=line.description, minutes=line.minutes,
                           hours=billing.hours(line.minutes), unit_price=billing.money(line.hourly_cents),
                           amount=billing.money(line.amount_cents), amount_cents=line.amount_cents)
            for line, number, username in rows
        ]
    return InvoiceRow(
        id=inv.id or 0, number=inv.number, organization=org.name if org else "", period_from=inv.period_from,
        period_to=inv.period_to, currency=inv.currency, total_minutes=inv.total_minutes,
        total_hours=billing.hours(inv.total_minutes), total=billing.money(inv.total_cents),
        total_cents=inv.total_cents, created_at=inv.created_at, created_by=author.username if author else "",
        entries=count, lines=out,
    )


def list_invoices(tx: Tx, *, organization: str | int | None = None) -> list[InvoiceRow]:
    require_admin(tx)
    stmt = select(Invoice).order_by(Invoice.id.desc())
    if organization not in (None, ""):
        stmt = stmt.where(Invoice.organization_id == lookup.organization(tx.session, organization).id)
    return [_row(tx, inv, lines=False) for inv in tx.session.execute(stmt).scalars()]


def show(tx: Tx, number: str | int) -> InvoiceRow:
    require_admin(tx)
    text = str(number).strip().upper()
    stmt = select(Invoice).where(Invoice.number == text)
    if text.isdigit():
        stmt = select(Invoice).where(Invoice.number == f"{NUMBER_PREFIX}{int(text):05d}")
    inv = tx.session.execute(stmt).scalar_one_or_none()
    if inv is None:
        raise NotFound(f"no invoice {number}")
    return _row(tx, inv, lines=True)


# --- export ------------------------------------------------------------------------------------------

CSV_COLUMNS = ("invoice", "date", "customer", "description", "quantity", "unit", "unit_price", "amount",
               "currency", "ticket", "agent")


def as_csv(inv: InvoiceRow) -> Iterator[str]:
    """One row per line, each carrying the invoice's number, date, customer and currency (the flat shape
    spreadsheet and accounting imports take); quantities are hours."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for line in inv.lines:
        writer.writerow([inv.number, inv.created_at.date().isoformat(), safe_cell(inv.organization),
                         safe_cell(line.description), line.hours, "hour", line.unit_price, line.amount,
                         inv.currency, line.ticket, line.agent])
    yield buf.getvalue()


def as_json(inv: InvoiceRow) -> dict[str, Any]:
    """The invoice as an accounting tool imports it: lines of description, quantity (hours), unit price and
    amount as decimal strings, with the currency and totals. `amount` is computed from the exact minutes,
    so it can differ by a cent from quantity x unit_price when the hours are rounded; totals sum amounts."""
    return {
        "number": inv.number,
        "date": inv.created_at.date().isoformat(),
        "customer": {"name": inv.organization},
        "period": {"from": inv.period_from.isoformat() if inv.period_from else None,
                   "to": inv.period_to.isoformat()},
        "currency": inv.currency,
        "lines": [
            {"description": line.description, "quantity": line.hours, "unit": "hour",
             "unit_price": line.unit_price, "amount": line.amount, "minutes": line.minutes,
             "ticket": line.ticket, "agent": line.agent}
            for line in inv.lines
        ],
        "totals": {"minutes": inv.total_minutes, "hours": inv.total_hours, "net": inv.total, "tax": "0.00",
                   "gross": inv.total},
    }
