"""tasks.form_errors: the task form's rules, field by field, as create_task applies them."""

from __future__ import annotations

from datetime import timedelta

from tui_helpdesk import clock
from tui_helpdesk.services import tasks, tickets
from tui_helpdesk.services.context import reading


def test_form_errors_name_each_field_and_accept_a_good_form(desk) -> None:
    with desk.tx() as tx:
        ref = tickets.create(tx, subject="VPN", body="down", contact_email="bob@acme.example",
                             department="Support").number
    with reading(desk.engine, desk.agent) as tx:
        errors = tasks.form_errors(tx, ref, " ", "tomorrow-ish", "nobody")
        assert set(errors) == {"title", "due_at", "assignee"}
        assert errors["title"] == "is required" and "+4h" in errors["due_at"] and "'nobody'" in errors["assignee"]
        assert tasks.form_errors(tx, ref, "Call Bob", "+2h", "sam") == {}
        assert tasks.parse_due("+2h", clock.now()) == clock.now() + timedelta(hours=2)
        assert tasks.form_errors(tx, ref, "Call Bob", "", "") == {}
