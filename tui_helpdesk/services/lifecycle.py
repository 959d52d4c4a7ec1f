"""Lifecycle timers, run by the worker. Each is idempotent: running it twice, or late after hours of
downtime, does each thing exactly once, and times what it does by when it was due, not when it ran.

- reopen window: resolved tickets whose window has passed become closed (at the window's end);
- auto-close: a chaser after N quiet days in a waiting status, then closed M days later;
- SLA: open tickets past their due time are flagged overdue once, with an event and an alert;
- scheduled tickets: a template opens its ticket once per due run, however many runs were missed.
"""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select

from tui_helpdesk.models import Contact, ScheduledTicket, Status, Ticket

from . import lookup, settings, tickets
from .context import Actor, Tx, event, reading, transaction

BATCH = 500
TIMER_ACTOR = Actor.system("worker")
# auto-close only chases tickets that wait on the customer (the admin may pick only such statuses)
WAITING_STATES = ("open", "pending")


def _batches(engine: Engine, query, work) -> int:
    """Run `work(tx, ticket)` over matching tickets in small transactions; returns how many changed."""
    done = 0
    while True:
        with transaction(engine, TIMER_ACTOR) as tx:
            rows = tx.session.execute(query(tx).limit(BATCH)).scalars().all()
            changed = sum(1 for t in rows if work(tx, t))
        done += changed
        if len(rows) < BATCH or changed == 0:
            return done


def _reopen_window(tx: Tx) -> timedelta:
    return timedelta(days=int(settings.get(tx.session, "reopen_window_days")))


def _expired_resolved(tx: Tx):
    """Resolved tickets whose reopen window has ended by now (the boundary itself included)."""
    ended = tx.now - _reopen_window(tx)
    return select(Ticket).where(Ticket.state == "resolved", Ticket.resolved_at <= ended).order_by(Ticket.id)


def close_expired_resolved(engine: Engine) -> int:
    def work(tx: Tx, ticket: Ticket) -> bool:
        _close(tx, ticket, when=ticket.resolved_at + _reopen_window(tx), why="reopen window ended")
        return True

    return _batches(engine, _expired_resolved, work)


def _close(tx: Tx, ticket: Ticket, when: datetime, why: str) -> None:
    closed = lookup.default_status_for(tx.session, "closed")
    old = tx.session.get(Status, ticket.status_id)
    tickets.apply_status(ticket, closed, when)  # the one place a status's columns are set
    event(tx, ticket, "auto_closed", old=old.name if old else None, new=closed.name, reason=why,
          due=when.isoformat())
    from tui_helpdesk.services import notify

    notify.closed(tx, ticket)


def _waiting_status_ids(tx: Tx) -> list[int]:
    names = [n.lower() for n in settings.get(tx.session, "autoclose_statuses")]
    if not names:
        return []
    return list(tx.session.execute(select(Status.id).where(func.lower(Status.name).in_(names))).scalars())


def _quiet_since(ticket: Ticket) -> datetime:
    # waiting starts when the ticket entered the status or the customer last wrote, whichever is later
    marks = [m for m in (ticket.status_changed_at, ticket.last_message_at, ticket.created_at) if m]
    return max(marks)


def _autoclose_due(tx: Tx) -> list[tuple[Ticket, str, datetime]]:
    """(ticket, "chase" or "close", when it was due) for each waiting ticket whose next step is due."""
    status_ids = _waiting_status_ids(tx)
    if not status_ids:
        return []
    chase_after = timedelta(days=int(settings.get(tx.session, "autoclose_chaser_days")))
    close_after = timedelta(days=int(settings.get(tx.session, "autoclose_close_days")))
    candidates = tx.session.execute(
        select(Ticket).where(Ticket.status_id.in_(status_ids), Ticket.state.in_(WAITING_STATES))
        .order_by(Ticket.id)
    ).scalars().all()
    due: list[tuple[Ticket, str, datetime]] = []
    for ticket in candidates:
        quiet = _quiet_since(ticket)
        if ticket.chaser_sent_at is None or ticket.chaser_sent_at < quiet:
            if tx.now >= quiet + chase_after:
                due.append((ticket, "chase", quiet + chase_after))
        elif tx.now >= ticket.chaser_sent_at + close_after:
            due.append((ticket, "close", ticket.chaser_sent_at + close_after))
    return due


