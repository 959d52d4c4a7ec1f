"""Custom fields and mail: a ticket filter sets them on arrival; the closing notice carries the resolution notes."""

from __future__ import annotations

import pytest
from mailflow_support import MailDesk, message

from tui_helpdesk.services import custom_fields, mail_admin, tickets
from tui_helpdesk.services.errors import ValidationError


def test_a_ticket_filter_sets_custom_fields_and_a_required_one_does_not_stop_mail(desk: MailDesk) -> None:
    with desk.tx() as tx:
        custom_fields.create_field(tx, name="po", label="PO number", type="number", required_at_create=True)
        custom_fields.create_field(tx, name="channel", type="choice", choices="Web, Partner")
        with pytest.raises(ValidationError, match="line 1: cf.po: 'x' is not a number"):
            mail_admin.save_filter(tx, name="bad", conditions="subject contains order", actions="cf.po=x")
        mail_admin.save_filter(tx, name="orders", conditions="subject contains order",
                               actions=["cf.po=4711", "cf.channel=partner"])
        assert mail_admin.list_filters(tx)[0].actions == ("cf.po=4711", "cf.channel=Partner")
    r = desk.ingest(message(subject="Order 4711 is late"))
    assert (r.state, r.outcome) == ("done", "new_ticket")
    assert desk.ticket(r.ticket_id).custom_fields == {"po": 4711, "channel": "Partner"}
    other = desk.ingest(message(subject="Printer on fire", sender="dan@customer.test"))
    assert other.outcome == "new_ticket" and desk.ticket(other.ticket_id).custom_fields == {}


def test_the_closing_notice_carries_the_resolution_notes_and_custom_values(desk: MailDesk) -> None:
    with desk.tx() as tx:
        custom_fields.create_field(tx, name="po", type="number")
        mail_admin.save_template(tx, "notice.created", "Got it", "PO %{ticket.custom.po} for %{ticket.number}")
    r = desk.ingest(message(subject="Printer on fire"))
    number = desk.ticket(r.ticket_id).number
    with desk.tx() as tx:
        tickets.update_fields(tx, r.ticket_id, {"custom": {"po": "815"}}, reason="from the phone call")
        tickets.resolve(tx, r.ticket_id, notes="Replaced the fuser unit.")
        tickets.set_status(tx, r.ticket_id, "Closed")
    [notice] = desk.outbox("notice.closed")
    assert "How we resolved it:\nReplaced the fuser unit." in notice.body
    with desk.tx() as tx:
        tickets.create(tx, subject="Phone call", body="Toner", contact_email="carol@customer.test",
                       department="Support", custom_fields={"po": 9})
    created = desk.outbox("notice.created")
    assert [m.body.strip() for m in created][-1].startswith("PO 9 for ") and number not in created[-1].body
