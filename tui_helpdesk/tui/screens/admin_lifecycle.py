"""Admin sections for the lifecycle: SLA plans, schedules with their holidays, scheduled tickets, auto-close.

They plug into the admin screen's registry (admin.register_section) when this module is imported, and
look and behave like every other section: n new, e edit (a form with errors beside the field), d delete
(asks first; a refusal shows its reason). The services validate, exactly as for `helpdesk sla|schedule|...`.
Section methods run in the admin screen's thread workers, each with its own transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tui_helpdesk.services import admin
from tui_helpdesk.services import lifecycle_admin as la
from tui_helpdesk.services.context import Tx
from tui_helpdesk.services.errors import NotFound, ValidationError
from tui_helpdesk.services.lifecycle import WAITING_STATES
from tui_helpdesk.services.lifecycle_admin import (
    FREQUENCIES,
    SCHEDULED_FIELDS,
    AutoClose,
    fields_renamed,
    format_hours_text,
    read_autoclose,
    save_autoclose,
    scheduled_details,
)
from tui_helpdesk.untrusted import clean_line

from .admin import Column, Section, register_section
from .admin_forms import FormField, Options


def _yes(value: bool) -> str:
    return "yes" if value else ""


def _whole(value: Any, field: str) -> int:
    """Form text to an int, refused under the field's own name (the services call int() on it)."""
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValidationError(field, f"must be a whole number, not {str(value).strip()!r}") from None


def _required(values: dict[str, Any], field: str) -> None:
    if values.get(field) in (None, ""):
        raise ValidationError(field, "is required")


# --- SLA plans ---------------------------------------------------------------------------------------------


