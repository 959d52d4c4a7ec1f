"""Admin use cases on SQLite and PostgreSQL: validation, refusals, audit, and the ticket copies that follow."""

from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select

from tui_helpdesk.db import session_scope
from tui_helpdesk.models import AuditLog, Counter, Ticket
from tui_helpdesk.services import admin, settings, tickets
from tui_helpdesk.services.context import CHANGE_COUNTER
from tui_helpdesk.services.errors import Conflict, PermissionDenied, ValidationError


def make_ticket(desk, **kw):
    with desk.tx() as tx:
        kw.setdefault("department", "Support")
        return tickets.create(
            tx,
            subject=kw.pop("subject", "VPN down"),
            body="It is down.",
            contact_email="bob@acme.example",
            **kw,
        )


def status_id(desk, name):
    with desk.tx() as tx:
        return next(s.id for s in admin.list_statuses(tx) if s.name == name)


def dept_id(desk, name):
    with desk.tx() as tx:
        return next(d.id for d in admin.list_departments(tx) if d.name == name)


def changes(desk):
    with session_scope(desk.engine) as s:
        return s.execute(select(Counter.value).where(Counter.name == CHANGE_COUNTER)).scalar() or 0


def audit_actions(desk, object_type):
    with session_scope(desk.engine) as s:
        return [
            a
            for a in s.execute(
                select(AuditLog.action).where(AuditLog.object_type == object_type).order_by(AuditLog.id)
            ).scalars()
        ]


def field_error(exc_info) -> str:
    return exc_info.value.field


# --- permissions, audit and the change counter ------------------------------------------------------------


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the permission check runs before any SQL
@pytest.mark.parametrize(
    "call",
    [
        lambda tx: admin.create_department(tx, name="Sales"),
        lambda tx: admin.create_status(tx, name="Waiting", state="pending"),
        lambda tx: admin.create_priority(tx, name="Meh", rank=0),
        lambda tx: admin.create_agent(tx, username="x", name="X"),
        lambda tx: admin.create_contact(tx, email="a@b.example"),
        lambda tx: admin.set_setting(tx, "number_prefix", "REQ"),
        lambda tx: admin.import_contacts(tx, "email\nz@z.example\n"),
    ],
)
def test_only_admins_write(desk, call):
    with pytest.raises(PermissionDenied), desk.tx(desk.supervisor) as tx:
        call(tx)


def test_a_write_audits_and_bumps_the_change_counter(desk):
    before = changes(desk)
    with desk.tx() as tx:
        row = admin.create_department(tx, name="Sales", email="Sales@Example.com")
    with desk.tx() as tx:
        admin.update_department(tx, row.id, name="Sales EMEA")
    assert row.email == "sales@example.com"
    assert audit_actions(desk, "department") == ["department.create", "department.update"]
    assert changes(desk) == before + 2
    with session_scope(desk.engine) as s:
        data = s.execute(select(AuditLog.data).where(AuditLog.action == "department.update")).scalar_one()
    assert data["changes"] == {"name": ["Sales", "Sales EMEA"]}


def test_a_refused_write_changes_nothing(desk):
    before = changes(desk)
    with pytest.raises(ValidationError), desk.tx() as tx:
        admin.create_department(tx, name="support")  # "Support" exists: names ignore case
    assert changes(desk) == before
    assert audit_actions(desk, "department") == []


# --- departments ------------------------------------------------------------------------------------------


def test_department_fields_are_validated(desk):
    cases = [
        ({"name": " "}, "name"),
        ({"name": "Support"}, "name"),
        ({"name": "X", "state": "sleeping"}, "state"),
        ({"name": "X", "email": "not-an-address"}, "email"),
        ({"name": "X", "parent": "Nowhere"}, "parent"),
        ({"name": "X", "manager": "nobody"}, "manager"),
        ({"name": "X", "default_priority": "Critical"}, "default_priority"),
        ({"name": "X", "colour": "red"}, "colour"),
    ]
    for values, field in cases:
        with pytest.raises(ValidationError) as exc, desk.tx() as tx:
            admin.create_department(tx, **values)
        assert field_error(exc) == field, values


