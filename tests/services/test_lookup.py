"""What a user types finds the same row everywhere: ids, names in any case, topic paths, numbers."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Department, HelpTopic, Organization, Team
from tui_helpdesk.services import filter_query, lookup, settings, tickets
from tui_helpdesk.services.context import reading
from tui_helpdesk.services.errors import NotFound, ValidationError


def new_ticket(desk, **kw):
    args = dict(subject="VPN is down", body="Cannot connect", contact_email="bob@acme.example", department="Support")
    args.update(kw)
    with desk.tx() as tx:
        return tickets.create(tx, **args)


@pytest.fixture
def catalog(desk):
    """A topic tree Network / VPN beside Hardware / VPN (same leaf name), a team, an organization."""
    with session_scope(desk.engine) as s:
        support = s.execute(select(Department).where(Department.name == "Support")).scalar_one()
        network = HelpTopic(name="Network", department_id=support.id)
        hardware = HelpTopic(name="Hardware", department_id=support.id)
        s.add_all([network, hardware])
        s.flush()
        vpn = HelpTopic(name="VPN", parent_id=network.id, department_id=support.id)
        s.add_all([vpn, HelpTopic(name="VPN", parent_id=hardware.id), HelpTopic(name="Printers", parent_id=hardware.id)])
        s.add_all([Team(name="Network Ops"), Organization(name="Acme Corp")])
        s.flush()
        return {"support": support.id, "vpn": vpn.id, "network": network.id}


@pytest.mark.parametrize("typed", ["Network / VPN", "network/vpn", " NETWORK  /  vpn "])
def test_a_topic_is_found_by_the_path_admin_topics_list_prints(desk, catalog, typed):
    with reading(desk.engine) as tx:
        assert lookup.find_id(tx.session, "topic", typed) == catalog["vpn"]


def test_an_ambiguous_topic_name_asks_for_the_path_and_an_unknown_one_is_named(desk, catalog):
    with reading(desk.engine) as tx:
        with pytest.raises(ValidationError) as err:
            lookup.topic(tx.session, "VPN")
        assert err.value.field == "topic" and "path" in err.value.message
        with pytest.raises(ValidationError) as err:
            lookup.topic(tx.session, "Network / Nowhere")
        assert err.value.field == "topic"
        assert lookup.topic(tx.session, "printers").name == "Printers"


@pytest.mark.parametrize(
    ("kind", "typed", "expected"),
    [
        ("department", "support", "Support"),
        ("department", "SUPPORT", "Support"),
        ("team", "network ops", "Network Ops"),
        ("organization", "acme corp", "Acme Corp"),
        ("priority", "high", "High"),
        ("status", "OPEN", "Open"),
        ("agent", "SAM", "Sam Agent"),
        ("agent", "sam@example.com", "Sam Agent"),
        ("agent", "sue super", "Sue Super"),
    ],
)
def test_names_match_in_any_case_and_ids_match_too(desk, catalog, kind, typed, expected):
    with reading(desk.engine) as tx:
        found = lookup.find_id(tx.session, kind, typed)
        assert lookup.find_id(tx.session, kind, str(found)) == found
        model = lookup._KINDS[kind][0]
        assert tx.session.get(model, found).name == expected


def test_create_list_and_edit_take_ids_names_and_paths_alike(desk, catalog):
    by_id = new_ticket(desk, department=str(catalog["support"]), topic=str(catalog["vpn"]))
    by_path = new_ticket(desk, department="support", topic="network / vpn")
    assert by_id.topic == by_path.topic == "VPN" and by_id.department == by_path.department == "Support"
    with desk.tx() as tx:
        edited = tickets.update_fields(tx, by_id.number, {"topic": "Hardware / Printers"}, reason="moved")
    assert edited.topic == "Printers"
    # the filter language (and so `ticket list --department 3 --topic "Network / VPN"`) uses the same rule
    for line in (f"dept:{catalog['support']} topic:\"Network / VPN\"", "dept:SUPPORT topic:\"network/vpn\""):
        with reading(desk.engine) as tx:
            query = filter_query.resolve(tx.session, filter_query.parse(line), None)
        assert query.department_ids == (catalog["support"],) and query.topic_id == catalog["vpn"]


def test_a_number_is_found_under_the_old_and_the_new_prefix_and_bare(desk):
    t = new_ticket(desk)
    assert t.number == "TCK-1000"
    with desk.tx() as tx:
        settings.put(tx.session, "number_prefix", "ITF")
    later = new_ticket(desk)
    assert later.number == "ITF-1001"
    with reading(desk.engine) as tx:
        for typed in ("TCK-1000", "tck-1000", "ITF-1000", "itf-1000", "1000", ":1000", " #TCK-1000 "):
            assert lookup.ticket(tx.session, typed).id == t.id, typed
            assert lookup.ticket_by_number(tx.session, typed).id == t.id, typed
        assert lookup.ticket(tx.session, "itf-1001").id == later.id
        assert lookup.ticket_by_number(tx.session, "TCK-1001") is None  # never issued under the old prefix
        assert lookup.ticket_by_number(tx.session, "FOO-1000") is None
        assert lookup.ticket_by_number(tx.session, "Re: nothing") is None
        with pytest.raises(NotFound):
            lookup.ticket(tx.session, "FOO-1000")
    with reading(desk.engine) as tx:
        assert tickets.view(tx, "1000").number == "TCK-1000"  # `ticket show 1000` after the change


def test_a_number_lookup_uses_an_index_not_a_scan(desk, db_url):
    new_ticket(desk)
    with reading(desk.engine) as tx:
        if db_url.startswith("sqlite"):
            explain = "EXPLAIN QUERY PLAN SELECT id FROM ticket WHERE number_seq = 1000"
        else:
            # a table this small is cheaper to scan, so PostgreSQL is told to avoid that: what is left
            # is whether an index can serve the lookup at all
            tx.session.execute(text("SET LOCAL enable_seqscan = off"))
            explain = "EXPLAIN SELECT id FROM ticket WHERE number_seq = 1000"
        plan = " ".join(str(r[-1]) for r in tx.session.execute(text(explain)))
    assert "ix_ticket_number_seq" in plan


def test_the_migration_fills_number_seq_for_existing_tickets(desk):
    """Migration 0005 on a desk with data: tickets numbered before it are found by their digits."""
    from alembic import command

    from tui_helpdesk import db
    from tui_helpdesk.models import Ticket

    t = new_ticket(desk)
    with session_scope(desk.engine) as s:
        s.get(Ticket, t.id).number = "OLD_1-0042"  # a prefix with a digit and an underscore
    cfg = db.alembic_config(desk.engine)
    command.downgrade(cfg, "0004")
    command.upgrade(cfg, "head")
    with reading(desk.engine) as tx:
        assert tx.session.get(Ticket, t.id).number_seq == 42
        assert lookup.ticket(tx.session, "42").id == t.id
        assert lookup.ticket(tx.session, "old_1-0042").id == t.id
