"""Links are bidirectional and typed; parents resolve their children; merges combine threads."""

from __future__ import annotations

import pytest

from tui_helpdesk.services import links, tickets
from tui_helpdesk.services.context import reading
from tui_helpdesk.services.errors import Conflict, PermissionDenied, ValidationError


def make(desk, subject, email="bob@acme.example", **kw):
    with desk.tx() as tx:
        return tickets.create(tx, subject=subject, body=f"{subject} body", contact_email=email,
                              department="Support", **kw)


def show(desk, ref, actor=None):
    with reading(desk.engine, actor or desk.admin) as tx:
        return tickets.view(tx, ref)


_KINDS = [("related_to", "related_to"), ("parent_of", "child_of"), ("child_of", "parent_of"),
          ("caused_by", "causes"), ("duplicate_of", "duplicated_by")]


# Every kind on SQLite, one on PostgreSQL: the inverse is a table in Python, and every kind is stored,
# read and removed by the same statements.
@pytest.mark.parametrize(
    ("kind", "inverse", "db_url"),
    [(*pair, "sqlite") for pair in _KINDS]
    + [pytest.param("parent_of", "child_of", "postgres", marks=pytest.mark.postgres)],
    indirect=["db_url"],
)
def test_links_are_stored_both_ways(desk, kind, inverse):
    a, b = make(desk, "A"), make(desk, "B")
    with desk.tx(desk.agent) as tx:
        links.link(tx, a.number, b.number, kind)
    assert [(x.kind, x.number) for x in show(desk, a.number).links] == [(kind, b.number)]
    assert [(x.kind, x.number) for x in show(desk, b.number).links] == [(inverse, a.number)]
    with desk.tx(desk.agent) as tx:
        links.unlink(tx, b.number, a.number)
    assert show(desk, a.number).links == () and show(desk, b.number).links == ()


def test_link_refuses_self_unknown_type_duplicates_and_cycles(desk):
    a, b, c = make(desk, "A"), make(desk, "B"), make(desk, "C")
    with pytest.raises(ValidationError):
        with desk.tx() as tx:
            links.link(tx, a.number, a.number)
    with pytest.raises(ValidationError):
        with desk.tx() as tx:
            links.link(tx, a.number, b.number, "blocks")
    with desk.tx() as tx:
        links.link(tx, a.number, b.number, "parent_of")
        links.link(tx, b.number, c.number, "parent_of")
    with pytest.raises(Conflict):
        with desk.tx() as tx:
            links.link(tx, a.number, b.number, "parent_of")
    with pytest.raises(ValidationError, match="cycle"):
        with desk.tx() as tx:
            links.link(tx, c.number, a.number, "parent_of")


def test_resolve_all_children_copies_the_parents_notes(desk):
    parent, c1, c2, done = make(desk, "Outage"), make(desk, "No VPN"), make(desk, "No mail"), make(desk, "Old")
    with desk.tx() as tx:
        for child in (c1, c2, done):
            links.link(tx, parent.number, child.number, "parent_of")
        tickets.resolve(tx, done.number, notes="unrelated fix")
        tickets.resolve(tx, parent.number, notes="Core switch replaced")
    with desk.tx(desk.agent) as tx:
        assert links.resolve_children(tx, parent.number) == [c1.number, c2.number]
    for child in (c1, c2):
        d = show(desk, child.number)
        assert d.state == "resolved" and d.resolution_notes == "Core switch replaced"
    assert show(desk, done.number).resolution_notes == "unrelated fix"


def test_merge_combines_threads_carries_participants_and_hides_the_child(desk):
    parent = make(desk, "Laptop broken", email="bob@acme.example")
    child = make(desk, "Laptop still broken", email="amy@acme.example", cc=["cto@acme.example"])
    with pytest.raises(PermissionDenied):  # the Agent role has no merge permission
        with desk.tx(desk.agent) as tx:
            links.merge(tx, parent.number, [child.number])
    with desk.tx(desk.supervisor) as tx:
        merged = links.merge(tx, parent.number, [child.number])
    assert merged.merged_children == (child.number,)
    assert set(merged.collaborators) == {"amy@acme.example", "cto@acme.example"}
    bodies = [i.body for i in merged.thread if i.kind == "message"]
    assert bodies == ["Laptop broken body", "Laptop still broken body"]
    kept = show(desk, child.number)
    assert kept.merged_into == parent.number and kept.state == "closed"
    with pytest.raises(Conflict):
        with desk.tx() as tx:
            links.merge(tx, parent.number, [child.number])