def test_department_tree_refuses_cycles_and_shows_paths(desk):
    with desk.tx() as tx:
        tier1 = admin.create_department(
            tx, name="Tier 1", parent="Support", manager="sue", default_priority="High"
        )
        tier2 = admin.create_department(tx, name="Tier 2", parent=tier1.id)
    assert tier2.path == "Support / Tier 1 / Tier 2"
    assert (tier1.manager, tier1.default_priority) == ("sue", "High")
    with pytest.raises(ValidationError, match="own ancestor") as exc, desk.tx() as tx:
        admin.update_department(tx, dept_id(desk, "Support"), parent=tier2.id)
    assert exc.value.field == "parent"
    with pytest.raises(ValidationError, match="own ancestor"), desk.tx() as tx:
        admin.update_department(tx, tier1.id, parent=tier1.id)
    with desk.tx() as tx:  # clearing the parent is fine
        assert admin.update_department(tx, tier2.id, parent="").path == "Tier 2"


def test_department_delete_refuses_when_in_use_and_archive_works(desk):
    make_ticket(desk, department="Billing")
    billing = dept_id(desk, "Billing")
    with pytest.raises(Conflict, match="tickets.*archive it instead"), desk.tx() as tx:
        admin.delete_department(tx, billing)
    with desk.tx() as tx:
        assert admin.archive_department(tx, billing).state == "archived"
    with desk.tx() as tx:
        row = admin.create_department(tx, name="Empty")
    with desk.tx() as tx:
        admin.delete_department(tx, row.id)
    with desk.tx() as tx:
        assert "Empty" not in [d.name for d in admin.list_departments(tx)]
    assert audit_actions(desk, "department")[-1] == "department.delete"


def test_the_last_active_department_stays_active(desk):
    with desk.tx() as tx:
        admin.archive_department(tx, dept_id(desk, "Billing"))
    with pytest.raises(ValidationError, match="last active department"), desk.tx() as tx:
        admin.update_department(tx, dept_id(desk, "Support"), state="disabled")


# --- statuses ---------------------------------------------------------------------------------------------


def test_status_validation(desk):
    for values, field in [
        ({"name": "X", "state": "sleeping"}, "state"),
        ({"name": "X"}, "state"),
        ({"name": "open", "state": "open"}, "name"),
        ({"name": "X", "state": "open", "sort_order": "ten"}, "sort_order"),
        ({"name": "X", "state": "open", "color": "grean"}, "color"),
    ]:
        with pytest.raises(ValidationError) as exc, desk.tx() as tx:
            admin.create_status(tx, **values)
        assert field_error(exc) == field, values


def test_status_default_per_state_must_remain(desk):
    open_id = status_id(desk, "Open")
    with pytest.raises(ValidationError, match="default") as exc, desk.tx() as tx:
        admin.update_status(tx, open_id, is_default=False)
    assert exc.value.field == "is_default"
    with pytest.raises(ValidationError, match="default") as exc, desk.tx() as tx:
        admin.update_status(tx, open_id, state="pending")
    assert exc.value.field == "state"
    with pytest.raises(ValidationError, match="default"), desk.tx() as tx:
        admin.delete_status(tx, open_id)
    with pytest.raises(ValidationError, match="default"), desk.tx() as tx:
        admin.archive_status(tx, open_id)
    # Making another status the default moves the flag, and then the old one may go.
    with desk.tx() as tx:
        admin.update_status(tx, status_id(desk, "In Progress"), is_default=True)
    with desk.tx() as tx:
        defaults = [s.name for s in admin.list_statuses(tx) if s.is_default and s.state == "open"]
    assert defaults == ["In Progress"]
    with desk.tx() as tx:
        admin.delete_status(tx, open_id)


def test_status_state_change_moves_its_tickets(desk):
    t = make_ticket(desk, status="On Hold")
    assert t.state == "pending"
    with desk.tx() as tx:
        admin.update_status(tx, status_id(desk, "On Hold"), state="open")
    with session_scope(desk.engine) as s:
        assert s.get(Ticket, t.id).state == "open"


def test_status_in_use_cannot_be_deleted(desk):
    make_ticket(desk, status="On Hold")
    with (
        pytest.raises(Conflict, match="'On Hold' is still used by tickets; archive it instead"),
        desk.tx() as tx,
    ):
        admin.delete_status(tx, status_id(desk, "On Hold"))
    with desk.tx() as tx:
        assert admin.archive_status(tx, status_id(desk, "On Hold")).archived is True


