"""A bulk action from the queue passes the version each row was seen at (issue 9: no lost update)."""

from __future__ import annotations

from tui_helpdesk import clock
from tui_helpdesk.services import bulk, door, queries, tickets
from tui_helpdesk.services.context import reading


def _tickets(desk, n: int):
    made = []
    for i in range(n):
        with desk.tx() as tx:
            made.append(tickets.create(tx, subject=f"Printer {i}", body="Jammed", contact_email="bob@acme.example",
                                       department="Support"))
    return made


def _rows(desk, actor):
    query = queries.sidebar_query("open", actor.agent_id, "updated")
    return door.read(desk.engine, actor, queries.fetch_page, query, None, 50).rows


def _assignee(desk, number: str) -> str:
    with reading(desk.engine) as tx:
        return tickets.view(tx, number).assignee_username


def test_rows_carry_the_version_they_were_read_at(desk):
    (t,) = _tickets(desk, 1)
    with desk.tx() as tx:
        tickets.set_tags(tx, t.number, ["paper"])
    (row,) = _rows(desk, desk.agent)
    assert row.version == t.version + 1


def test_a_ticket_changed_since_the_queue_showed_it_is_skipped_the_others_done(desk):
    a, b, c = _tickets(desk, 3)
    seen = _rows(desk, desk.agent)
    clock.set_now("2026-03-02T10:42:00Z")
    with desk.tx(desk.supervisor) as tx:
        tickets.set_tags(tx, b.number, ["urgent"])  # Sue changes one of them meanwhile

    result = bulk.run(desk.engine, desk.agent, seen,
                      lambda tx, tid, v: tickets.assign(tx, tid, "sam", expected_version=v))

    assert sorted(result.done) == sorted([a.number, c.number])
    assert result.skipped == (f"{b.number} changed by sue at 10:42",)
    assert result.failed == ()
    assert [_assignee(desk, t.number) for t in (a, b, c)] == ["sam", "", "sam"]


def test_a_refusal_that_is_not_a_stale_copy_is_reported_apart(desk):
    (a,) = _tickets(desk, 1)
    seen = _rows(desk, desk.agent)
    result = bulk.run(desk.engine, desk.agent, seen,
                      lambda tx, tid, v: tickets.assign(tx, tid, "nobody-here", expected_version=v))
    assert result.done == () and result.skipped == ()
    assert len(result.failed) == 1 and result.failed[0].startswith(f"{a.number}: ")
