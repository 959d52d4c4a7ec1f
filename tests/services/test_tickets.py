"""Ticket use cases against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tui_helpdesk import clock
from tui_helpdesk.models import AuditLog, EntryRevision, TicketEvent
from tui_helpdesk.services import settings, tickets
from tui_helpdesk.services.context import read_counter, reading
from tui_helpdesk.services.errors import Conflict, NotFound, PermissionDenied, ValidationError


def new_ticket(desk, actor=None, **kw):
    args = dict(subject="VPN is down", body="Cannot connect since 8am", contact_email="Bob@Acme.example",
                department="Support", priority="High")
    args.update(kw)
    with desk.tx(actor) as tx:
        return tickets.create(tx, **args)


def show(desk, ref, actor=None, **kw):
    with reading(desk.engine, actor or desk.admin) as tx:
        return tickets.view(tx, ref, **kw)


def test_create_numbers_tickets_from_the_prefix_and_records_everything(desk):
    with desk.tx() as tx:
        settings.put(tx.session, "number_prefix", "HD")
    first = new_ticket(desk, tags=["VPN", "network"], custom_fields={"asset": "LT-7"}, cc=["amy@acme.example"])
    second = new_ticket(desk, subject="Printer jam")
    assert first.number == "HD-1000" and second.number == "HD-1001"
    assert first.state == "new" and first.status == "New" and first.priority == "High"
    assert first.requester_email == "bob@acme.example"
    assert first.tags == ("network", "vpn")
    assert first.collaborators == ("amy@acme.example",)
    assert first.custom_fields == {"asset": "LT-7"}
    assert [i.kind for i in first.thread if i.kind != "event"] == ["message"]
    with reading(desk.engine) as tx:
        actions = tx.session.execute(select(AuditLog.action).where(AuditLog.object_id == first.id)).scalars().all()
    assert "ticket.created" in actions


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"subject": "  "}, "subject"),
        ({"priority": "Sky-high"}, "priority"),
        ({"department": "Old"}, "department"),
        ({"department": "Nowhere"}, "department"),
        ({"contact_email": "not-an-address"}, "email"),
        ({"body": ""}, "body"),
    ],
)
def test_create_refuses_bad_input_naming_the_field(desk, override, field):
    with pytest.raises(ValidationError) as err:
        new_ticket(desk, **override)
    assert err.value.field == field


def test_reply_moves_a_new_ticket_to_open_and_records_first_response(desk):
    t = new_ticket(desk)
    clock.advance(minutes=30)
    with desk.tx(desk.agent) as tx:
        tickets.reply(tx, t.number, "We are on it", expected_version=t.version, time_spent=12)
    d = show(desk, t.number)
    assert d.state == "open"
    assert d.first_response_at == clock.now()
    assert d.time_logged == 12
    reply = [i for i in d.thread if i.kind == "reply"][0]
    assert reply.body == "We are on it" and reply.author == "Sam Agent"


def test_stale_version_is_refused_and_nothing_changes(desk):
    t = new_ticket(desk)
    with desk.tx() as tx:
        tickets.note(tx, t.number, "first look")
    with pytest.raises(Conflict):
        with desk.tx() as tx:
            tickets.reply(tx, t.number, "based on an old copy", expected_version=t.version)
    assert [i.kind for i in show(desk, t.number).thread if i.kind != "event"] == ["message", "note"]


def test_every_write_bumps_the_change_counter(desk):
    with reading(desk.engine) as tx:
        before = read_counter(tx.session, "changes")
    t = new_ticket(desk)
    with desk.tx() as tx:
        tickets.note(tx, t.id, "x")
    with reading(desk.engine) as tx:
        assert read_counter(tx.session, "changes") == before + 2


def test_unknown_ticket_is_not_found(desk):
    with pytest.raises(NotFound):
        show(desk, "TCK-99999")


def test_refs_accept_id_number_and_digits(desk):
    t = new_ticket(desk)
    assert show(desk, t.id).number == show(desk, "1000").number == show(desk, "tck-1000").number == t.number


def test_department_access_is_enforced_in_the_service(desk):
    t = new_ticket(desk)
    refusal = f"olly has no access to the department of {t.number}"
    with pytest.raises(PermissionDenied, match=refusal):
        show(desk, t.number, actor=desk.outsider)
    with pytest.raises(PermissionDenied, match=refusal):
        with desk.tx(desk.outsider) as tx:
            tickets.reply(tx, t.number, "hi")
    assert [i.kind for i in show(desk, t.number).thread if i.kind != "event"] == ["message"]
    desk.grant("olly", "Support", "Agent")
    d = show(desk, t.number, actor=desk.outsider)
    assert (d.id, d.number, d.subject, d.department, d.requester_email) == (
        t.id, t.number, "VPN is down", "Support", "bob@acme.example"
    )
    with desk.tx(desk.outsider) as tx:
        tickets.reply(tx, t.number, "hi", expected_version=d.version)
    replies = [i for i in show(desk, t.number).thread if i.kind == "reply"]
    assert [(r.body, r.author) for r in replies] == [("hi", "Olly Outsider")]


def test_assignment_overrides_scope_for_the_assignee(desk):
    t = new_ticket(desk)
    with desk.tx() as tx:
        tickets.assign(tx, t.number, "olly")
    d = show(desk, t.number, actor=desk.outsider)
    assert d.assignee_username == "olly"


def test_assign_to_me_release_and_reassign(desk):
    t = new_ticket(desk)
    with desk.tx(desk.agent) as tx:
        d = tickets.assign_to_me(tx, t.number)
    assert d.assignee_username == "sam"
    with pytest.raises(ValidationError):
        with desk.tx(desk.agent) as tx:
            tickets.release(tx, t.number, reason=" ")
    with desk.tx(desk.agent) as tx:
        d = tickets.release(tx, t.number, reason="going on holiday")
    assert d.assignee_id is None
    released = [i for i in d.thread if i.event_kind == "released"]
    assert released and released[0].data["reason"] == "going on holiday"
    # releasing somebody else's ticket needs the release permission, which the Agent role lacks
    with desk.tx() as tx:
        tickets.assign(tx, t.number, "sue")
    with pytest.raises(PermissionDenied):
        with desk.tx(desk.agent) as tx:
            tickets.release(tx, t.number, reason="mine now")
    with desk.tx(desk.supervisor) as tx:
        assert tickets.release(tx, t.number, reason="rebalancing").assignee_id is None


def test_transfer_to_an_active_department_only(desk):
    t = new_ticket(desk)
    with pytest.raises(ValidationError):
        with desk.tx() as tx:
            tickets.transfer(tx, t.number, "Old")
    with desk.tx() as tx:
        d = tickets.transfer(tx, t.number, "Billing", reason="invoice question")
    assert d.department == "Billing"
    # the Support agent can no longer see it
    with pytest.raises(PermissionDenied):
        show(desk, t.number, actor=desk.agent)


def test_resolve_with_notes_then_close_and_reopen_rules(desk):
    t = new_ticket(desk)
    with desk.tx(desk.agent) as tx:
        d = tickets.set_status(tx, t.number, "Resolved", notes="Restarted the VPN concentrator")
    assert d.state == "resolved" and d.resolution_notes == "Restarted the VPN concentrator"
    assert d.resolved_at == clock.now()
    with desk.tx(desk.agent) as tx:
        d = tickets.reopen(tx, t.number, reason="still broken")
    assert d.state == "open" and d.reopened and d.reopen_count == 1
    assert d.resolution_notes == "Restarted the VPN concentrator"  # kept across a reopen
    with desk.tx() as tx:
        tickets.set_status(tx, t.number, "Closed")
    with desk.tx(desk.agent) as tx:
        assert tickets.set_status(tx, t.number, "Open").state == "open"  # staff may reopen closed (default)
    with desk.tx() as tx:
        settings.put(tx.session, "closed_reopen_policy", "never")
        tickets.set_status(tx, t.number, "Closed")
    with pytest.raises(Conflict):
        with desk.tx() as tx:
            tickets.reopen(tx, t.number)
    with pytest.raises(Conflict):
        with desk.tx() as tx:
            tickets.reply(tx, t.number, "hello?")


def test_notes_only_with_resolved(desk):
    t = new_ticket(desk)
    with pytest.raises(ValidationError):
        with desk.tx() as tx:
            tickets.set_status(tx, t.number, "Pending", notes="nope")


def test_reply_and_resolve_in_one_step(desk):
    t = new_ticket(desk)
    with desk.tx(desk.agent) as tx:
        tickets.reply(tx, t.number, "Fixed it", status="Resolved", resolution_notes="Replaced cable")
    d = show(desk, t.number)
    assert d.state == "resolved" and d.resolution_notes == "Replaced cable"


def test_customer_reply_inside_window_reopens_and_after_it_is_late(desk):
    t = new_ticket(desk)
    with desk.tx() as tx:
        tickets.resolve(tx, t.number, notes="done")
    clock.advance(days=6, hours=23)
    with desk.tx() as tx:
        ticket = tickets.load(tx, t.number)
        from tui_helpdesk.services import lookup

        contact = lookup.contact(tx.session, "bob@acme.example")
        entry, outcome = tickets.add_customer_message(tx, ticket, contact, "still broken")
    assert outcome == "reopened" and entry is not None
    d = show(desk, t.number)
    assert d.state == "new" and d.reopened
    with desk.tx() as tx:
        tickets.resolve(tx, t.number)
    clock.advance(days=7, seconds=1)
    with desk.tx() as tx:
        ticket = tickets.load(tx, t.number)
        contact = lookup.contact(tx.session, "bob@acme.example")
        entry, outcome = tickets.add_customer_message(tx, ticket, contact, "again")
    assert outcome == "late" and entry is None
    assert show(desk, t.number).state == "resolved"


def test_edit_and_delete_own_entry_within_window_only(desk):
    t = new_ticket(desk)
    with desk.tx(desk.agent) as tx:
        entry_id = tickets.note(tx, t.number, "tpyo").id
    clock.advance(minutes=10)
    with desk.tx(desk.agent) as tx:
        tickets.edit_entry(tx, entry_id, "typo")
    clock.advance(minutes=6)
    with pytest.raises(PermissionDenied, match="15 minutes"):
        with desk.tx(desk.agent) as tx:
            tickets.delete_entry(tx, entry_id)
    with desk.tx(desk.supervisor) as tx:  # staff with the delete permission, any time
        tickets.delete_entry(tx, entry_id)
    d = show(desk, t.number)
    note = [i for i in d.thread if i.kind == "note"][0]
    assert note.deleted and note.body == ""
    with reading(desk.engine) as tx:
        revisions = tx.session.execute(
            select(EntryRevision.body, EntryRevision.reason).where(EntryRevision.entry_id == entry_id)
            .order_by(EntryRevision.id)
        ).all()
    assert [tuple(r) for r in revisions] == [("tpyo", "edit"), ("typo", "delete")]


def test_update_fields_needs_a_reason_and_records_old_and_new(desk):
    t = new_ticket(desk)
    with pytest.raises(ValidationError) as err:
        with desk.tx() as tx:
            tickets.update_fields(tx, t.number, {"subject": "VPN down for everyone"}, reason="")
    assert err.value.field == "reason"
    with desk.tx() as tx:
        d = tickets.update_fields(tx, t.number, {"subject": "VPN down for everyone", "priority": "Urgent",
                                                  "custom": {"asset": "FW-1"}}, reason="wider impact")
    assert d.subject == "VPN down for everyone" and d.priority == "Urgent" and d.custom_fields == {"asset": "FW-1"}
    with reading(desk.engine) as tx:
        events = tx.session.execute(
            select(TicketEvent.data).where(TicketEvent.ticket_id == t.id, TicketEvent.kind == "field_edited")
        ).scalars().all()
    assert {e["field"] for e in events} == {"subject", "priority", "custom"}
    assert all(e["reason"] == "wider impact" for e in events)
    assert [e for e in events if e["field"] == "subject"][0]["old"] == "VPN is down"


def test_tags_are_a_full_set_replace(desk):
    t = new_ticket(desk, tags=["a", "b"])
    with desk.tx() as tx:
        assert tickets.set_tags(tx, t.number, ["b", "C"]).tags == ("b", "c")
    with desk.tx() as tx:
        assert tickets.set_tags(tx, t.number, []).tags == ()


def test_archive_and_restore_need_the_permission(desk):
    t = new_ticket(desk)
    with pytest.raises(PermissionDenied):
        with desk.tx(desk.agent) as tx:
            tickets.archive(tx, t.number)
    with desk.tx(desk.supervisor) as tx:
        assert tickets.archive(tx, t.number).archived
    with pytest.raises(Conflict):
        with desk.tx() as tx:
            tickets.archive(tx, t.number)
    with desk.tx() as tx:
        assert not tickets.restore(tx, t.number).archived


def test_time_entries_add_up(desk):
    t = new_ticket(desk)
    with desk.tx(desk.agent) as tx:
        tickets.log_time(tx, t.number, 25, billable=False, note="remote session")
        tickets.log_time(tx, t.number, 5)
    assert show(desk, t.number).time_logged == 30
    with pytest.raises(ValidationError):
        with desk.tx(desk.agent) as tx:
            tickets.log_time(tx, t.number, 0)


def test_thread_order_desc_and_hidden_events(desk):
    t = new_ticket(desk)
    clock.advance(minutes=1)
    with desk.tx() as tx:
        tickets.reply(tx, t.number, "second")
    d = show(desk, t.number, order="DESC", events=False)
    assert [i.kind for i in d.thread] == ["reply", "message"]


def test_due_time_follows_the_sla_plan(desk):
    from tui_helpdesk.models import SLAPlan

    with desk.tx() as tx:
        tx.session.add(SLAPlan(name="Standard", grace_hours=8, is_default=True))
    t = new_ticket(desk)
    assert t.due_at == clock.now() + timedelta(hours=8)