def test_status_named_by_the_autoclose_setting_cannot_be_deleted(desk):
    with desk.tx() as tx:
        admin.set_setting(tx, "autoclose_statuses", "Resolved, On Hold")
    with pytest.raises(Conflict, match="autoclose_statuses"), desk.tx() as tx:
        admin.delete_status(tx, status_id(desk, "On Hold"))


def test_first_status_of_a_state_becomes_its_default(desk):
    with desk.tx() as tx:
        admin.update_status(tx, status_id(desk, "In Progress"), name="Working")
        row = admin.create_status(tx, name="Waiting on vendor", state="pending", color="#ff8800")
    assert row.is_default is False  # "Pending" is the default already
    assert row.color == "#ff8800"


# --- priorities -------------------------------------------------------------------------------------------


def test_priority_rank_change_updates_ticket_copies(desk):
    t = make_ticket(desk, priority="High")
    with desk.tx() as tx:
        high = next(p for p in admin.list_priorities(tx) if p.name == "High")
        admin.update_priority(tx, high.id, rank=9)
    with session_scope(desk.engine) as s:
        assert s.get(Ticket, t.id).priority_rank == 9
    with pytest.raises(Conflict, match="tickets"), desk.tx() as tx:
        admin.delete_priority(tx, high.id)


def test_priority_rules(desk):
    with desk.tx() as tx:
        prios = {p.name: p for p in admin.list_priorities(tx)}
    with pytest.raises(ValidationError) as exc, desk.tx() as tx:
        admin.update_priority(tx, prios["Normal"].id, is_default=False)
    assert exc.value.field == "is_default"
    with pytest.raises(ValidationError, match="default priority"), desk.tx() as tx:
        admin.delete_priority(tx, prios["Normal"].id)
    with pytest.raises(ValidationError) as exc, desk.tx() as tx:
        admin.create_priority(tx, name="Neg", rank=-1)
    assert exc.value.field == "rank"
    with desk.tx() as tx:
        admin.update_priority(tx, prios["Low"].id, is_default=True)
        assert [p.name for p in admin.list_priorities(tx) if p.is_default] == ["Low"]
    with pytest.raises(Conflict, match="departments"), desk.tx() as tx:
        admin.update_department(tx, dept_id(desk, "Billing"), default_priority="Urgent")
        admin.delete_priority(tx, prios["Urgent"].id)


# --- help topics and the classification tree --------------------------------------------------------------


def test_topics_nest_refuse_cycles_and_duplicate_siblings(desk):
    with desk.tx() as tx:
        parent = admin.create_topic(
            tx, name="Access", department="Support", priority="High", auto_assign_agent="sam"
        )
        child = admin.create_topic(tx, name="VPN", parent=parent.id, auto_assign_team="")
        admin.create_topic(tx, name="VPN")  # the same name elsewhere in the tree is fine
    assert child.path == "Access / VPN"
    assert (parent.department, parent.priority, parent.auto_assign_agent) == ("Support", "High", "sam")
    with pytest.raises(ValidationError, match="already exists"), desk.tx() as tx:
        admin.create_topic(tx, name="vpn", parent=parent.id)
    with pytest.raises(ValidationError, match="own ancestor"), desk.tx() as tx:
        admin.update_topic(tx, parent.id, parent=child.id)
    make_ticket(desk, topic=child.id)
    with pytest.raises(Conflict, match="tickets"), desk.tx() as tx:
        admin.delete_topic(tx, child.id)
    with pytest.raises(Conflict, match="child topics"), desk.tx() as tx:
        admin.delete_topic(tx, parent.id)
    with desk.tx() as tx:
        assert admin.archive_topic(tx, child.id).active is False


