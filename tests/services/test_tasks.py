"""Task writes carry the ticket's version like every other write (issue 9: no lost update)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tui_helpdesk.models import Task
from tui_helpdesk.services import tasks, tickets
from tui_helpdesk.services.context import reading
from tui_helpdesk.services.errors import StaleVersion


def _ticket(desk):
    with desk.tx() as tx:
        return tickets.create(tx, subject="Disk", body="Failing", contact_email="bob@acme.example",
                              department="Support")


def _task_count(desk) -> int:
    with reading(desk.engine) as tx:
        return tx.session.execute(select(func.count()).select_from(Task)).scalar_one()


def test_a_task_added_on_a_stale_copy_is_refused_naming_who_changed_the_ticket(desk):
    t = _ticket(desk)
    with desk.tx(desk.supervisor) as tx:
        tickets.set_tags(tx, t.number, ["disk"], expected_version=t.version)
    with pytest.raises(StaleVersion, match=r"changed by sue"):
        with desk.tx(desk.agent) as tx:
            tasks.create_task(tx, t.number, "Replace disk", expected_version=t.version)
    assert _task_count(desk) == 0
    with desk.tx(desk.agent) as tx:
        task = tasks.create_task(tx, t.number, "Replace disk", expected_version=t.version + 1)
    assert task.title == "Replace disk" and _task_count(desk) == 1


def test_closing_a_task_on_a_stale_copy_is_refused_and_the_task_stays_open(desk):
    t = _ticket(desk)
    with desk.tx() as tx:
        task_id = tasks.create_task(tx, t.number, "Replace disk", expected_version=t.version).id
    with reading(desk.engine) as tx:
        seen = tickets.view(tx, t.number).version
    with desk.tx(desk.supervisor) as tx:
        tickets.set_tags(tx, t.number, ["disk"])
    with pytest.raises(StaleVersion):
        with desk.tx(desk.agent) as tx:
            tasks.close_task(tx, task_id, summary="done", expected_version=seen)
    with reading(desk.engine) as tx:
        assert tickets.view(tx, t.number).tasks[0].closed_at is None
    with desk.tx(desk.agent) as tx:
        tasks.close_task(tx, task_id, summary="done", expected_version=seen + 1)
    with reading(desk.engine) as tx:
        assert tickets.view(tx, t.number).tasks[0].closed_at is not None