def autoclose(engine: Engine) -> dict[str, int]:
    chased = closed = 0
    with transaction(engine, TIMER_ACTOR) as tx:
        for ticket, step, when in _autoclose_due(tx):
            if step == "chase":
                ticket.chaser_sent_at = when
                event(tx, ticket, "chaser_sent", quiet_since=_quiet_since(ticket).isoformat())
                from . import outbound

                outbound.queue_client_notice(tx, ticket, "chaser")
                chased += 1
            else:
                _close(tx, ticket, when=when, why="no reply to the chaser")
                closed += 1
    return {"chased": chased, "closed": closed}


def _newly_overdue(tx: Tx):
    return (select(Ticket).where(Ticket.visible.is_(True), Ticket.due_at <= tx.now,
                                 Ticket.is_overdue.is_(False), Ticket.state.in_(tickets.OPEN_STATES))
            .order_by(Ticket.due_at, Ticket.id))


def mark_overdue(engine: Engine) -> int:
    def work(tx: Tx, ticket: Ticket) -> bool:
        ticket.is_overdue = True
        event(tx, ticket, "overdue", due=ticket.due_at.isoformat())
        from . import outbound

        outbound.queue_alert(tx, ticket, "overdue")
        return True

    return _batches(engine, _newly_overdue, work)


def next_run(when: datetime, frequency: str) -> datetime:
    if frequency == "daily":
        return when + timedelta(days=1)
    if frequency == "weekly":
        return when + timedelta(weeks=1)
    months = {"monthly": 1, "yearly": 12}.get(frequency)
    if months is None:
        raise ValueError(f"unknown frequency {frequency!r}")
    month0 = when.month - 1 + months
    year, month = when.year + month0 // 12, month0 % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])  # the 31st becomes the month's last day
    return when.replace(year=year, month=month, day=day)


def _due_scheduled(tx: Tx) -> list[ScheduledTicket]:
    job = ScheduledTicket
    due = select(job).where(job.active.is_(True), job.next_run_at <= tx.now)
    return list(tx.session.execute(due.order_by(ScheduledTicket.id)).scalars())


def run_scheduled(engine: Engine) -> int:
    """Open each due scheduled ticket once, then move its next run past now (missed runs are not replayed)."""
    created = 0
    with transaction(engine, TIMER_ACTOR) as tx:
        for job in _due_scheduled(tx):
            contact = tx.session.get(Contact, job.contact_id) if job.contact_id else None
            tickets.open_ticket(
                tx, subject=job.subject, body=job.body or job.subject, contact_id=contact.id if contact else None,
                contact_email=None if contact else _fallback_requester(tx), department=job.department_id,
                priority=job.priority_id, assignee=job.assignee_id, source="scheduled",
                organization=job.organization_id, body_is_message=False,
            )
            nxt = job.next_run_at
            while nxt <= tx.now:
                nxt = next_run(nxt, job.frequency)
            job.last_run_at, job.next_run_at = tx.now, nxt
            tx.session.add(job)
            tx.changed = True
            created += 1
    return created


def _fallback_requester(tx: Tx) -> str:
    return settings.get(tx.session, "default_from") or "helpdesk@localhost.localdomain"


def run_timers(engine: Engine) -> dict[str, int]:
    """One pass of every timer, as the worker runs it."""
    result = {
        "closed_after_window": close_expired_resolved(engine),
        "overdue": mark_overdue(engine),
        "scheduled": run_scheduled(engine),
    }
    result.update({f"autoclose_{k}": v for k, v in autoclose(engine).items()})
    return result



def preview_timers(engine: Engine) -> dict[str, list[str]]:
    """What one pass of run_timers would do now, changing nothing: per timer (the keys run_timers
    counts under), the ticket numbers it would act on; scheduled tickets, which have no number yet,
    as `#id subject`. The same selections as the timers, so the preview cannot drift from them."""
    with reading(engine, TIMER_ACTOR) as tx:
        expired = tx.session.execute(_expired_resolved(tx)).scalars().all()
        overdue = tx.session.execute(_newly_overdue(tx)).scalars().all()
        scheduled = _due_scheduled(tx)
        waiting = _autoclose_due(tx)
        return {
            "closed_after_window": [t.number for t in expired],
            "overdue": [t.number for t in overdue],
            "scheduled": [f"#{job.id} {job.subject}" for job in scheduled],
            "autoclose_chased": [t.number for t, step, _ in waiting if step == "chase"],
            "autoclose_closed": [t.number for t, step, _ in waiting if step == "close"],
        }