def test_classification_tree_shape(desk):
    with desk.tx() as tx:
        hw = admin.create_classification(tx, kind="category", name="Hardware")
        laptop = admin.create_classification(tx, kind="type", name="Laptop", parent=hw.id)
        battery = admin.create_classification(tx, kind="item", name="Battery", parent=laptop.id)
    assert battery.path == "Hardware / Laptop / Battery"
    for values, match in [
        ({"kind": "type", "name": "Orphan"}, "belongs under a category"),
        ({"kind": "item", "name": "Bad", "parent": hw.id}, "belongs under a type"),
        ({"kind": "category", "name": "Nested", "parent": hw.id}, "no parent"),
        ({"kind": "type", "name": "laptop", "parent": hw.id}, "already exists"),
        ({"kind": "widget", "name": "X"}, "one of"),
    ]:
        with pytest.raises(ValidationError, match=match), desk.tx() as tx:
            admin.create_classification(tx, **values)
    with pytest.raises(ValidationError, match="cannot change"), desk.tx() as tx:
        admin.update_classification(tx, laptop.id, kind="item")
    with pytest.raises(Conflict, match="child entries"), desk.tx() as tx:
        admin.delete_classification(tx, hw.id)
    with desk.tx() as tx:
        admin.delete_classification(tx, battery.id)
        assert [r.name for r in admin.list_classifications(tx)] == ["Hardware", "Laptop"]


# --- agents, teams, roles, department access --------------------------------------------------------------


def test_agent_validation_and_last_admin(desk):
    for values, field in [
        ({"username": "bad name", "name": "X"}, "username"),
        ({"username": "SAM", "name": "X"}, "username"),
        ({"username": "new", "name": ""}, "name"),
        ({"username": "new", "name": "N", "email": "nope"}, "email"),
        ({"username": "new", "name": "N", "department": "Support"}, "role"),
        ({"username": "new", "name": "N", "department": "Support", "role": "Boss"}, "role"),
    ]:
        with pytest.raises(ValidationError) as exc, desk.tx() as tx:
            admin.create_agent(tx, **values)
        assert field_error(exc) == field, values
    with pytest.raises(ValidationError, match="last active admin"), desk.tx() as tx:
        admin.update_agent(tx, desk.admin.agent_id, is_admin=False)
    with pytest.raises(ValidationError, match="last active admin"), desk.tx() as tx:
        admin.archive_agent(tx, desk.admin.agent_id)


def test_agent_with_tickets_is_deactivated_not_deleted(desk):
    make_ticket(desk, assignee="sam")
    with pytest.raises(Conflict, match="assigned tickets.*deactivate"), desk.tx() as tx:
        admin.delete_agent(tx, desk.agent.agent_id)
    with desk.tx() as tx:
        assert admin.archive_agent(tx, desk.agent.agent_id).active is False
    with desk.tx() as tx:
        fresh = admin.create_agent(tx, username="temp", name="Temp", department="Billing", role="Agent")
        admin.create_access(tx, agent="temp", department="Support", role="Agent")
    assert (fresh.department, fresh.role) == ("Billing", "Agent")
    with desk.tx() as tx:
        admin.delete_agent(tx, fresh.id)  # never acted: it may go, with its access grant
        assert all(a.agent != "temp" for a in admin.list_access(tx))


def test_teams_members_and_lead(desk):
    with desk.tx() as tx:
        team = admin.create_team(tx, name="Network", lead="sue", members="sam")
    assert team.members == ("sam", "sue")  # the lead is a member
    with desk.tx() as tx:
        team = admin.update_team(tx, team.id, members=["olly"])
    assert team.members == ("olly", "sue")
    with pytest.raises(ValidationError) as exc, desk.tx() as tx:
        admin.update_team(tx, team.id, members="ghost")
    assert exc.value.field == "members"
    make_ticket(desk, team="Network")
    with pytest.raises(Conflict, match="tickets"), desk.tx() as tx:
        admin.delete_team(tx, team.id)
    with desk.tx() as tx:
        assert admin.archive_team(tx, team.id).active is False


def test_roles_check_permissions_and_refuse_delete_in_use(desk):
    with pytest.raises(ValidationError, match="unknown ticket.fly") as exc, desk.tx() as tx:
        admin.create_role(tx, name="Pilot", permissions="ticket.reply, ticket.fly")
    assert exc.value.field == "permissions"
    with desk.tx() as tx:
        role = admin.create_role(tx, name="Reader", permissions="ticket.reply,ticket.create")
    assert role.permissions == ("ticket.create", "ticket.reply")
    with desk.tx() as tx:
        agent_role = next(r for r in admin.list_roles(tx) if r.name == "Agent")
    with pytest.raises(Conflict, match="agents"), desk.tx() as tx:
        admin.delete_role(tx, agent_role.id)
    with desk.tx() as tx:
        admin.delete_role(tx, role.id)


