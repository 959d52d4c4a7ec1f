"""Mail templates: overrides per department, unknown variables refused, reset to the built-in text."""

from __future__ import annotations

import pytest

from tui_helpdesk.mail import templates
from tui_helpdesk.services import mail_admin
from tui_helpdesk.services.errors import NotFound, PermissionDenied, ValidationError


def test_template_overrides_apply_by_department_and_reset(desk):
    with desk.tx() as tx:
        row = mail_admin.save_template(tx, "notice.closed", "Done: %{ticket.subject}",
                                       "Hi %{recipient.name}, %{ticket.number} is closed.", "Billing")
    assert row.department == "Billing" and row.overridden
    with desk.tx() as tx:
        billing = templates.source(tx.session, "notice.closed", 2)
        support = templates.source(tx.session, "notice.closed", 1)
    assert billing[0] == "Done: %{ticket.subject}"
    assert support == templates.DEFAULTS["notice.closed"]
    with desk.tx() as tx:
        mail_admin.reset_template(tx, row.key)
    with desk.tx() as tx:
        assert templates.source(tx.session, "notice.closed", 2) == templates.DEFAULTS["notice.closed"]
    with pytest.raises(NotFound):
        with desk.tx() as tx:
            mail_admin.reset_template(tx, row.key)


def test_template_validation(desk):
    with pytest.raises(ValidationError) as err:
        with desk.tx() as tx:
            mail_admin.save_template(tx, "notice.closed", "x", "Hi %{recipient.nmae}")
    assert err.value.field == "body" and "recipient.nmae" in err.value.message
    with pytest.raises(ValidationError) as err:
        with desk.tx() as tx:
            mail_admin.save_template(tx, "no.such", "x", "y")
    assert err.value.field == "code"
    with pytest.raises(PermissionDenied):
        with desk.tx(desk.agent) as tx:
            mail_admin.save_template(tx, "notice.closed", "x", "y")


def test_a_saved_filter_routes_arriving_mail(desk, tmp_path):
    from tui_helpdesk.mail import ingest
    from tui_helpdesk.services import tickets
    from tui_helpdesk.services.context import reading

    with desk.tx() as tx:
        row = mail_admin.save_filter(tx, name="Invoices", conditions="subject contains invoice",
                                     actions=["department=Billing", "priority=High", "tag=billing"])
    assert row.actions == ("department=Billing", "priority=High", "tag=billing")
    raw = (b"From: Bob <bob@acme.example>\r\nTo: support@example.com\r\nSubject: Invoice 42 is wrong\r\n"
           b"Message-ID: <inv42@acme.example>\r\n\r\nPlease check.\r\n")
    result = ingest.ingest_raw(desk.engine, raw, attachments_dir=tmp_path)
    with reading(desk.engine) as tx:
        d = tickets.view(tx, result.ticket_id)
    assert (d.department, d.priority, d.tags) == ("Billing", "High", ("billing",))


@pytest.mark.parametrize(
    ("conditions", "actions", "field"),
    [
        ("subject has invoice", "tag=x", "conditions"),
        ("subject regex ([", "tag=x", "conditions"),
        ("subjectline contains x", "tag=x", "conditions"),
        ("subject contains x", "department=Nowhere", "actions"),
        ("subject contains x", "explode", "actions"),
        ("", "tag=x", "conditions"),
    ],
)
def test_filter_validation_names_the_part(desk, conditions, actions, field):
    with pytest.raises(ValidationError) as err:
        with desk.tx() as tx:
            mail_admin.save_filter(tx, name="F", conditions=conditions, actions=actions)
    assert err.value.field == field
