"""The rules of one ticket, each checked through the service: validation, versions, merges, the reopened
flag, body size, and who may change a thread entry."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from tui_helpdesk import clock
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import AuditLog, Ticket, TicketEntry
from tui_helpdesk.services import attachments, lifecycle, links, settings, tickets
from tui_helpdesk.services.context import reading
from tui_helpdesk.services.errors import Conflict, PermissionDenied, StaleVersion, ValidationError


def make(desk, subject="VPN is down", actor=None, **kw):
    args = dict(subject=subject, body=f"{subject}: help", contact_email="bob@acme.example", department="Support")
    args.update(kw)
    with desk.tx(actor) as tx:
        return tickets.create(tx, **args)


def show(desk, ref, actor=None):
    with reading(desk.engine, actor or desk.admin) as tx:
        return tickets.view(tx, ref)


# --- defect 3: every value is validated and refused naming its field ---------------------------------
#
# SQLite only (by parametrization): each refusal is the service's validation, raised before any write, so
# no engine can change it. A missing check shows on SQLite too (it stores what PostgreSQL might refuse, and
# the test sees no refusal). The name lookups these cases run are checked on both engines in
# test_lookup.py, and writes with good values on both throughout this file.

@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"due_at": "garbage"}, "due_at"),
        ({"due_at": "2026-13-45"}, "due_at"),
        ({"priority": "Sky-high"}, "priority"),
        ({"topic": "Nowhere / Else"}, "topic"),
        ({"organization": "No Such Org"}, "organization"),
        ({"sla_plan": "Platinum"}, "sla_plan"),
        ({"contact": "not-an-address"}, "contact"),
        ({"subject": 42}, "subject"),
        ({"custom": "asset=LT-7"}, "custom"),
        ({"category": "Nothing"}, "category"),
    ],
)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_update_fields_refuses_a_bad_value_naming_the_field_and_changes_nothing(desk, changes, field):
    t = make(desk)
    with pytest.raises(ValidationError) as err:
        with desk.tx() as tx:
            tickets.update_fields(tx, t.number, changes, reason="x")
    assert err.value.field == field
    after = show(desk, t.number)
    assert after.version == t.version and after.due_at == t.due_at and after.subject == t.subject


def test_update_fields_takes_an_iso_due_time_and_clears_it_with_empty(desk):
    t = make(desk)
    with desk.tx() as tx:
        d = tickets.update_fields(tx, t.number, {"due_at": "2026-03-03T17:00"}, reason="customer deadline")
    assert d.due_at == clock.parse_iso("2026-03-03T17:00Z")
    with desk.tx() as tx:
        assert tickets.update_fields(tx, t.number, {"due_at": ""}, reason="no deadline").due_at is None


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda tx, n: tickets.reply(tx, n, "hi", time_spent="ten"), "time_spent"),
        (lambda tx, n: tickets.reply(tx, n, "hi", time_spent=-5), "time_spent"),
        (lambda tx, n: tickets.note(tx, n, "hi", body_format="html"), "body_format"),
        (lambda tx, n: tickets.note(tx, n, "hi", billable="maybe"), "billable"),
        (lambda tx, n: tickets.log_time(tx, n, "ten"), "minutes"),
        (lambda tx, n: tickets.log_time(tx, n, 0), "minutes"),
        (lambda tx, n: tickets.reply(tx, n, "hi", cc=["not-an-address"]), "cc"),
        (lambda tx, n: tickets.add_collaborator(tx, n, "nobody"), "email"),
        (lambda tx, n: tickets.set_status(tx, n, "Sideways"), "status"),
        (lambda tx, n: tickets.transfer(tx, n, "Nowhere"), "department"),
        (lambda tx, n: tickets.assign(tx, n, "nobody-at-all"), "agent"),
        (lambda tx, n: tickets.reply(tx, n, "hi", expected_version="v1"), "expected_version"),
    ],
)
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_write_refuses_bad_values_naming_the_field(desk, call, field):
    t = make(desk)
    with pytest.raises(ValidationError) as err:
        with desk.tx(desk.agent) as tx:
            call(tx, t.number)
    assert err.value.field == field
    assert show(desk, t.number).version == t.version


@pytest.mark.parametrize(("kw", "field"), [({"source": "fax"}, "source"), ({"custom_fields": {"": "x"}}, "custom_fields"),
                                           ({"topic": "Nowhere"}, "topic")])
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_create_refuses_bad_enums_and_names(desk, kw, field):
    with pytest.raises(ValidationError) as err:
        make(desk, **kw)
    assert err.value.field == field


# --- issue 9: no lost update; the refusal names who changed the ticket and when ----------------------

WRITES = {
    "reply": lambda tx, n, v: tickets.reply(tx, n, "late", expected_version=v),
    "note": lambda tx, n, v: tickets.note(tx, n, "late", expected_version=v),
    "status": lambda tx, n, v: tickets.set_status(tx, n, "Pending", expected_version=v),
    "resolve": lambda tx, n, v: tickets.resolve(tx, n, expected_version=v),
    "assign": lambda tx, n, v: tickets.assign(tx, n, "sue", expected_version=v),
    "assign_to_me": lambda tx, n, v: tickets.assign_to_me(tx, n, expected_version=v),
    "transfer": lambda tx, n, v: tickets.transfer(tx, n, "Billing", expected_version=v),
    "edit": lambda tx, n, v: tickets.update_fields(tx, n, {"subject": "New"}, reason="x", expected_version=v),
    "tags": lambda tx, n, v: tickets.set_tags(tx, n, ["vpn"], expected_version=v),
    "add_cc": lambda tx, n, v: tickets.add_collaborator(tx, n, "amy@acme.example", expected_version=v),
    "time": lambda tx, n, v: tickets.log_time(tx, n, 5, expected_version=v),
    "archive": lambda tx, n, v: tickets.archive(tx, n, expected_version=v),
    "link": lambda tx, n, v: links.link(tx, n, "TCK-1001", expected_version=v),
    "merge": lambda tx, n, v: links.merge(tx, n, ["TCK-1001"], expected_version=v),
    "resolve_children": lambda tx, n, v: links.resolve_children(tx, n, expected_version=v),
}


# Every write on SQLite; on PostgreSQL three kinds (an entry, a field edit, a merge across tickets): every
# write reads its ticket through tickets.load, the one locked read and version check, so what the engines
# do differently here (the lock, the audit time read back and shown as 10:42) is the same for all of them.
_STALE_ON_POSTGRES = ("reply", "edit", "merge")
_STALE_CASES = [(write, "sqlite") for write in sorted(WRITES)] + [
    pytest.param(write, "postgres", marks=pytest.mark.postgres) for write in _STALE_ON_POSTGRES
]


@pytest.mark.parametrize(("write", "db_url"), _STALE_CASES, indirect=["db_url"])
def test_every_ticket_write_refuses_a_stale_version_naming_who_changed_it(desk, write):
    t = make(desk)
    make(desk, "Other")
    clock.advance(minutes=102)  # 10:42
    with desk.tx(desk.supervisor) as tx:
        tickets.note(tx, t.number, "Sue was here", expected_version=t.version)
    with pytest.raises(StaleVersion) as err:
        with desk.tx(desk.admin) as tx:
            WRITES[write](tx, t.number, t.version)
    assert str(err.value) == (f"{t.number} was changed by sue at 10:42 (version {t.version + 1}, "
                              f"yours {t.version}); reload it and try again")
    assert isinstance(err.value, Conflict)
    assert show(desk, t.number).version == t.version + 1  # nothing else was written


def test_entry_writes_check_the_tickets_version_too(desk):
    t = make(desk)
    with desk.tx(desk.agent) as tx:
        entry = tickets.note(tx, t.number, "tpyo")
    with desk.tx() as tx:
        tickets.set_tags(tx, t.number, ["x"])
    for call in (lambda tx: tickets.edit_entry(tx, entry.id, "typo", expected_version=entry.version),
                 lambda tx: tickets.delete_entry(tx, entry.id, expected_version=entry.version),
                 lambda tx: tickets.redact_entry(tx, entry.id, expected_version=entry.version)):
        with pytest.raises(StaleVersion, match="changed by root"):
            with desk.tx() as tx:
                call(tx)


# --- defect 7: a merged child's entries are labelled with its number ---------------------------------

def test_the_thread_names_a_merged_childs_entries_by_number(desk):
    parent, child = make(desk, "Outage"), make(desk, "No VPN")
    with desk.tx() as tx:
        links.merge(tx, parent.number, [child.number])
    thread = show(desk, parent.number).thread
    from_child = [i for i in thread if i.ticket_id == child.id and i.kind == "message"]
    assert [i.ticket_number for i in from_child] == [child.number]
    assert {i.ticket_number for i in thread if i.ticket_id == parent.id} == {parent.number}


# --- defect 8: a reply or note to a merged child goes to the parent, and says so -----------------------

@pytest.mark.parametrize("kind", ["reply", "note"])
def test_work_on_a_merged_child_lands_on_the_parent_and_says_so(desk, kind):
    parent, child = make(desk, "Outage"), make(desk, "No VPN")
    with desk.tx() as tx:
        links.merge(tx, parent.number, [child.number])
    child_version = show(desk, child.number).version
    with desk.tx(desk.agent) as tx:
        write = tickets.reply if kind == "reply" else tickets.note
        posted = write(tx, child.number, "On it", expected_version=child_version)
    assert posted.number == parent.number and posted.ticket_id == parent.id
    assert posted.merged_from == child.number
    verb = "replied" if kind == "reply" else "noted"
    assert posted.redirect_note == f"{child.number} is merged into {parent.number}: {verb} there"
    with reading(desk.engine) as tx:
        row = tx.session.get(TicketEntry, posted.id)
        assert row.ticket_id == parent.id
    after_child = show(desk, child.number)
    assert after_child.state == "closed" and after_child.version == child_version  # the child is untouched


def test_a_file_sent_with_a_reply_to_a_merged_child_goes_with_it_to_the_parent(desk, tmp_path):
    parent, child = make(desk, "Outage"), make(desk, "No VPN")
    with desk.tx() as tx:
        links.merge(tx, parent.number, [child.number])
    log = tmp_path / "vpn.log"
    log.write_text("connection refused")
    with desk.tx(desk.agent) as tx:  # as the composer does: the reply, then its files, on the ref it had
        posted = tickets.reply(tx, child.number, "see the log")
        attachments.store(tx, child.number, log, tmp_path / "store", entry_id=posted.id)
    reply = [i for i in show(desk, parent.number).thread if i.kind == "reply"][0]
    assert [a.filename for a in reply.attachments] == ["vpn.log"] and reply.ticket_id == parent.id


def test_a_reply_to_an_ordinary_ticket_names_no_redirect(desk):
    t = make(desk)
    with desk.tx(desk.agent) as tx:
        posted = tickets.reply(tx, t.number, "Hello")
    assert posted.number == t.number and posted.merged_from is None and posted.redirect_note == ""
    assert posted.state == "open" and posted.status == "Open" and posted.version == show(desk, t.number).version


# --- defect 9: closing clears the reopened flag, on every path to closed -------------------------------

def _reopened(desk):
    t = make(desk)
    with desk.tx() as tx:
        tickets.resolve(tx, t.number, notes="done")
        tickets.reopen(tx, t.number, reason="still broken")
    assert show(desk, t.number).reopened
    return t


def test_closing_by_status_clears_the_reopened_flag(desk):
    t = _reopened(desk)
    with desk.tx() as tx:
        d = tickets.set_status(tx, t.number, "Closed")
    assert d.state == "closed" and not d.reopened and d.reopen_count == 1


def test_the_reopen_window_timer_clears_the_reopened_flag(desk):
    t = _reopened(desk)
    with desk.tx() as tx:
        tickets.resolve(tx, t.number, notes="really done")
    clock.advance(days=8)
    assert lifecycle.close_expired_resolved(desk.engine) == 1
    d = show(desk, t.number)
    assert d.state == "closed" and not d.reopened


def test_merging_clears_the_childs_reopened_flag(desk):
    parent, child = make(desk, "Outage"), _reopened(desk)
    with desk.tx() as tx:
        links.merge(tx, parent.number, [child.number])
    d = show(desk, child.number)
    assert d.state == "closed" and not d.reopened


# --- defect 11: a limit on body size ------------------------------------------------------------------

def test_bodies_over_the_limit_are_refused_naming_body_and_the_limit(desk):
    t = make(desk)
    big = "x" * 1_000_001
    for call in (lambda tx: tickets.reply(tx, t.number, big), lambda tx: tickets.note(tx, t.number, big),
                 lambda tx: tickets.open_ticket(tx, subject="Big", body=big, contact_email="bob@acme.example",
                                                department="Support")):
        with pytest.raises(ValidationError) as err:
            with desk.tx() as tx:
                call(tx)
        assert err.value.field == "body" and "1000000 bytes" in err.value.message
    with desk.tx() as tx:
        settings.put(tx.session, "max_body_bytes", 10)
    with pytest.raises(ValidationError, match="limit is 10 bytes"):
        with desk.tx() as tx:
            tickets.reply(tx, t.number, "ééééééé")  # 7 characters, 14 bytes
    with desk.tx() as tx:
        tickets.reply(tx, t.number, "0123456789")
    assert show(desk, t.number).version == t.version + 1


# --- issue 9: edit rights -----------------------------------------------------------------------------

def _entry(desk, actor, kind="reply"):
    t = make(desk)
    with desk.tx(actor) as tx:
        posted = (tickets.reply if kind == "reply" else tickets.note)(tx, t.number, "original words")
    return t, posted.id


@pytest.mark.parametrize("kind", ["reply", "note"])
def test_a_plain_agent_may_not_edit_or_delete_a_colleagues_entry(desk, kind):
    _, entry_id = _entry(desk, desk.supervisor, kind)
    for call in (lambda tx: tickets.edit_entry(tx, entry_id, "rewritten"), lambda tx: tickets.delete_entry(tx, entry_id)):
        with pytest.raises(PermissionDenied, match="entry.edit_any"):
            with desk.tx(desk.agent) as tx:
                call(tx)
    with reading(desk.engine, desk.agent) as tx:
        assert not tickets.can_edit_entry(tx, entry_id)
        assert tx.session.get(TicketEntry, entry_id).body == "original words"
    with desk.tx(desk.supervisor) as tx:  # the author may, within the window
        tickets.edit_entry(tx, entry_id, "better words")


def test_a_deleted_entrys_words_stay_out_of_the_thread(desk):
    t, entry_id = _entry(desk, desk.agent, "note")
    with desk.tx(desk.agent) as tx:
        tickets.delete_entry(tx, entry_id)
    d = show(desk, t.number)
    assert "original words" not in repr(d.thread)
    assert [i.event_kind for i in d.thread if i.kind == "event"][-1] == "entry_deleted"
    with reading(desk.engine) as tx:
        kept = tx.session.execute(
            select(AuditLog.data).where(AuditLog.action == "entry.deleted", AuditLog.object_id == entry_id)
        ).scalar_one()
    assert kept["original"] == "original words"


def test_own_entries_only_within_the_edit_window(desk):
    _, entry_id = _entry(desk, desk.agent)
    with reading(desk.engine, desk.agent) as tx:
        assert tickets.can_edit_entry(tx, entry_id)
    clock.advance(minutes=15, seconds=1)
    with reading(desk.engine, desk.agent) as tx:
        assert not tickets.can_edit_entry(tx, entry_id)
        assert "within 15 minutes" in tickets.edit_refusal(tx, entry_id)
    with pytest.raises(PermissionDenied, match="within 15 minutes"):
        with desk.tx(desk.agent) as tx:
            tickets.edit_entry(tx, entry_id, "too late")
    with desk.tx(desk.supervisor) as tx:  # entry.edit_any (the Supervisor role holds it)
        tickets.edit_entry(tx, entry_id, "fixed by a supervisor")


def test_an_admin_may_not_rewrite_or_delete_a_customers_message(desk):
    t = make(desk)
    message = [i for i in t.thread if i.kind == "message"][0]
    for call in (lambda tx: tickets.edit_entry(tx, message.id, "what they should have said"),
                 lambda tx: tickets.delete_entry(tx, message.id)):
        with pytest.raises(PermissionDenied, match="customer's message is never rewritten"):
            with desk.tx(desk.admin) as tx:
                call(tx)
    with reading(desk.engine, desk.admin) as tx:
        assert not tickets.can_edit_entry(tx, message.id)
    assert [i.body for i in show(desk, t.number).thread if i.kind == "message"] == [message.body]


def test_an_admin_redacts_a_customers_message_keeping_the_original_in_the_audit_log(desk):
    t = make(desk, body="my password is hunter2")
    message = [i for i in t.thread if i.kind == "message"][0]
    with pytest.raises(PermissionDenied):
        with desk.tx(desk.supervisor) as tx:
            tickets.redact_entry(tx, message.id, reason="password")
    with desk.tx(desk.admin) as tx:
        tickets.redact_entry(tx, message.id, reason="password in the mail")
    d = show(desk, t.number)
    item = [i for i in d.thread if i.kind == "message"][0]
    assert item.body == "[redacted by Root Admin]" and item.redacted_by == "Root Admin" and item.full_body is None
    assert "hunter2" not in repr(d.thread)  # not in any event either
    with reading(desk.engine) as tx:
        row = tx.session.get(TicketEntry, message.id)
        assert row.redacted_at == clock.now() and row.body == ""
        audit = tx.session.execute(
            select(AuditLog).where(AuditLog.action == "entry.redacted", AuditLog.object_id == message.id)
        ).scalar_one()
    assert audit.data["original"] == "my password is hunter2" and audit.actor == "root"
    with pytest.raises(Conflict):
        with desk.tx(desk.admin) as tx:
            tickets.redact_entry(tx, message.id)


# --- issue 16 item 1: merging needs the permission on the parent's side too ---------------------------

def test_merge_needs_the_merge_permission_in_the_parents_department(desk):
    with desk.tx() as tx:
        parent = tickets.create(tx, subject="Invoice", body="wrong total", contact_email="bob@acme.example",
                                department="Billing")
    child = make(desk, "Invoice again")
    desk.grant("sue", "Billing", "Agent")  # sue sees Billing, but the Agent role there has no ticket.merge
    with pytest.raises(PermissionDenied, match="ticket.merge"):
        with desk.tx(desk.supervisor) as tx:
            links.merge(tx, parent.number, [child.number])
    with reading(desk.engine) as tx:
        assert tx.session.get(Ticket, child.id).merged_into_id is None
    assert show(desk, child.number).state == "new"
    # an admin holds the permission on both sides: the same merge goes through
    with desk.tx(desk.admin) as tx:
        links.merge(tx, parent.number, [child.number])
    assert show(desk, child.number).merged_into == parent.number


def test_an_upgraded_desk_gives_edit_any_to_full_roles_and_clears_stale_reopened_flags(desk) -> None:
    """Migration 0007 on a desk with data: the Supervisor that held every permission gets entry.edit_any,
    the Agent role does not, and a closed ticket still flagged reopened loses the flag."""
    from alembic import command

    from tui_helpdesk import db
    from tui_helpdesk.models import Role
    from tui_helpdesk.services import setup

    t = make(desk)
    cfg = db.alembic_config(desk.engine)
    command.downgrade(cfg, "0006")
    with session_scope(desk.engine) as s:
        roles = {r.name: r for r in s.execute(select(Role)).scalars()}
        roles["Supervisor"].permissions = [p for p in roles["Supervisor"].permissions if p != tickets.EDIT_ANY]
        roles["Agent"].permissions = list(setup.AGENT_PERMISSIONS)
        # Core, not the ORM: the model knows columns that later migrations add (client_key)
        s.execute(update(Ticket.__table__).where(Ticket.__table__.c.id == t.id).values(state="closed", reopened=True))
    command.upgrade(cfg, "head")
    with session_scope(desk.engine) as s:
        perms = {r.name: list(r.permissions) for r in s.execute(select(Role)).scalars()}
        assert not s.get(Ticket, t.id).reopened
    assert tickets.EDIT_ANY in perms["Supervisor"] and tickets.EDIT_ANY not in perms["Agent"]