def test_department_access_grants(desk):
    with desk.tx() as tx:
        row = admin.create_access(tx, agent="olly", department="Support", role="Agent")
    assert (row.agent, row.department, row.role) == ("olly", "Support", "Agent")
    with pytest.raises(ValidationError, match="already has access"), desk.tx() as tx:
        admin.create_access(tx, agent="olly", department="Support", role="Supervisor")
    with pytest.raises(ValidationError, match="primary department"), desk.tx() as tx:
        admin.create_access(tx, agent="olly", department="Billing", role="Agent")
    with desk.tx() as tx:
        assert admin.update_access(tx, row.id, role="Supervisor").role == "Supervisor"
    with desk.tx() as tx:
        admin.delete_access(tx, row.id)
        assert admin.list_access(tx) == []


# --- organizations, contacts and the CSV import -----------------------------------------------------------


def test_organizations_own_domains(desk):
    with desk.tx() as tx:
        acme = admin.create_organization(tx, name="Acme", domains="acme.example, @Acme.org")
    assert acme.domains == ("acme.example", "acme.org")
    with pytest.raises(ValidationError, match="belongs to 'Acme'") as exc, desk.tx() as tx:
        admin.create_organization(tx, name="Other", domains="acme.org")
    assert exc.value.field == "domains"
    with pytest.raises(ValidationError, match="not a domain"), desk.tx() as tx:
        admin.create_organization(tx, name="Other", domains="not a domain")
    with desk.tx() as tx:
        bob = admin.create_contact(tx, email="Bob@acme.example", name="Bob")
    assert (bob.email, bob.organization) == ("bob@acme.example", "Acme")  # matched by domain
    with pytest.raises(Conflict, match="contacts.*archive"), desk.tx() as tx:
        admin.delete_organization(tx, acme.id)
    with desk.tx() as tx:
        assert admin.archive_organization(tx, acme.id).archived is True


def test_contacts_validate_and_refuse_delete_with_tickets(desk):
    with pytest.raises(ValidationError) as exc, desk.tx() as tx:
        admin.create_contact(tx, email="nope")
    assert exc.value.field == "email"
    t = make_ticket(desk)
    with desk.tx() as tx:
        bob = admin.list_contacts(tx, search="bob")[0]
    assert t.id
    with pytest.raises(Conflict, match="tickets"), desk.tx() as tx:
        admin.delete_contact(tx, bob.id)
    with pytest.raises(ValidationError, match="already exists"), desk.tx() as tx:
        admin.create_contact(tx, email="BOB@acme.example")


def test_csv_import_takes_the_good_rows_and_reports_the_bad(desk, tmp_path):
    with desk.tx() as tx:
        admin.create_organization(tx, name="Acme")
        admin.create_contact(tx, email="old@acme.example", name="")
    csv_text = (
        "email,name,phone,organization\n"
        "ann@acme.example,Ann,555-1,Acme\n"
        "not-an-email,Bad,,\n"
        "cat@x.example,Cat,,Nowhere Inc\n"
        "OLD@acme.example,Old Timer,,\n"
        "ann@acme.example,Ann Again,,\n"
        "dan@x.example,Dan,,\n"
    )
    path = tmp_path / "contacts.csv"
    path.write_text(csv_text)
    with desk.tx() as tx:
        report = admin.import_contacts_file(tx, path)
    assert (report.created, report.updated) == (2, 1)
    assert [(e.line, e.message.split(":")[0]) for e in report.errors] == [
        (3, "email"),
        (4, "organization"),
        (6, "repeats line 2"),
    ]
    with desk.tx() as tx:
        rows = {r.email: r for r in admin.list_contacts(tx)}
    assert rows["ann@acme.example"].organization == "Acme"
    assert rows["old@acme.example"].name == "Old Timer"
    assert "cat@x.example" not in rows


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # refused while parsing, before any SQL
def test_csv_import_refuses_a_file_without_an_email_column(desk, tmp_path):
    with pytest.raises(ValidationError, match="email column"), desk.tx() as tx:
        admin.import_contacts(tx, "name,phone\nAnn,1\n")
    with pytest.raises(ValidationError, match="unknown column"), desk.tx() as tx:
        admin.import_contacts(tx, "email,fax\na@b.example,1\n")
    with pytest.raises(ValidationError, match="does not exist"), desk.tx() as tx:
        admin.import_contacts_file(tx, tmp_path / "missing.csv")


