"""Timers with the clock set by the tests: windows, SLA business hours, chasers, schedules, tasks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tui_helpdesk import clock
from tui_helpdesk.models import Holiday, Schedule, ScheduledTicket, SLAPlan, Ticket, TicketEntry
from tui_helpdesk.services import lifecycle, settings, tasks, tickets
from tui_helpdesk.services.context import reading
from tui_helpdesk.services.errors import ValidationError
from tui_helpdesk.services.schedules import add_business_time, parse_hours, zone

WEEKDAYS_9_TO_5 = {str(d): [["09:00", "17:00"]] for d in range(5)}


def utc(text: str) -> datetime:
    return clock.parse_iso(text)


def make(desk, **kw):
    args = dict(subject="Help", body="Please", contact_email="bob@acme.example", department="Support")
    args.update(kw)
    with desk.tx() as tx:
        return tickets.create(tx, **args)


def show(desk, ref):
    with reading(desk.engine) as tx:
        return tickets.view(tx, ref)


def test_resolved_on_friday_evening_closes_exactly_when_the_window_ends(desk):
    clock.set_now("2026-03-06T18:30:00Z")  # Friday evening
    t = make(desk)
    with desk.tx() as tx:
        tickets.resolve(tx, t.number, notes="fixed")
    clock.set_now("2026-03-13T18:29:59Z")
    assert lifecycle.close_expired_resolved(desk.engine) == 0
    assert show(desk, t.number).state == "resolved"
    clock.set_now("2026-03-16T07:00:00Z")  # the worker was down over the weekend
    assert lifecycle.close_expired_resolved(desk.engine) == 1
    d = show(desk, t.number)
    assert d.state == "closed" and d.closed_at == utc("2026-03-13T18:30:00Z")
    assert lifecycle.close_expired_resolved(desk.engine) == 0  # twice changes nothing
    assert [i.event_kind for i in d.thread].count("auto_closed") == 1


def test_the_reopen_window_closes_on_the_first_pass_after_it_ends_not_later(desk):
    # a timer a day late (or an hour) still passes "not before the end"; this pins both sides
    clock.set_now("2026-03-02T10:00:00Z")
    early, late = make(desk, subject="Resolved later"), make(desk, subject="Resolved first")
    with desk.tx() as tx:
        tickets.resolve(tx, late.number, notes="fixed")
    clock.set_now("2026-03-02T10:00:02Z")
    with desk.tx() as tx:
        tickets.resolve(tx, early.number, notes="fixed")
    clock.set_now("2026-03-09T10:00:01Z")  # 7 days + 1 s after the first, 7 days - 1 s after the second
    assert lifecycle.close_expired_resolved(desk.engine) == 1
    first, second = show(desk, late.number), show(desk, early.number)
    assert first.state == "closed" and first.closed_at == utc("2026-03-09T10:00:00Z")
    assert second.state == "resolved"
    clock.set_now("2026-03-09T10:00:02Z")  # the window's last second is its end: closed now, not later
    assert lifecycle.close_expired_resolved(desk.engine) == 1
    assert show(desk, early.number).closed_at == utc("2026-03-09T10:00:02Z")


def _schedule(desk, hours=None, tz="Europe/Berlin", holidays=()):
    with desk.tx() as tx:
        sched = Schedule(name="Office", timezone=tz, hours=hours or WEEKDAYS_9_TO_5)
        tx.session.add(sched)
        tx.session.flush()
        for d in holidays:
            tx.session.add(Holiday(schedule_id=sched.id, day=d, name="holiday"))
        plan = SLAPlan(name="Business 8h", grace_hours=8, schedule_id=sched.id, is_default=True)
        tx.session.add(plan)
        tx.session.flush()
        return plan.id


def test_sla_due_counts_only_business_hours_across_night_weekend_and_holiday(desk):
    _schedule(desk, holidays=[date(2026, 3, 9)])  # Monday 9 March is a holiday
    clock.set_now("2026-03-06T15:00:00Z")  # Friday 16:00 in Berlin (UTC+1): 1h left today
    t = make(desk)
    # 1h Friday, Monday skipped, 7h on Tuesday 09:00-16:00 Berlin = 15:00 UTC
    assert t.due_at == utc("2026-03-10T15:00:00Z")


def test_sla_due_across_the_daylight_saving_change():
    hours = parse_hours(WEEKDAYS_9_TO_5)
    tz = zone("Europe/Berlin")
    # Friday 27 March 2026 16:00 CET; clocks go forward on Sunday 29 March
    start = datetime(2026, 3, 27, 15, 0, tzinfo=UTC)
    due = add_business_time(start, timedelta(hours=2), tz, hours, set())
    # 1h Friday, then Monday 09:00 CEST (07:00 UTC) + 1h
    assert due == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def test_schedule_validation():
    with pytest.raises(ValidationError):
        parse_hours({"0": [["17:00", "09:00"]]})
    with pytest.raises(ValidationError):
        parse_hours({"9": [["09:00", "17:00"]]})
    with pytest.raises(ValidationError):
        zone("Mars/Olympus")


def test_overdue_is_flagged_once_with_an_event(desk):
    with desk.tx() as tx:
        tx.session.add(SLAPlan(name="4h", grace_hours=4, is_default=True))
    t = make(desk)
    clock.advance(hours=3)
    assert lifecycle.mark_overdue(desk.engine) == 0
    clock.advance(hours=2)
    assert lifecycle.mark_overdue(desk.engine) == 1
    assert lifecycle.mark_overdue(desk.engine) == 0
    d = show(desk, t.number)
    assert d.is_overdue and [i.event_kind for i in d.thread].count("overdue") == 1


def test_first_response_time_is_recorded(desk):
    t = make(desk)
    clock.advance(minutes=42)
    with desk.tx() as tx:
        tickets.reply(tx, t.number, "hello")
    d = show(desk, t.number)
    assert d.first_response_at - d.created_at == timedelta(minutes=42)


def test_chaser_then_close_when_the_customer_stays_silent(desk):
    with desk.tx() as tx:
        settings.put(tx.session, "autoclose_statuses", ["Pending"])
        settings.put(tx.session, "autoclose_chaser_days", 3)
        settings.put(tx.session, "autoclose_close_days", 4)
    t = make(desk)
    with desk.tx() as tx:
        tickets.reply(tx, t.number, "Can you send the logs?", status="Pending")
    waiting_from = clock.now()
    clock.advance(days=2)
    assert lifecycle.autoclose(desk.engine) == {"chased": 0, "closed": 0}
    clock.advance(days=1, minutes=1)
    assert lifecycle.autoclose(desk.engine) == {"chased": 1, "closed": 0}
    assert lifecycle.autoclose(desk.engine) == {"chased": 0, "closed": 0}
    clock.advance(days=5)
    assert lifecycle.autoclose(desk.engine) == {"chased": 0, "closed": 1}
    d = show(desk, t.number)
    assert d.state == "closed" and d.closed_at == waiting_from + timedelta(days=7)
    assert lifecycle.autoclose(desk.engine) == {"chased": 0, "closed": 0}


def test_a_customer_reply_after_the_chaser_stops_the_close(desk):
    with desk.tx() as tx:
        settings.put(tx.session, "autoclose_statuses", ["Pending"])
    t = make(desk)
    with desk.tx() as tx:
        tickets.reply(tx, t.number, "Logs?", status="Pending")
    clock.advance(days=3, minutes=1)
    assert lifecycle.autoclose(desk.engine)["chased"] == 1
    clock.advance(days=1)
    with desk.tx() as tx:
        from tui_helpdesk.services import lookup

        tickets.add_customer_message(tx, tickets.load(tx, t.number), lookup.contact(tx.session, "bob@acme.example"),
                                     "here they are")
    clock.advance(days=10)
    assert lifecycle.autoclose(desk.engine)["closed"] == 0
    assert show(desk, t.number).state == "open"


def test_a_missed_week_of_daily_runs_creates_one_ticket(desk):
    with desk.tx() as tx:
        contact_id = tickets.create(tx, subject="seed", body="x", contact_email="ops@acme.example",
                                    department="Support").contact_id
        tx.session.add(ScheduledTicket(subject="Check backups", body="Daily backup check", frequency="daily",
                                       next_run_at=utc("2026-03-02T08:00:00Z"), department_id=1,
                                       contact_id=contact_id))
    clock.set_now("2026-03-09T10:00:00Z")  # a week of downtime
    assert lifecycle.run_scheduled(desk.engine) == 1
    assert lifecycle.run_scheduled(desk.engine) == 0
    with reading(desk.engine) as tx:
        n = tx.session.execute(select(func.count()).select_from(Ticket).where(Ticket.subject == "Check backups")).scalar()
        job = tx.session.execute(select(ScheduledTicket)).scalar_one()
    assert n == 1 and job.next_run_at == utc("2026-03-10T08:00:00Z")


def test_monthly_runs_keep_the_month_end():
    assert lifecycle.next_run(utc("2026-01-31T08:00:00Z"), "monthly") == utc("2026-02-28T08:00:00Z")
    assert lifecycle.next_run(utc("2026-12-15T08:00:00Z"), "monthly") == utc("2027-01-15T08:00:00Z")
    assert lifecycle.next_run(utc("2028-02-29T08:00:00Z"), "yearly") == utc("2029-02-28T08:00:00Z")


def test_run_timers_twice_changes_nothing_the_second_time(desk):
    with desk.tx() as tx:
        tx.session.add(SLAPlan(name="1h", grace_hours=1, is_default=True))
    t = make(desk)
    with desk.tx() as tx:
        tickets.resolve(tx, make(desk).number)
    clock.advance(days=8)
    first = lifecycle.run_timers(desk.engine)
    second = lifecycle.run_timers(desk.engine)
    assert first["closed_after_window"] == 1 and first["overdue"] == 1
    assert all(v == 0 for v in second.values())
    assert show(desk, t.number).is_overdue


def test_task_due_before_the_ticket_and_closing_leaves_a_note(desk):
    with desk.tx() as tx:
        tx.session.add(SLAPlan(name="8h", grace_hours=8, is_default=True))
    t = make(desk)
    with pytest.raises(ValidationError):
        with desk.tx() as tx:
            tasks.create_task(tx, t.number, "Replace disk", due_at=t.due_at + timedelta(hours=1))
    with desk.tx() as tx:
        task = tasks.create_task(tx, t.number, "Replace disk", assignee="sam", due_at=t.due_at - timedelta(hours=1))
    with desk.tx(desk.agent) as tx:
        tasks.close_task(tx, task.id, summary="Disk swapped")
    d = show(desk, t.number)
    assert d.tasks[0].closed_at is not None
    with reading(desk.engine) as tx:
        notes = tx.session.execute(select(TicketEntry.body).where(TicketEntry.kind == "note")).scalars().all()
    assert any("Replace disk" in n and "Disk swapped" in n for n in notes)


def test_changing_a_plan_recomputes_due_times_of_open_tickets(desk):
    from tui_helpdesk.services import lifecycle_admin as la

    with desk.tx() as tx:
        plan = la.save_plan(tx, name="Standard", grace_hours=4, is_default=True)
    t = make(desk)
    assert t.due_at == clock.now() + timedelta(hours=4)
    with desk.tx() as tx:
        sched = la.save_schedule(tx, name="Office", timezone="UTC", hours=la.parse_hours_text("mon-fri 09:00-17:00"))
        la.save_plan(tx, plan_id=plan.id, name="Standard", grace_hours=10, schedule=sched.name, is_default=True)
    # created Monday 09:00 UTC: 8h on Monday, 2h on Tuesday
    assert show(desk, t.number).due_at == utc("2026-03-03T11:00:00Z")
    with desk.tx() as tx:
        la.add_holiday(tx, "Office", "2026-03-03", "Local holiday")
    assert show(desk, t.number).due_at == utc("2026-03-04T11:00:00Z")


def test_lifecycle_admin_validation(desk):
    from tui_helpdesk.services import lifecycle_admin as la
    from tui_helpdesk.services.errors import Conflict, PermissionDenied

    with pytest.raises(ValidationError) as err:
        with desk.tx() as tx:
            la.save_plan(tx, name="Zero", grace_hours=0)
    assert err.value.field == "grace_hours"
    with pytest.raises(ValidationError) as err:
        la.parse_hours_text("weekdays 9-5")
    assert err.value.field == "hours"
    with pytest.raises(PermissionDenied):
        with desk.tx(desk.agent) as tx:
            la.save_plan(tx, name="Mine", grace_hours=2)
    with pytest.raises(ValidationError) as err:
        with desk.tx() as tx:
            la.save_scheduled(tx, subject="Patch day", frequency="fortnightly", next_run_at="2026-04-01T08:00:00Z",
                              department="Support", contact="ops@acme.example")
    assert err.value.field == "frequency"
    with pytest.raises(ValidationError) as err:
        with desk.tx() as tx:
            la.save_scheduled(tx, subject="Patch day", frequency="monthly", next_run_at="2026-04-01T08:00:00Z",
                              department="Old", contact="ops@acme.example")
    assert err.value.field == "department"
    with desk.tx() as tx:
        plan = la.save_plan(tx, name="P", grace_hours=2, is_default=True)
    make(desk)
    with pytest.raises(Conflict):
        with desk.tx() as tx:
            la.delete_plan(tx, plan.id)


# --- what each timer leaves behind (found by mutation testing: benchmarks/mutation.py) ---------------------


def _event(desk, ref, kind):
    (item,) = [i for i in show(desk, ref).thread if i.event_kind == kind]
    return item.data


def _outbox(desk, kind):
    from tui_helpdesk.models import OutboundMessage

    with reading(desk.engine) as tx:
        return [(m.to_addrs, m.ticket_id) for m in tx.session.execute(
            select(OutboundMessage).where(OutboundMessage.kind == kind).order_by(OutboundMessage.id)).scalars()]


def test_the_window_close_says_from_which_status_why_and_when_it_was_due(desk):
    t = make(desk)
    with desk.tx() as tx:
        tickets.resolve(tx, t.number, notes="fixed")
    resolved = show(desk, t.number).status
    clock.advance(days=9)
    assert lifecycle.close_expired_resolved(desk.engine) == 1
    assert _event(desk, t.number, "auto_closed") == {
        "old": resolved, "new": show(desk, t.number).status, "reason": "reopen window ended",
        "due": "2026-03-09T09:00:00+00:00",
    }
    assert show(desk, t.number).status == "Closed"


def test_chasers_and_closes_are_counted_mailed_and_explained(desk):
    with desk.tx() as tx:
        settings.put(tx.session, "autoclose_statuses", ["Pending"])
        settings.put(tx.session, "autoclose_chaser_days", 3)
        settings.put(tx.session, "autoclose_close_days", 4)
    waiting = [make(desk, subject=f"Waiting {i}") for i in range(2)]
    for t in waiting:
        with desk.tx() as tx:
            tickets.reply(tx, t.number, "Can you send the logs?", status="Pending")
    clock.advance(days=3)
    assert lifecycle.autoclose(desk.engine) == {"chased": 2, "closed": 0}
    chasers = _outbox(desk, "notice.chaser")
    assert sorted(ticket_id for _, ticket_id in chasers) == sorted(t.id for t in waiting)
    assert all("bob@acme.example" in str(to) for to, _ in chasers)
    assert _event(desk, waiting[0].number, "chaser_sent") == {"quiet_since": "2026-03-02T09:00:00+00:00"}
    clock.advance(days=4)
    assert lifecycle.autoclose(desk.engine) == {"chased": 0, "closed": 2}
    assert _event(desk, waiting[1].number, "auto_closed") == {
        "old": "Pending", "new": "Closed", "reason": "no reply to the chaser",
        "due": "2026-03-09T09:00:00+00:00",
    }


def test_many_tickets_are_closed_in_batches_and_all_counted(desk, monkeypatch):
    monkeypatch.setattr(lifecycle, "BATCH", 2)
    numbers = [make(desk, subject=f"T{i}").number for i in range(5)]
    for n in numbers:
        with desk.tx() as tx:
            tickets.resolve(tx, n, notes="fixed")
    clock.advance(days=8)
    assert lifecycle.close_expired_resolved(desk.engine) == 5
    assert [show(desk, n).state for n in numbers] == ["closed"] * 5


def test_a_scheduled_ticket_opens_with_the_jobs_fields(desk):
    from tui_helpdesk.models import Organization
    from tui_helpdesk.services import lifecycle_admin as la

    with desk.tx() as tx:
        tx.session.add(Organization(name="Acme Ltd"))
    with desk.tx() as tx:
        la.save_scheduled(tx, subject="Check backups", body="Look at the report", frequency="weekly",
                          next_run_at="2026-03-02T08:00:00Z", department="Support", contact="ops@acme.example",
                          priority="High", assignee="sam", organization="Acme Ltd")
    assert lifecycle.run_scheduled(desk.engine) == 1
    with reading(desk.engine) as tx:
        number = tx.session.execute(select(Ticket.number).where(Ticket.subject == "Check backups")).scalar_one()
    d = show(desk, number)
    assert (d.requester_email, d.priority, d.assignee_username, d.organization, d.source, d.department) == (
        "ops@acme.example", "High", "sam", "Acme Ltd", "scheduled", "Support")
    assert d.thread[0].body == "Look at the report"


def test_a_scheduled_ticket_without_a_contact_is_requested_by_the_desk(desk):
    desk_address = "helpdesk@example.com"
    with desk.tx() as tx:
        settings.put(tx.session, "default_from", desk_address)
        tx.session.add(ScheduledTicket(subject="Rotate keys", frequency="monthly", department_id=1,
                                       next_run_at=utc("2026-03-01T08:00:00Z")))
    assert lifecycle.run_scheduled(desk.engine) == 1
    with reading(desk.engine) as tx:
        number = tx.session.execute(select(Ticket.number).where(Ticket.subject == "Rotate keys")).scalar_one()
    assert show(desk, number).requester_email == desk_address


def test_the_preview_names_what_a_pass_would_do_and_changes_nothing(desk):
    with desk.tx() as tx:
        settings.put(tx.session, "autoclose_statuses", ["Pending"])
        tx.session.add(SLAPlan(name="1h", grace_hours=1, is_default=True))
        tx.session.add(ScheduledTicket(subject="Rotate keys", frequency="monthly", department_id=1,
                                       next_run_at=utc("2026-03-05T08:00:00Z")))
    overdue, resolved, waiting = make(desk, subject="Late"), make(desk), make(desk, subject="Logs?")
    with desk.tx() as tx:
        tickets.resolve(tx, resolved.number, notes="fixed")
        tickets.reply(tx, waiting.number, "Can you send the logs?", status="Pending")
    clock.advance(days=8)
    with reading(desk.engine) as tx:
        before = tx.session.execute(select(Ticket.id, Ticket.version, Ticket.state).order_by(Ticket.id)).all()
    preview = lifecycle.preview_timers(desk.engine)
    assert preview["closed_after_window"] == [resolved.number]
    assert overdue.number in preview["overdue"] and resolved.number not in preview["overdue"]
    assert preview["scheduled"] == ["#1 Rotate keys"]
    assert preview["autoclose_chased"] == [waiting.number] and preview["autoclose_closed"] == []
    with reading(desk.engine) as tx:
        assert tx.session.execute(select(Ticket.id, Ticket.version, Ticket.state).order_by(Ticket.id)).all() == before
    done = lifecycle.run_timers(desk.engine)
    assert {k: done[k] for k in preview} == {k: len(v) for k, v in preview.items()}


def test_overdue_at_the_due_second_with_the_due_time_and_an_alert(desk):
    with desk.tx() as tx:
        tx.session.add(SLAPlan(name="4h", grace_hours=4, is_default=True))
    t = make(desk)
    clock.set_now(t.due_at)
    assert lifecycle.mark_overdue(desk.engine) == 1
    assert _event(desk, t.number, "overdue") == {"due": t.due_at.isoformat()}
    assert {ticket_id for _, ticket_id in _outbox(desk, "alert.overdue")} == {t.id}  # one per Support agent


def test_an_archived_ticket_is_never_flagged_overdue_until_it_is_restored(desk):
    # archiving leaves the state open; only the visible filter keeps the SLA timer off it
    with desk.tx() as tx:
        tx.session.add(SLAPlan(name="4h", grace_hours=4, is_default=True))
    archived, live = make(desk, subject="Old"), make(desk, subject="Live")
    with desk.tx() as tx:
        tickets.archive(tx, archived.number)
    clock.set_now(archived.due_at + timedelta(hours=1))
    assert archived.number not in lifecycle.preview_timers(desk.engine)["overdue"]
    assert lifecycle.mark_overdue(desk.engine) == 1
    d = show(desk, archived.number)
    assert d.state in tickets.OPEN_STATES and not d.is_overdue
    assert "overdue" not in [i.event_kind for i in d.thread]
    assert {ticket_id for _, ticket_id in _outbox(desk, "alert.overdue")} == {live.id}
    with desk.tx() as tx:
        tickets.restore(tx, archived.number)
    assert lifecycle.mark_overdue(desk.engine) == 1
    assert show(desk, archived.number).is_overdue


def test_daily_and_weekly_runs_step_by_one_period():
    assert lifecycle.next_run(utc("2026-03-02T08:00:00Z"), "daily") == utc("2026-03-03T08:00:00Z")
    assert lifecycle.next_run(utc("2026-03-02T08:00:00Z"), "weekly") == utc("2026-03-09T08:00:00Z")
    with pytest.raises(ValueError, match="fortnightly"):
        lifecycle.next_run(utc("2026-03-02T08:00:00Z"), "fortnightly")
