"""Billable time (issue 14, ITFlow): entries corrected by their author and audited, rates, the time report,
invoices that lock what they bill and never bill it twice (even two creates at once)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from tui_helpdesk.db import session_scope
from tui_helpdesk.models import AuditLog, Invoice, Organization, TimeEntry
from tui_helpdesk.services import billing, invoices, tickets, time_entries, time_report
from tui_helpdesk.services.context import reading
from tui_helpdesk.services.door import write
from tui_helpdesk.services.errors import Conflict, PermissionDenied, StaleVersion, ValidationError


@pytest.fixture
def acme(desk, db_url, built_once):
    """Two Acme tickets and one of Globex, with time by sam (the agent) and root (the admin); made once per
    session and engine, then copied (tests/support/snapshots.py)."""
    return built_once(db_url, "billing-acme", lambda: _acme(desk))


def _acme(desk):
    with session_scope(desk.engine) as s:
        s.add_all([Organization(name="Acme"), Organization(name="Globex")])
    with desk.tx() as tx:
        a1 = tickets.create(tx, subject="Printer", body="Jams", contact_email="ann@acme.example",
                            department="Support", organization="Acme").number
        a2 = tickets.create(tx, subject="=HYPERLINK(evil)", body="Mail", contact_email="ann@acme.example",
                            department="Support", organization="Acme").number
        g1 = tickets.create(tx, subject="VPN", body="Drops", contact_email="gus@globex.example",
                            department="Support", organization="Globex").number
    with desk.tx(desk.agent) as tx:
        time_entries.add(tx, a1, 30, work_date="2026-02-10", note="remote")
        time_entries.add(tx, a1, 45, work_date="2026-02-20")
        time_entries.add(tx, a2, 20, billable=False, work_date="2026-02-21")
        time_entries.add(tx, g1, 60, work_date="2026-02-21")
        time_entries.add(tx, a2, 15, work_date="2026-03-01")
    with desk.tx() as tx:
        time_entries.add(tx, a1, 60, work_date="2026-02-25")
    return {"a1": a1, "a2": a2, "g1": g1}


def _entries(desk, number):
    with reading(desk.engine, desk.admin) as tx:
        return time_entries.for_ticket(tx, number)


def test_the_author_corrects_an_entry_audited_and_others_are_refused(desk, acme):
    first = _entries(desk, acme["a1"])[0]
    with desk.tx(desk.agent) as tx:
        row = time_entries.correct(tx, first.id, minutes=35, note="remote, 5 min more",
                                   expected_version=first.version)
    assert (row.minutes, row.note, row.version) == (35, "remote, 5 min more", first.version + 1)
    with reading(desk.engine, desk.admin) as tx:
        log = tx.session.execute(
            select(AuditLog).where(AuditLog.action == "time.correct", AuditLog.object_id == first.id)
        ).scalar_one()
    assert log.actor == "sam"
    assert log.data["before"] == {"minutes": 30, "note": "remote"}
    assert log.data["after"] == {"minutes": 35, "note": "remote, 5 min more"}
    # another agent (supervisor of the same department) may not; the stale copy is refused too
    with pytest.raises(PermissionDenied, match="only its author"), desk.tx(desk.supervisor) as tx:
        time_entries.correct(tx, first.id, minutes=1)
    with pytest.raises(StaleVersion, match="changed by sam"), desk.tx(desk.agent) as tx:
        time_entries.correct(tx, first.id, minutes=40, expected_version=first.version)
    # an admin corrects anyone's; bad input names the field and changes nothing
    with desk.tx() as tx:
        assert time_entries.correct(tx, first.id, billable=False).billable is False
    with pytest.raises(ValidationError, match="minutes"), desk.tx(desk.agent) as tx:
        time_entries.correct(tx, first.id, minutes=6000)
    assert _entries(desk, acme["a1"])[0].minutes == 35


def test_rates_by_precedence_and_the_report_per_ticket_agent_and_organization(desk, acme):
    with desk.tx() as tx:
        billing.set_rate(tx, "100")  # the default
        billing.set_rate(tx, "120.50", organization="Acme")
        billing.set_rate(tx, "90", organization="Acme", agent="sam")
    with pytest.raises(PermissionDenied), desk.tx(desk.agent) as tx:
        billing.set_rate(tx, "1")
    with reading(desk.engine, desk.admin) as tx:
        rep = time_report.report(tx, organization="Acme", date_from="2026-02-01", date_to="2026-02-28")
    by_ticket = {line.key: line for line in rep.tickets}
    # a1: sam 75 min at 90 (112.50) + root 60 min at Acme's 120.50 (120.50)
    assert (by_ticket[acme["a1"]].minutes, by_ticket[acme["a1"]].amount) == (135, "233.00")
    assert (by_ticket[acme["a2"]].minutes, by_ticket[acme["a2"]].billable_minutes) == (20, 0)
    assert {a.key: a.amount for a in rep.agents} == {"root": "120.50", "sam": "112.50"}
    assert [(o.name, o.minutes) for o in rep.organizations] == [("Acme", 155)]
    assert rep.total.amount == "233.00" and rep.currency == "USD"
    with reading(desk.engine, desk.admin) as tx:
        billable = time_report.report(tx, date_to="2026-02-28", billable_only=True)
    assert billable.total.minutes == 195  # the 20 unbillable minutes left out, Globex's 60 in
    cells = list(time_report.as_csv(rep))
    assert any("'=HYPERLINK(evil)" in c for c in cells)  # a subject never becomes a spreadsheet formula


def test_an_invoice_locks_what_it_bills_and_never_bills_it_twice(desk, acme):
    with desk.tx() as tx:
        billing.set_rate(tx, "60", organization="Acme")
    with desk.tx() as tx:
        inv = invoices.create(tx, "Acme", "2026-02-28")
    # a1's 135 min and nothing of a2 (its February time is not billable, March is after the period)
    assert (inv.number, inv.total_minutes, inv.total, inv.entries) == ("INV-00001", 135, "135.00", 3)
    assert sorted((line.agent, line.minutes, line.amount) for line in inv.lines) == [
        ("root", 60, "60.00"), ("sam", 75, "75.00")]
    locked = _entries(desk, acme["a1"])[0]
    assert locked.invoice == "INV-00001"
    with pytest.raises(Conflict, match="INV-00001 and locked"), desk.tx(desk.agent) as tx:
        time_entries.correct(tx, locked.id, minutes=1)
    with pytest.raises(Conflict, match="no billable time left"), desk.tx() as tx:
        invoices.create(tx, "Acme", "2026-02-28")
    with desk.tx() as tx:
        second = invoices.create(tx, "Acme", "2026-03-31")
    assert (second.number, second.total_minutes) == ("INV-00002", 15)
    with pytest.raises(PermissionDenied), desk.tx(desk.agent) as tx:
        invoices.create(tx, "Globex", "2026-03-31")
    doc = invoices.as_json(second)
    assert doc["currency"] == "USD" and doc["totals"]["net"] == "15.00"
    assert doc["lines"][0]["quantity"] == "0.25" and doc["lines"][0]["unit_price"] == "60.00"


def test_two_invoices_created_at_once_bill_each_entry_once(desk, acme):
    barrier = threading.Barrier(2)
    results: list[object] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(write(desk.engine, desk.admin, invoices.create, "Acme", "2026-03-31"))
        except Conflict as exc:
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    made = [r for r in results if isinstance(r, invoices.InvoiceRow)]
    assert len(results) == 2 and len(made) == 1, results
    with reading(desk.engine, desk.admin) as tx:
        assert tx.session.execute(select(func.count()).select_from(Invoice)).scalar_one() == 1
        billed = tx.session.execute(
            select(func.sum(TimeEntry.minutes)).where(TimeEntry.invoice_id.is_not(None))
        ).scalar_one()
    assert billed == made[0].total_minutes == 150