# --- canned responses and settings ------------------------------------------------------------------------


def test_canned_responses(desk):
    with session_scope(desk.engine) as s:
        if not inspect(s.connection()).has_table("canned_response"):
            pytest.skip("the canned_response table is not in the migrations yet")
    with desk.tx() as tx:
        row = admin.create_canned(
            tx, title="Thanks", body="Thank you, {{contact.name}}.", department="Support"
        )
    with pytest.raises(ValidationError) as exc, desk.tx() as tx:
        admin.create_canned(tx, title="thanks", body="Again", department="Support")
    assert exc.value.field == "title"
    with pytest.raises(ValidationError) as exc, desk.tx() as tx:
        admin.create_canned(tx, title="Empty", body="  ")
    assert exc.value.field == "body"
    with desk.tx() as tx:
        assert admin.archive_canned(tx, row.id).active is False
        admin.delete_canned(tx, row.id)
        assert admin.list_canned(tx) == []


def test_settings_validate_and_store(desk):
    with desk.tx() as tx:
        assert admin.set_setting(tx, "number_prefix", "req").value == "REQ"
        admin.set_setting(tx, "reopen_window_days", "14")
        admin.set_setting(tx, "closed_reopen_policy", "never")
        row = admin.set_setting(tx, "attachment_blocked_ext", "EXE, bat,.js")
        admin.set_setting(tx, "smtp_password", "hunter2")
    assert row.value == [".exe", ".bat", ".js"]
    with session_scope(desk.engine) as s:
        assert settings.get(s, "reopen_window_days") == 14
        assert settings.get(s, "closed_reopen_policy") == "never"
        logged = s.execute(
            select(func.count()).select_from(AuditLog).where(AuditLog.object_type == "setting")
        ).scalar()
        secret = [
            a.data
            for a in s.execute(select(AuditLog).where(AuditLog.object_type == "setting")).scalars()
            if a.data["key"] == "smtp_password"
        ][0]
    assert logged == 5
    assert "hunter2" not in str(secret)
    for key, value in [
        ("number_prefix", "T K"),
        ("reopen_window_days", "soon"),
        ("attachment_max_mb", "0"),
        ("closed_reopen_policy", "always"),
        ("nonsense", "1"),
        ("attachment_blocked_ext", "a/b"),
    ]:
        with pytest.raises(ValidationError) as exc, desk.tx() as tx:
            admin.set_setting(tx, key, value)
        assert exc.value.field == key
    with desk.tx() as tx:
        assert admin.reset_setting(tx, "number_prefix").value == "TCK"
        secret_row = next(r for r in admin.list_settings(tx) if r.key == "smtp_password")
    assert secret_row.display == "(set)"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_empty_value_keeps_a_secret_and_reset_clears_it(desk):
    """Every face shows a secret empty, so saving its form untouched must not wipe the password."""
    from tui_helpdesk.models import Mailbox
    from tui_helpdesk.services import mailboxes

    with desk.tx() as tx:
        admin.set_setting(tx, "smtp_password", "hunter2")
        box = mailboxes.add(tx, "help@example.test", imap_host="imap.example.test", imap_password="s3cret")
    with desk.tx() as tx:
        assert admin.set_setting(tx, "smtp_password", "").display == "(set)"
        mailboxes.edit(tx, box.id, imap_password="", folder="Support")
    with session_scope(desk.engine) as s:
        assert settings.get(s, "smtp_password") == "hunter2"
        assert s.get(Mailbox, box.id).imap_password == "s3cret"
        assert s.get(Mailbox, box.id).folder == "Support"
    with desk.tx() as tx:
        assert admin.reset_setting(tx, "smtp_password").display == "(not set)"
