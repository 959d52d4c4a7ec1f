"""Two agents answering one ticket: the composer asks which entries arrived since it opened."""

from __future__ import annotations

from tui_helpdesk import clock
from tui_helpdesk.services import tickets
from tui_helpdesk.services.context import reading


def test_newer_entries_names_who_replied_since_the_composer_opened(desk):
    with desk.tx() as tx:
        t = tickets.create(tx, subject="VPN", body="down", contact_email="bob@acme.example", department="Support")
    opened_at = t.last_entry_id
    assert opened_at > 0
    clock.advance(minutes=2)
    with desk.tx(desk.supervisor) as tx:
        tickets.reply(tx, t.number, "Looking at it")
        tickets.note(tx, t.number, "internal: not a reply")
    with reading(desk.engine, desk.agent) as tx:
        newer = tickets.newer_entries(tx, t.number, opened_at)
        assert tickets.newer_entries(tx, t.number, newer[-1].entry_id) == []
    assert [(n.author, n.kind, n.created_at) for n in newer] == [("Sue Super", "reply", clock.now())]


def test_a_merged_childs_newer_entry_is_the_parents_newest(desk):
    """The parent's thread shows its children's entries, so the composer's "newer since you opened" mark
    counts a child's entry that is newer than anything on the parent."""
    from tui_helpdesk.services import links

    with desk.tx() as tx:
        parent = tickets.create(tx, subject="VPN", body="down", contact_email="bob@acme.example",
                                department="Support")
        child = tickets.create(tx, subject="VPN again", body="still down", contact_email="eve@acme.example",
                               department="Support")
    clock.advance(minutes=1)
    with desk.tx() as tx:
        newest = tickets.note(tx, child.number, "the child's latest word").id
    with desk.tx() as tx:
        merged = links.merge(tx, parent.number, [child.number])
    assert newest > parent.last_entry_id
    assert merged.last_entry_id == newest