class SLAPlanSection(Section):
    title = "SLA plans"
    noun = "SLA plan"
    columns = (
        Column("Name", lambda r: clean_line(r.name)),
        Column("Grace", lambda r: f"{r.grace_hours}h"),
        Column(
            "Hours counted", lambda r: "every hour (24/7)" if r.schedule == "24/7" else clean_line(r.schedule)
        ),
        Column("Default", lambda r: _yes(r.is_default)),
        Column("Active", lambda r: _yes(r.active)),
    )
    fields = (
        FormField("name", "Name", required=True),
        FormField(
            "grace_hours",
            "Grace period (hours)",
            "int",
            required=True,
            help="a ticket is due this many hours after it opens",
        ),
        FormField(
            "schedule",
            "Schedule",
            "select",
            options_key="schedules",
            blank="24/7 (every hour counts)",
            help="with a schedule only its business hours count",
        ),
        FormField(
            "is_default",
            "Default plan",
            "bool",
            help="for tickets that get no plan from their help topic or department",
        ),
        FormField("active", "Active", "bool"),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return la.list_plans(tx)

    def initial(self, row: Any | None) -> dict[str, Any]:
        if row is None:
            return {"grace_hours": 24, "active": True}
        return {
            "name": row.name,
            "grace_hours": row.grace_hours,
            "schedule": None if row.schedule == "24/7" else row.schedule,
            "is_default": row.is_default,
            "active": row.active,
        }

    def options(self, tx: Tx) -> dict[str, Options]:
        return {"schedules": [(s.name, s.name) for s in la.list_schedules(tx)]}

    def _save(self, tx: Tx, plan_id: int | None, values: dict[str, Any]) -> Any:
        return la.save_plan(
            tx,
            plan_id=plan_id,
            name=values.get("name", ""),
            grace_hours=_whole(values.get("grace_hours", ""), "grace_hours"),
            schedule=values.get("schedule") or None,
            active=bool(values.get("active")),
            is_default=bool(values.get("is_default")),
        )

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        return self._save(tx, None, values)

    def update(self, tx: Tx, key: Any, values: dict[str, Any]) -> Any:
        return self._save(tx, key, values)

    def delete(self, tx: Tx, key: Any) -> None:
        la.delete_plan(tx, key)

    def archive(self, tx: Tx, key: Any) -> Any:
        row = next((r for r in la.list_plans(tx) if r.id == key), None)
        if row is None:
            raise NotFound(f"no SLA plan {key}")
        values = self.initial(row) | {"active": False}
        return self._save(tx, key, values)


# --- schedules and their holidays ------------------------------------------------------------------------------


def format_holidays(holidays: Sequence[tuple[str, str]]) -> str:
    return "\n".join(f"{day} {name}".rstrip() for day, name in holidays)


def parse_holidays(text: str) -> dict[date, str]:
    """One holiday a line, `2026-12-25 Christmas Day`; the name is optional."""
    result: dict[date, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        day_text, _, name = line.partition(" ")
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            raise ValidationError(
                "holidays", f"line {number}: {day_text!r} is not a date (YYYY-MM-DD)"
            ) from None
        if day in result:
            raise ValidationError("holidays", f"line {number}: {day} is listed twice")
        result[day] = name.strip()
    return result


def _holiday_summary(holidays: Sequence[tuple[str, str]]) -> str:
    return str(len(holidays)) if holidays else ""


class ScheduleSection(Section):
    title = "Schedules"
    noun = "schedule"
    can_archive = False
    columns = (
        Column("Name", lambda r: clean_line(r.name)),
        Column("Time zone", lambda r: r.timezone),
        Column("Holidays", lambda r: _holiday_summary(r.holidays)),
        Column("Hours", lambda r: format_hours_text(r.hours)),
    )
    fields = (
        FormField("name", "Name", required=True),
        FormField("timezone", "Time zone", required=True, help="IANA name, e.g. Europe/Berlin"),
        FormField("hours", "Working hours", required=True, help="e.g. mon-fri 09:00-17:00; sat 10:00-14:00"),
        FormField("holidays", "Holidays", "textarea", help="one a line: 2026-12-25 Christmas Day"),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return la.list_schedules(tx)

    def initial(self, row: Any | None) -> dict[str, Any]:
        if row is None:
            return {"timezone": "UTC", "hours": "mon-fri 09:00-17:00"}
        return {
            "name": row.name,
            "timezone": row.timezone,
            "hours": format_hours_text(row.hours),
            "holidays": format_holidays(row.holidays),
        }

    def _save(self, tx: Tx, schedule_id: int | None, values: dict[str, Any]) -> Any:
        hours = la.parse_hours_text(str(values.get("hours", "")))
        wanted = parse_holidays(str(values.get("holidays", "")))
        row = la.save_schedule(
            tx,
            schedule_id=schedule_id,
            name=values.get("name", ""),
            timezone=str(values.get("timezone", "")).strip(),
            hours=hours,
        )
        have = {date.fromisoformat(day): name for day, name in row.holidays}
        with fields_renamed(day="holidays"):
            for day, name in have.items():
                if wanted.get(day) != name:  # gone, or renamed: a rename is a remove and an add
                    la.remove_holiday(tx, row.id, day)
            for day, name in wanted.items():
                if have.get(day) != name:
                    la.add_holiday(tx, row.id, day, name)
        return next(r for r in la.list_schedules(tx) if r.id == row.id)

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        return self._save(tx, None, values)

    def update(self, tx: Tx, key: Any, values: dict[str, Any]) -> Any:
        return self._save(tx, key, values)

    def delete(self, tx: Tx, key: Any) -> None:
        la.delete_schedule(tx, key)


# --- scheduled tickets ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduledItem:
    """A scheduled ticket as listed, plus what the edit form needs to keep (body, the ids)."""

    id: int
    subject: str
    frequency: str
    next_run_at: datetime
    department: str
    contact: str
    priority: str
    assignee: str
    active: bool
    last_run_at: datetime | None
    body: str
    department_id: int
    priority_id: int | None
    assignee_id: int | None
    organization_id: int | None


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


class ScheduledSection(Section):
    title = "Scheduled tickets"
    noun = "scheduled ticket"
    columns = (
        Column("Subject", lambda r: clean_line(r.subject)),
        Column("Every", lambda r: r.frequency),
        Column("Next run (UTC)", lambda r: _when(r.next_run_at)),
        Column("Department", lambda r: clean_line(r.department)),
        Column("Contact", lambda r: clean_line(r.contact)),
        Column("Active", lambda r: _yes(r.active)),
    )
    fields = (
        FormField("subject", "Subject", required=True),
        FormField("body", "Body", "textarea"),
        FormField("frequency", "Every", "select", required=True, options_key="frequencies", blank=""),
        FormField("next_run_at", "Next run (UTC)", required=True, help="e.g. 2026-04-01 08:00"),
        FormField("department", "Department", "select", required=True, options_key="departments", blank=""),
        FormField("contact", "Requester email", required=True),
        FormField("priority", "Priority", "select", options_key="priorities", blank="(department default)"),
        FormField("assignee", "Assignee", "select", options_key="agents", blank="(unassigned)"),
        FormField(
            "organization", "Organization", "select", options_key="organizations", blank="(the requester's)"
        ),
        FormField("active", "Active", "bool"),
    )

    def key(self, row: Any) -> Any:
        return row.id

    def label(self, row: Any) -> str:
        return row.subject

    def rows(self, tx: Tx, search: str) -> list[Any]:
        items = []
        for r in la.list_scheduled(tx):
            d = scheduled_details(tx, r.id)
            items.append(
                ScheduledItem(
                    r.id,
                    r.subject,
                    r.frequency,
                    r.next_run_at,
                    r.department,
                    r.contact,
                    r.priority,
                    r.assignee,
                    r.active,
                    r.last_run_at,
                    d.body,
                    d.department_id,
                    d.priority_id,
                    d.assignee_id,
                    d.organization_id,
                )
            )
        return items

    def initial(self, row: Any | None) -> dict[str, Any]:
        if row is None:
            return {"frequency": "weekly", "active": True}
        return {
            "subject": row.subject,
            "body": row.body,
            "frequency": row.frequency,
            "next_run_at": _when(row.next_run_at),
            "department": row.department_id,
            "contact": row.contact,
            "priority": row.priority_id,
            "assignee": row.assignee_id,
            "organization": row.organization_id,
            "active": row.active,
        }

    def options(self, tx: Tx) -> dict[str, Options]:
        return {
            "frequencies": [(f, f) for f in FREQUENCIES],
            "departments": [(d.path, d.id) for d in admin.list_departments(tx) if d.state == "active"],
            "priorities": [(p.name, p.id) for p in admin.list_priorities(tx)],
            "agents": [(f"{a.username} ({a.name})", a.id) for a in admin.list_agents(tx) if a.active],
            "organizations": [(o.name, o.id) for o in admin.list_organizations(tx)],
        }

    def _save(self, tx: Tx, job_id: int | None, values: dict[str, Any]) -> Any:
        for field in ("frequency", "next_run_at", "department", "contact"):
            _required(values, field)
        with fields_renamed(**SCHEDULED_FIELDS):
            return la.save_scheduled(
                tx,
                job_id=job_id,
                subject=values.get("subject", ""),
                body=values.get("body", "") or "",
                frequency=values["frequency"],
                next_run_at=str(values["next_run_at"]),
                department=values["department"],
                contact=str(values["contact"]),
                priority=values.get("priority") or None,
                assignee=values.get("assignee") or None,
                organization=values.get("organization") or None,
                active=bool(values.get("active")),
            )

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        return self._save(tx, None, values)

    def update(self, tx: Tx, key: Any, values: dict[str, Any]) -> Any:
        return self._save(tx, key, values)

    def delete(self, tx: Tx, key: Any) -> None:
        la.delete_scheduled(tx, key)

    def archive(self, tx: Tx, key: Any) -> Any:
        row = next((r for r in self.rows(tx, "") if r.id == key), None)
        if row is None:
            raise NotFound(f"no scheduled ticket {key}")
        return self._save(tx, key, self.initial(row) | {"active": False})


# --- auto-close --------------------------------------------------------------------------------------------------


class AutoCloseSection(Section):
    title = "Auto-close"
    noun = "settings"
    can_create = False
    can_delete = False
    can_archive = False
    columns = (
        Column("Waiting statuses", lambda r: ", ".join(clean_line(s) for s in r.statuses) or "(off)"),
        Column("Chaser after", lambda r: f"{r.chaser_days} quiet days"),
        Column("Close after", lambda r: f"{r.close_days} more days"),
    )
    fields = (
        FormField(
            "statuses",
            "Waiting statuses",
            "multi",
            options_key="statuses",
            help="space toggles; none turns auto-close off",
        ),
        FormField(
            "chaser_days",
            "Chaser after (days)",
            "int",
            required=True,
            help="quiet days before the reminder email",
        ),
        FormField(
            "close_days",
            "Close after (days)",
            "int",
            required=True,
            help="then this many days until it closes",
        ),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return [read_autoclose(tx)]

    def key(self, row: Any) -> Any:
        return "autoclose"

    def label(self, row: Any) -> str:
        return "Auto-close"

    def is_archived(self, row: Any) -> bool:
        return False

    def initial(self, row: Any | None) -> dict[str, Any]:
        if row is None:
            return {}
        return {"statuses": list(row.statuses), "chaser_days": row.chaser_days, "close_days": row.close_days}

    def options(self, tx: Tx) -> dict[str, Options]:
        chosen = set(read_autoclose(tx).statuses)
        return {
            "statuses": [
                (f"{s.name} ({s.state})", s.name)
                for s in admin.list_statuses(tx)
                if s.state in WAITING_STATES and (not s.archived or s.name in chosen)
            ]
        }

    def update(self, tx: Tx, key: Any, values: dict[str, Any]) -> AutoClose:
        return save_autoclose(
            tx,
            statuses=list(values.get("statuses") or []),
            chaser_days=values.get("chaser_days", ""),
            close_days=values.get("close_days", ""),
        )


def register() -> None:
    """Add the lifecycle sections to the admin screen (idempotent); importing this module does it."""
    # together, after the ticket catalogue
    register_section("SLA plans", SLAPlanSection, after="Categories")
    register_section("Schedules", ScheduleSection, after="SLA plans")
    register_section("Scheduled tickets", ScheduledSection, after="Schedules")
    register_section("Auto-close", AutoCloseSection, after="Scheduled tickets")


register()
