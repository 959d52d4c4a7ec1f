"""SLA due times. A plan's grace period counts calendar hours, or business hours when it has a schedule."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from tui_helpdesk import batch_cache
from tui_helpdesk.models import SLAPlan


def default_plan_id(session: Session) -> int | None:
    return batch_cache.cached(session, "default_sla_plan", lambda: session.execute(
        select(SLAPlan.id).where(SLAPlan.is_default.is_(True), SLAPlan.active.is_(True))
    ).scalars().first())  # fmt: skip


def due_at(session: Session, plan_id: int | None, start: datetime) -> datetime | None:
    if plan_id is None:
        return None
    plan = session.get(SLAPlan, plan_id)
    if plan is None or not plan.active:
        return None
    if plan.schedule_id is not None:
        from tui_helpdesk.services import schedules

        return schedules.add_business_hours(session, plan.schedule_id, start, plan.grace_hours)
    return start + timedelta(hours=plan.grace_hours)
