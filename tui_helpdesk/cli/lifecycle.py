"""`helpdesk sla|schedule|holiday|scheduled|task|autoclose`: the lifecycle admin from the shell.

Registered by tui_helpdesk.cli (see its module docstring for the contract): handlers get (args, ctx) and
raise services.errors.* for failures, which cli.main() maps to exit codes. The services
(services/lifecycle_admin.py) do the validation, so the CLI and the admin screens refuse the same
things with the same words. Top-level imports stay light: this module loads on every start.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui_helpdesk.cli import CommandContext
    from tui_helpdesk.services.context import Tx
    from tui_helpdesk.services.lifecycle_admin import AutoClose

# --- small CLI helpers ------------------------------------------------------------------------------------


def _table(rows: list[list[str]]) -> list[str]:
    from tui_helpdesk.untrusted import clean_line

    rows = [[clean_line(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def _int(value: str | None, field: str) -> int | None:
    from tui_helpdesk.services.errors import ValidationError

    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        raise ValidationError(field, f"must be a whole number, not {value!r}") from None


def _time(value: str | None, field: str) -> datetime | None:
    from tui_helpdesk import clock
    from tui_helpdesk.services.errors import ValidationError

    if value is None or not value.strip():
        return None
    try:
        return clock.parse_iso(value)
    except ValueError:
        raise ValidationError(field, f"{value!r} is not an ISO-8601 time (2026-03-02T09:00:00Z)") from None


def _agent(ctx: CommandContext, name: str | None) -> str | int | None:
    """A username, `me`, or empty/`none` for nobody."""
    if name is None or name.strip().lower() in ("", "none"):
        return None
    if name.strip().lower() == "me":
        return ctx.actor.agent_id
    return name.strip()


def _optional(value: str | None) -> str | None:
    """`none` or an empty string clears an optional reference."""
    return "" if value is not None and value.strip().lower() in ("", "none") else value


def _active(p: argparse.ArgumentParser, what: str) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--active",
        dest="active",
        action="store_const",
        const=True,
        default=None,
        help=f"the {what} is in use",
    )
    group.add_argument(
        "--inactive",
        dest="active",
        action="store_const",
        const=False,
        help=f"keep the {what} but stop using it",
    )


# --- SLA plans -----------------------------------------------------------------------------------------------


def _plan_lines(rows: Sequence[Any]) -> list[str]:
    if not rows:
        return ["no SLA plans (add one: helpdesk sla add NAME --grace-hours N)"]
    table = [["ID", "NAME", "GRACE", "SCHEDULE", "DEFAULT", "ACTIVE"]]
    table += [
        [
            str(r.id),
            r.name,
            f"{r.grace_hours}h",
            r.schedule,
            "yes" if r.is_default else "",
            "yes" if r.active else "no",
        ]
        for r in rows
    ]
    return _table(table)


def _find_plan(tx: Tx, ref: str) -> Any:
    from tui_helpdesk.services import lifecycle_admin as la
    from tui_helpdesk.services.errors import NotFound

    for row in la.list_plans(tx):
        if str(row.id) == ref.strip() or row.name.lower() == ref.strip().lower():
            return row
    raise NotFound(f"no SLA plan {ref!r}")


def cmd_sla_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import lifecycle_admin as la

    with ctx.reading() as tx:
        rows = la.list_plans(tx)
    ctx.emit(rows, _plan_lines(rows))
    return 0


def cmd_sla_add(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import lifecycle_admin as la
    from tui_helpdesk.services.errors import ValidationError

    grace = _int(args.grace_hours, "grace_hours")
    if grace is None:
        raise ValidationError("grace_hours", "is required (--grace-hours N)")
    with ctx.transaction() as tx:
        row = la.save_plan(
            tx,
            name=args.name,
            grace_hours=grace,
            schedule=args.schedule,
            active=args.active is not False,
            is_default=bool(args.default),
        )
    ctx.emit(row, f"SLA plan {row.name} added: {row.grace_hours}h on {row.schedule}")
    return 0


def cmd_sla_edit(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import lifecycle_admin as la

    grace = _int(args.grace_hours, "grace_hours")
    with ctx.transaction() as tx:
        cur = _find_plan(tx, args.plan)
        row = la.save_plan(
            tx,
            plan_id=cur.id,
            name=cur.name if args.name is None else args.name,
            grace_hours=cur.grace_hours if grace is None else grace,
            schedule=cur.schedule if args.schedule is None else args.schedule,
            active=cur.active if args.active is None else args.active,
            is_default=cur.is_default if args.default is None else args.default,
        )
    ctx.emit(row, f"SLA plan {row.name} saved: {row.grace_hours}h on {row.schedule}")
    return 0


def cmd_sla_delete(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import lifecycle_admin as la

    with ctx.transaction() as tx:
        cur = _find_plan(tx, args.plan)
        la.delete_plan(tx, cur.id)
    ctx.emit({"deleted": cur.id, "name": cur.name}, f"SLA plan {cur.name} deleted")
    return 0


# --- schedules and holidays ------------------------------------------------------------------------------


def _schedule_json(row: Any) -> dict[str, Any]:
    from tui_helpdesk.services import lifecycle_admin as la

    return {
        "id": row.id,
        "name": row.name,
        "timezone": row.timezone,
        "hours": row.hours,
        "hours_text": la.format_hours_text(row.hours),
        "holidays": [{"day": day, "name": name} for day, name in row.holidays],
    }


def _schedule_lines(rows: Sequence[Any]) -> list[str]:
    from tui_helpdesk.services import lifecycle_admin as la

    if not rows:
        return ["no schedules (add one: helpdesk schedule add NAME --hours 'mon-fri 09:00-17:00')"]
    table = [["ID", "NAME", "TIME ZONE", "HOURS", "HOLIDAYS"]]
    table += [
        [
            str(r.id),
            r.name,
            r.timezone,
            la.format_hours_text(r.hours),
            ", ".join(day for day, _ in r.holidays) or "-",
        ]
        for r in rows
    ]
    return _table(table)


def _find_schedule(tx: Tx, ref: str) -> Any:
    from tui_helpdesk.services import lifecycle_admin as la
    from tui_helpdesk.services.errors import NotFound

    for row in la.list_schedules(tx):
        if str(row.id) == ref.strip() or row.name.lower() == ref.strip().lower():
            return row
    raise NotFound(f"no schedule {ref!r}")


def cmd_schedule_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import lifecycle_admin as la

    with ctx.reading() as tx:
        rows = la.list_schedules(tx)
    ctx.emit([_schedule_json(r) for r in rows], _schedule_lines(rows))
    return 0


def cmd_schedule_add(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import lifecycle_admin as la
    from tui_helpdesk.services.errors import ValidationError

    if args.hours is None:
        raise ValidationError("hours", "is required (--hours 'mon-fri 09:00-17:00')")
    hours = la.parse_hours_text(args.hours)
    with ctx.transaction() as tx:
        row = la.save_schedule(tx, name=args.name, timezone=args.timezone or "UTC", hours=hours)
    ctx.emit(
        _schedule_json(row), f"schedule {row.name} added: {la.format_hours_text(row.hours)} ({row.timezone})"
    )
    return 0


def cmd_schedule_edit(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import lifecycle_admin as la

    hours = la.parse_hours_text(args.hours) if args.hours is not None else None
    with ctx.transaction() as tx:
        cur = _find_schedule(tx, args.schedule)
        row = la.save_schedule(
            tx,
            schedule_id=cur.id,
            name=cur.name if args.name is None else args.name,
            timezone=cur.timezone if args.timezone is None else args.timezone,
            hours=cur.hours if hours is None else hours,
        )
    ctx.emit(
        _schedule_json(row), f"schedule {row.name} saved: {la.format_hours_text(row.hours)} ({row.timezone})"
    )
    return 0


def cmd_schedule_delete(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import lifecycle_admin as la

    with ctx.transaction() as tx:
        cur = _find_schedule(tx, args.schedule)
        la.delete_schedule(tx, cur.id)
    ctx.emit({"deleted": cur.id, "name": cur.name}, f"schedule {cur.name} deleted")
    return 0


def cmd_holiday(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import lifecycle_admin as la
    from tui_helpdesk.services.errors import ValidationError

    try:
        day = date.fromisoformat(args.day.strip())
    except ValueError:
        raise ValidationError("day", f"{args.day!r} is not a date (YYYY-MM-DD)") from None
    with ctx.transaction() as tx:
        cur = _find_schedule(tx, args.schedule)
        if args.holiday_command == "add":
            la.add_holiday(tx, cur.id, day, args.name or "")
        else:
            la.remove_holiday(tx, cur.id, day)
        row = next(r for r in la.list_schedules(tx) if r.id == cur.id)
    verb = "added to" if args.holiday_command == "add" else "removed from"
    ctx.emit(_schedule_json(row), f"holiday {day} {verb} {row.name}")
    return 0


# --- scheduled tickets --------------------------------------------------------------------------------------


def _scheduled_lines(rows: Sequence[Any]) -> list[str]:
    if not rows:
        return ["no scheduled tickets"]
    table = [["ID", "SUBJECT", "EVERY", "NEXT RUN (UTC)", "DEPARTMENT", "CONTACT", "ASSIGNEE", "ACTIVE"]]
    table += [
        [
            str(r.id),
            r.subject,
            r.frequency,
            _when(r.next_run_at),
            r.department,
            r.contact or "-",
            r.assignee or "-",
            "yes" if r.active else "no",
        ]
        for r in rows
    ]
    return _table(table)


def cmd_scheduled_list(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import lifecycle_admin as la

    with ctx.reading() as tx:
        rows = la.list_scheduled(tx)
    ctx.emit(rows, _scheduled_lines(rows))
    return 0


def cmd_scheduled_add(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import lifecycle_admin as la
    from tui_helpdesk.services.errors import ValidationError

    for value, field, hint in (
        (args.next_run, "next_run_at", "--next-run ISO"),
        (args.department, "department", "--department NAME"),
        (args.contact, "contact", "--contact EMAIL"),
    ):
        if not (value or "").strip():
            raise ValidationError(field, f"is required ({hint})")
    with ctx.transaction() as tx, la.fields_renamed(**la.SCHEDULED_FIELDS):
        row = la.save_scheduled(
            tx,
            subject=args.subject,
            body=args.body or "",
            frequency=args.frequency or "",
            next_run_at=args.next_run,
            department=args.department,
            contact=args.contact,
            priority=_optional(args.priority),
            assignee=_agent(ctx, args.assignee),
            organization=_optional(args.org),
            active=args.active is not False,
        )
    ctx.emit(
        row,
        f"scheduled ticket {row.id} added: {row.subject}, {row.frequency}, next run "
        f"{_when(row.next_run_at)} UTC",
    )
    return 0


def cmd_scheduled_edit(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import lifecycle_admin as la

    job_id = _int(args.id, "id")
    with ctx.transaction() as tx, la.fields_renamed(**la.SCHEDULED_FIELDS):
        job = la.scheduled_details(tx, job_id)
        cur = next(r for r in la.list_scheduled(tx) if r.id == job_id)
        # a field not given keeps its value
        row = la.save_scheduled(
            tx,
            job_id=job_id,
            subject=cur.subject if args.subject is None else args.subject,
            body=job.body if args.body is None else args.body,
            frequency=cur.frequency if args.frequency is None else args.frequency,
            next_run_at=cur.next_run_at if args.next_run is None else args.next_run,
            department=job.department_id if args.department is None else args.department,
            contact=cur.contact if args.contact is None else args.contact,
            priority=job.priority_id if args.priority is None else _optional(args.priority),
            assignee=job.assignee_id if args.assignee is None else _agent(ctx, args.assignee),
            organization=job.organization_id if args.org is None else _optional(args.org),
            active=cur.active if args.active is None else args.active,
        )
    ctx.emit(
        row,
        f"scheduled ticket {row.id} saved: {row.subject}, {row.frequency}, next run "
        f"{_when(row.next_run_at)} UTC",
    )
    return 0


def cmd_scheduled_delete(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import lifecycle_admin as la

    job_id = _int(args.id, "id")
    with ctx.transaction() as tx:
        la.delete_scheduled(tx, job_id)
    ctx.emit({"deleted": job_id}, f"scheduled ticket {job_id} deleted")
    return 0


# --- tasks ----------------------------------------------------------------------------------------------------


def _task_json(task: Any, number: str) -> dict[str, Any]:
    return {
        "id": task.id,
        "ticket": number,
        "title": task.title,
        "assignee_id": task.assignee_id,
        "due_at": task.due_at,
        "created_at": task.created_at,
        "closed_at": task.closed_at,
    }


def cmd_task_add(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import lifecycle_admin as la
    from tui_helpdesk.services import tasks, tickets

    due = _time(args.due, "due_at")
    with ctx.transaction() as tx, la.fields_renamed(agent="assignee"):
        task = tasks.create_task(
            tx,
            args.ref,
            args.title,
            description=args.description or "",
            assignee=_agent(ctx, args.assignee),
            due_at=due,
            expected_version=args.expect_version,
        )
        result = _task_json(task, tickets.load(tx, task.ticket_id).number)
    ctx.emit(result, f"task {result['id']} added to {result['ticket']}: {result['title']}")
    return 0


def cmd_task_close(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import tasks, tickets

    task_id = _int(args.id, "id")
    with ctx.transaction() as tx:
        task = tasks.close_task(tx, task_id, summary=args.summary or "", expected_version=args.expect_version)
        result = _task_json(task, tickets.load(tx, task.ticket_id).number)
    ctx.emit(result, f"task {result['id']} on {result['ticket']} closed")
    return 0


# --- auto-close --------------------------------------------------------------------------------------------------


def _autoclose_lines(ac: AutoClose) -> list[str]:
    if not ac.statuses:
        return [
            "auto-close is off (no statuses); turn it on with: helpdesk autoclose set --statuses Pending",
            f"chaser after {ac.chaser_days} days, close {ac.close_days} days later",
        ]
    return [
        f"statuses: {', '.join(ac.statuses)}",
        f"chaser after {ac.chaser_days} quiet days, close {ac.close_days} days after the chaser",
    ]


def cmd_autoclose_show(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import lifecycle_admin as la

    with ctx.reading() as tx:
        ac = la.read_autoclose(tx)
    ctx.emit(ac, _autoclose_lines(ac))
    return 0


def cmd_autoclose_set(args: argparse.Namespace, ctx: CommandContext) -> int:
    from tui_helpdesk.services import lifecycle_admin as la

    with ctx.transaction() as tx:
        ac = la.save_autoclose(
            tx, statuses=args.statuses, chaser_days=args.chaser_days, close_days=args.close_days
        )
    ctx.emit(ac, _autoclose_lines(ac))
    return 0


# --- the parsers -----------------------------------------------------------------------------------------------


def register(subparsers: Any) -> None:
    _sla(subparsers)
    _schedules(subparsers)
    _scheduled(subparsers)
    _tasks(subparsers)
    _autoclose(subparsers)


def _sla(sub: Any) -> None:
    p_sla = sub.add_parser("sla", help="SLA plans (grace hours on a schedule)")
    s = p_sla.add_subparsers(dest="sla_command", metavar="ACTION", required=True)
    s.add_parser("list", help="list SLA plans").set_defaults(func=cmd_sla_list)
    for action in ("add", "edit"):
        p = s.add_parser(
            action,
            help="add an SLA plan (admins only)"
            if action == "add"
            else "change an SLA plan; open tickets get new due times (admins only)",
        )
        if action == "add":
            p.add_argument("name")
        else:
            p.add_argument("plan", metavar="PLAN", help="name or id")
            p.add_argument("--name", help="rename the plan")
        p.add_argument("--grace-hours", metavar="N", help="hours until a ticket is due")
        p.add_argument(
            "--schedule", metavar="NAME", help="count only this schedule's business hours (24/7: all)"
        )
        p.add_argument(
            "--default",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="the plan for tickets that get none from their topic or department",
        )
        _active(p, "plan")
        p.set_defaults(func=cmd_sla_add if action == "add" else cmd_sla_edit)
    p = s.add_parser("delete", help="delete an unused SLA plan (admins only)")
    p.add_argument("plan", metavar="PLAN", help="name or id")
    p.set_defaults(func=cmd_sla_delete)


def _schedules(sub: Any) -> None:
    p_sched = sub.add_parser("schedule", help="business-hour schedules for SLA plans")
    s = p_sched.add_subparsers(dest="schedule_command", metavar="ACTION", required=True)
    s.add_parser("list", help="list schedules with their hours and holidays").set_defaults(
        func=cmd_schedule_list
    )
    for action in ("add", "edit"):
        p = s.add_parser(action, help=f"{action} a schedule (admins only)")
        if action == "add":
            p.add_argument("name")
        else:
            p.add_argument("schedule", metavar="SCHEDULE", help="name or id")
            p.add_argument("--name", help="rename the schedule")
        p.add_argument("--timezone", metavar="TZ", help="IANA time zone, e.g. Europe/Berlin (default UTC)")
        p.add_argument(
            "--hours", metavar="TEXT", help="working hours: 'mon-fri 09:00-17:00; sat 10:00-14:00'"
        )
        p.set_defaults(func=cmd_schedule_add if action == "add" else cmd_schedule_edit)
    p = s.add_parser("delete", help="delete a schedule no SLA plan uses (admins only)")
    p.add_argument("schedule", metavar="SCHEDULE", help="name or id")
    p.set_defaults(func=cmd_schedule_delete)

    p_hol = sub.add_parser("holiday", help="holidays of a schedule (no business hours that day)")
    h = p_hol.add_subparsers(dest="holiday_command", metavar="ACTION", required=True)
    for action in ("add", "remove"):
        p = h.add_parser(action, help=f"{action} a holiday (admins only)")
        p.add_argument("schedule", metavar="SCHEDULE", help="name or id")
        p.add_argument("day", metavar="DATE", help="YYYY-MM-DD")
        if action == "add":
            p.add_argument("--name", default="", help="e.g. New Year's Day")
        p.set_defaults(func=cmd_holiday)


def _scheduled(sub: Any) -> None:
    p_job = sub.add_parser("scheduled", help="tickets opened daily, weekly, monthly or yearly")
    s = p_job.add_subparsers(dest="scheduled_command", metavar="ACTION", required=True)
    s.add_parser("list", help="list scheduled tickets with their next run").set_defaults(
        func=cmd_scheduled_list
    )
    for action in ("add", "edit"):
        p = s.add_parser(action, help=f"{action} a scheduled ticket (admins only)")
        if action == "add":
            p.add_argument("subject")
        else:
            p.add_argument("id", metavar="ID")
            p.add_argument("--subject")
        p.add_argument("--body", help="the ticket's first message")
        p.add_argument("--frequency", metavar="EVERY", help="daily, weekly, monthly or yearly")
        p.add_argument("--next-run", metavar="ISO", help="first (or next) run, e.g. 2026-04-01T08:00:00Z")
        p.add_argument("--department", metavar="NAME")
        p.add_argument("--contact", metavar="EMAIL", help="the requester")
        p.add_argument("--priority", metavar="NAME", help="none clears it")
        p.add_argument("--assignee", metavar="USERNAME", help="username, me or none")
        p.add_argument("--org", metavar="NAME", help="organization (default: the contact's; none clears it)")
        _active(p, "scheduled ticket")
        p.set_defaults(func=cmd_scheduled_add if action == "add" else cmd_scheduled_edit)
    p = s.add_parser("delete", help="delete a scheduled ticket (admins only)")
    p.add_argument("id", metavar="ID")
    p.set_defaults(func=cmd_scheduled_delete)


def _tasks(sub: Any) -> None:
    p_task = sub.add_parser("task", help="tasks on a ticket")
    s = p_task.add_subparsers(dest="task_command", metavar="ACTION", required=True)
    p = s.add_parser("add", help="add a task to a ticket")
    p.add_argument("ref", metavar="TICKET")
    p.add_argument("title")
    p.add_argument("--description", default="")
    p.add_argument("--assignee", metavar="USERNAME", help="username or me")
    p.add_argument("--due", metavar="ISO", help="due time, before the ticket's own")
    _if_version(p)
    p.set_defaults(func=cmd_task_add)
    p = s.add_parser("close", help="close a task (leaves a note on the ticket)")
    p.add_argument("id", metavar="ID")
    p.add_argument("--summary", default="", help="what was done (goes into the note)")
    _if_version(p)
    p.set_defaults(func=cmd_task_close)


def _if_version(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--if-version",
        "--expect-version",
        dest="expect_version",
        type=int,
        metavar="N",
        help="refuse (exit 5) unless the task's ticket is still at version N",
    )


def _autoclose(sub: Any) -> None:
    p_ac = sub.add_parser("autoclose", help="chase and close tickets waiting on a silent customer")
    s = p_ac.add_subparsers(dest="autoclose_command", metavar="ACTION", required=True)
    s.add_parser("show", help="the auto-close settings").set_defaults(func=cmd_autoclose_show)
    p = s.add_parser("set", help="change the auto-close settings (admins only)")
    p.add_argument("--statuses", metavar="NAMES", help="comma-separated waiting statuses; empty turns it off")
    p.add_argument("--chaser-days", metavar="N", help="quiet days before the chaser email")
    p.add_argument("--close-days", metavar="M", help="days after the chaser before closing")
    p.set_defaults(func=cmd_autoclose_set)
