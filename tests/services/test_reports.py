"""The dashboard's figures (services/reports.py) from tickets written through the services, on both engines.

The writes keep the facts (services/report_facts.py); each test checks the figures a manager would read:
counts, backlog per day, median and 90th percentile, business minutes under an SLA schedule, visibility."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from tui_helpdesk import clock
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Department, Schedule, SLAPlan
from tui_helpdesk.services import report_facts, reports, tickets
from tui_helpdesk.services.context import reading
from tui_helpdesk.services.errors import ValidationError

MONDAY = datetime.fromisoformat("2026-03-02T09:00:00+00:00")


def at(desk, when: datetime, actor=None):
    clock.set_now(when)
    return desk.tx(actor)


def open_ticket(desk, when: datetime, department: str = "Support", **kw) -> str:
    with at(desk, when) as tx:
        return tickets.open_ticket(tx, subject="Printer jam", body="It jams", contact_email="bob@acme.example",
                                   department=department, notify_client=False, **kw).number


def reply(desk, number: str, when: datetime, actor=None) -> None:
    with at(desk, when, actor) as tx:
        tickets.reply(tx, number, "On it")


def resolve(desk, number: str, when: datetime) -> None:
    with at(desk, when) as tx:
        tickets.resolve(tx, number)


def figures(desk, actor=None, by=None, **period):
    p = reports.period(**period) if period else reports.period("7d", now=MONDAY + timedelta(days=6))
    with reading(desk.engine, actor or desk.admin) as tx:
        return reports.report(tx, p, by, with_days=True)


@pytest.fixture
def week(desk, db_url, built_once):
    """Five Support tickets on Monday answered after 10, 20, 30, 40 and 100 minutes; two resolved on
    Tuesday, one of them reopened on Wednesday; one Billing ticket on Tuesday, never answered.
    Built once per session and engine (tests/support/snapshots.py), then copied."""
    return built_once(db_url, "report-week", lambda: _build_week(desk))


def _build_week(desk) -> list[str]:
    numbers = [open_ticket(desk, MONDAY + timedelta(minutes=i)) for i in range(5)]
    for i, (number, wait) in enumerate(zip(numbers, (10, 20, 30, 40, 100), strict=True)):
        reply(desk, number, MONDAY + timedelta(minutes=i + wait), desk.agent)
    tuesday = MONDAY + timedelta(days=1)
    resolve(desk, numbers[0], tuesday)  # 1 day (1440 min) after it was opened
    resolve(desk, numbers[1], tuesday + timedelta(hours=2, minutes=1))  # 1560 min
    open_ticket(desk, tuesday + timedelta(hours=3), department="Billing")
    with at(desk, MONDAY + timedelta(days=2)) as tx:
        tickets.reopen(tx, numbers[1], reason="still jams")
    return numbers


def test_counts_backlog_per_day_and_response_times(week, desk):
    rep = figures(desk)
    t = rep.total
    assert (t.created, t.closed, t.reopened, t.backlog, t.overdue) == (6, 2, 1, 5, 0)
    assert t.replies == 5
    # 10, 20, 30, 40, 100: the middle value, and the nearest rank at 90% (the 5th of 5)
    assert (t.first_response_median, t.first_response_p90) == (30.0, 100.0)
    assert (t.resolution_median, t.resolution_p90) == (1500.0, 1560.0)
    assert (t.sla_met, t.sla_breached) == (0, 0)  # no SLA plan, no due time
    days = {d.day: d for d in rep.days}
    assert [(d.created, d.closed, d.reopened, d.backlog) for d in rep.days[:4]] == [
        (5, 0, 0, 5), (1, 2, 0, 4), (0, 0, 1, 5), (0, 0, 0, 5)]
    assert days[date(2026, 3, 8)].backlog == 5


def test_breakdown_by_department_and_replies_per_agent(week, desk):
    rep = figures(desk, by="department")
    rows = {r.label: r for r in rep.rows}
    assert set(rows) == {"Billing", "Support"}
    assert (rows["Support"].created, rows["Support"].closed, rows["Support"].backlog) == (5, 2, 4)
    assert (rows["Billing"].created, rows["Billing"].backlog, rows["Billing"].first_response_median) == (1, 1, None)
    by_agent = figures(desk, by="agent")
    assert {r.label: r.replies for r in by_agent.rows if r.replies} == {"Sam Agent": 5}
    table = reports.as_table(rep)
    assert table[-1]["department"] == "all" and table[-1]["created"] == 6


def test_an_agent_counts_only_the_tickets_they_may_see(week, desk):
    mine = figures(desk, desk.agent).total  # Support only
    assert (mine.created, mine.backlog, mine.replies) == (5, 4, 5)
    assert [d.backlog for d in figures(desk, desk.agent).days[:3]] == [5, 3, 4]
    outsider = figures(desk, desk.outsider).total  # Billing only
    assert (outsider.created, outsider.closed, outsider.replies, outsider.first_response_median) == (1, 0, 0, None)


def test_business_minutes_and_sla_under_a_schedule(desk):
    with session_scope(desk.engine) as s:
        hours = {str(d): [["09:00", "17:00"]] for d in range(5)}
        schedule = Schedule(name="Office", timezone="Europe/Berlin", hours=hours)  # 08:00-16:00 UTC in March
        s.add(schedule)
        s.flush()
        plan = SLAPlan(name="8 working hours", grace_hours=8, schedule_id=schedule.id)
        s.add(plan)
        s.flush()
        s.execute(select(Department).where(Department.name == "Billing")).scalar_one().sla_plan_id = plan.id
    friday = datetime.fromisoformat("2026-03-06T15:00:00+00:00")  # 16:00 in Berlin: one working hour left
    late = open_ticket(desk, friday, department="Billing")
    soon = open_ticket(desk, friday, department="Billing")
    monday = datetime.fromisoformat("2026-03-09T09:30:00+00:00")  # 10:30 in Berlin
    reply(desk, late, monday)  # 60 + 90 working minutes, not 66.5 hours
    resolve(desk, soon, monday)  # due Monday 15:00 UTC (1 + 7 working hours): met
    resolve(desk, late, monday + timedelta(days=1))  # Tuesday: 60 + 480 + 90 = 630, breached
    t = figures(desk, start="2026-03-06", end="2026-03-10").total
    assert (t.first_response_median, t.first_response_p90) == (150.0, 150.0)
    assert (t.resolution_median, t.resolution_p90) == (390.0, 630.0)  # of 150 and 630
    assert (t.sla_met, t.sla_breached) == (1, 1)


def test_rebuild_gives_the_figures_the_writes_kept(week, desk):
    before = figures(desk)
    with session_scope(desk.engine) as s:
        report_facts.rebuild(s.connection())
    after = figures(desk)
    # the rebuild knows the current state only: the reopened ticket's earlier close is gone
    assert (after.total.created, after.total.backlog, after.total.replies) == (6, 5, 5)
    assert after.total.first_response_median == before.total.first_response_median
    assert (after.total.closed, after.total.reopened, after.total.resolution_median) == (1, 1, 1440.0)
    assert [d.backlog for d in after.days][-1] == [d.backlog for d in before.days][-1]


def test_periods_and_bad_input_name_the_field():
    now = datetime.fromisoformat("2026-03-15T10:00:00+00:00")
    assert reports.period("today", now=now).first == date(2026, 3, 15)
    assert (reports.period("7d", now=now).first, reports.period("30d", now=now).first) == (
        date(2026, 3, 9), date(2026, 2, 14))
    feb = reports.period("2026-02", now=now)
    assert (feb.first, feb.last, len(feb.days)) == (date(2026, 2, 1), date(2026, 2, 28), 28)
    assert reports.period("month", now=now).last == date(2026, 3, 31)
    assert reports.period(start="2026-03-01", end="2026-03-03").days[-1] == date(2026, 3, 3)
    for kwargs, field in (({"name": "fortnight"}, "period"), ({"start": "03/01"}, "from"),
                          ({"start": "2026-03-05", "end": "2026-03-01"}, "to")):
        with pytest.raises(ValidationError) as err:
            reports.period(**kwargs)
        assert err.value.field == field


def test_a_status_remapped_to_another_state_moves_the_backlog_from_that_day(week, desk):
    from tui_helpdesk.services import admin
    from tui_helpdesk.services.admin.catalog import list_statuses

    with at(desk, MONDAY + timedelta(days=2, hours=1)) as tx:
        tickets.set_status(tx, week[2], "In Progress")
    with at(desk, MONDAY + timedelta(days=3)) as tx:  # Thursday: an admin makes In Progress a resolved state
        status = next(s for s in list_statuses(tx) if s.name == "In Progress")
        admin.update_status(tx, status.id, state="resolved")
    rep = figures(desk)
    assert rep.total.backlog == 4  # the ticket in In Progress left it, though no write closed it
    assert [d.backlog for d in rep.days[:4]] == [5, 4, 5, 4]
