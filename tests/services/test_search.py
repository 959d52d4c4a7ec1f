"""Full-text search (services/search.py) through the queue's one door, on SQLite FTS5 and PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select, text, update

from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Organization, Ticket, TicketEntry
from tui_helpdesk.services import filter_query, links, queries, search, tickets
from tui_helpdesk.services.context import reading
from tui_helpdesk.services.queries import TicketQuery


@pytest.fixture
def found_desk(desk, db_url, built_once):
    """Four tickets with words in every field the search covers; made once per session and engine, then
    copied (tests/support/snapshots.py)."""
    return desk, tuple(built_once(db_url, "search-found", lambda: _found(desk)))


def _found(desk) -> tuple[str, str, str, str]:
    with desk.tx() as tx:
        a = tickets.create(tx, subject="Printer on fire", body="The toner smells of burnt café beans",
                           contact_email="alice@acme.example", contact_name="Alice Zebedee", department="Support")
        tickets.note(tx, a.number, "internal: suspect the quokka firmware")
        tickets.set_tags(tx, a.number, ["hardware"])
        b = tickets.create(tx, subject="VPN drops", body="The paper jam again, then the tunnel fell over",
                           contact_email="bob@globex.example", department="Support")
        tickets.reply(tx, b.number, "Please restart the concentrator")
        c = tickets.create(tx, subject="Invoice missing", body="paper invoice for March",
                           contact_email="carol@initech.example", department="Billing")
        d = tickets.create(tx, subject="Jam session", body="jam paper feeder", contact_email="dan@acme.example",
                           department="Support")
    with session_scope(desk.engine) as s:
        org = Organization(name="Umbrella Corp")
        s.add(org)
        s.flush()
        s.execute(update(Ticket).where(Ticket.number == c.number).values(organization_id=org.id))
    return a.number, b.number, c.number, d.number


def found(desk, text: str, actor=None, **kw) -> list[str]:
    with reading(desk.engine, actor or desk.admin) as tx:
        q = TicketQuery(text=text, **{"sort": "newest", **kw})
        rows = [r.number for r in queries.fetch_page(tx, q, limit=50).rows]
        assert queries.count(tx, q) == len(rows)
        return rows


def test_words_anywhere_in_the_ticket(found_desk):
    desk, (a, b, c, d) = found_desk
    assert found(desk, "toner") == [a]  # a message body
    assert found(desk, "concentrator") == [b]  # a reply
    assert found(desk, "quokka") == [a]  # a note, for agents
    assert found(desk, "alice@acme.example") == [a]  # the requester's email
    assert found(desk, "zebedee") == [a]  # the requester's name
    assert found(desk, "umbrella") == [c]  # the organization
    assert found(desk, "hardware") == [a]  # a tag
    assert found(desk, a) == [a]  # the number
    assert found(desk, a.split("-")[-1]) == [a]  # its digits
    assert found(desk, "printer toner") == [a]  # subject and body together


def test_order_phrase_exclusion_prefix_accents(found_desk):
    desk, (a, b, c, d) = found_desk
    assert found(desk, "paper") == [d, c, b]  # newest first
    assert found(desk, '"paper jam"') == [b]
    assert found(desk, "paper -invoice") == [d, b]
    assert found(desk, 'paper -"paper jam"') == [d, c]
    assert found(desk, "concentr*") == [b]
    assert found(desk, "cafe") == [a] and found(desk, "CAFÉ") == [a]
    assert found(desk, "jam", sort="relevance")[0] == d  # subject and body beat a body alone
    assert found(desk, "-paper") == [a]  # exclusion alone: everything else
    assert found(desk, "nothinglikethis") == []


def test_combined_with_filters_and_visibility(found_desk):
    desk, (a, b, c, d) = found_desk
    assert found(desk, "paper", department_ids=(_dept(desk, "Billing"),)) == [c]
    assert found(desk, "paper", actor=desk.agent) == [d, b]  # sam sees Support only
    assert found(desk, "invoice", actor=desk.outsider) == [c]
    assert found(desk, "toner", actor=desk.outsider) == []
    with reading(desk.engine, desk.admin) as tx:
        q = filter_query.resolve_text(tx.session, 'dept:Support "paper jam" sort:relevance', None)
        assert [r.number for r in queries.fetch_page(tx, q).rows] == [b]


def _dept(desk, name: str) -> int:
    from tui_helpdesk.models import Department

    with session_scope(desk.engine) as s:
        return s.execute(select(Department.id).where(Department.name == name)).scalar_one()


def test_customer_scope_never_matches_notes(found_desk):
    desk, (a, *_) = found_desk
    assert found(desk, "quokka", search_notes=False) == []
    assert found(desk, "toner quokka", search_notes=False) == []
    assert found(desk, "toner", search_notes=False) == [a]
    assert found(desk, "hardware", search_notes=False) == [a]


def test_keyset_pages_and_positions(found_desk):
    desk, (a, b, c, d) = found_desk
    for sort in ("newest", "relevance", "oldest"):
        with reading(desk.engine, desk.admin) as tx:
            q = TicketQuery(text="paper", sort=sort)
            first = queries.fetch_page(tx, q, limit=2)
            rest = queries.fetch_page(tx, q, after=first.next, limit=2)
            everything = [r.number for r in queries.fetch_page(tx, q, limit=10).rows]
            assert [r.number for r in first.rows + rest.rows] == everything and rest.at_end
            assert len(everything) == 3
            back = queries.fetch_page(tx, q, after=rest.prev, limit=2, backward=True)
            assert [r.number for r in back.rows] == everything[:2]
            assert queries.position_of(tx, q, rest.prev) == 2


def test_edits_deletes_redactions_and_merges_keep_the_index_in_step(found_desk):
    desk, (a, b, c, d) = found_desk
    with session_scope(desk.engine) as s:
        entry_id = s.execute(
            select(TicketEntry.id).where(TicketEntry.body.contains("concentrator"))
        ).scalar_one()
    with desk.tx() as tx:
        tickets.edit_entry(tx, entry_id, "Please reboot the flux capacitor")
    assert found(desk, "concentrator") == [] and found(desk, "capacitor") == [b]
    with desk.tx() as tx:
        tickets.delete_entry(tx, entry_id)
    assert found(desk, "capacitor") == []
    with session_scope(desk.engine) as s:
        message_id = s.execute(select(TicketEntry.id).where(TicketEntry.body.contains("toner"))).scalar_one()
    with desk.tx() as tx:
        tickets.redact_entry(tx, message_id, reason="personal data")
    assert found(desk, "toner") == [] and found(desk, "printer") == [a]
    with desk.tx() as tx:
        tickets.set_tags(tx, a, ["firmware"])
    assert found(desk, "hardware") == [] and found(desk, "firmware") == [a]
    with desk.tx() as tx:
        links.merge(tx, d, [b])
    # the merged child leaves the queue; its thread is now the parent's, and so are its words
    assert found(desk, "tunnel") == [d]
    assert found(desk, "tunnel", archived=None) == [d, b]


@pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_a_rebuilt_document_reads_the_thread_and_merged_threads_by_index(found_desk):
    """PostgreSQL rebuilds a ticket's document on an edit, a merge or a tag change (migration 0023): the
    thread was read with `ticket_id = t.id OR ticket_id IN (merged)`, a scan of every entry (seconds at
    5M). The rebuild reads by index, and a merged child's words are still in the parent's document."""
    desk, (a, b, c, d) = found_desk
    with desk.tx() as tx:
        links.merge(tx, d, [b])
    with desk.tx() as tx:
        tickets.set_tags(tx, d, ["printer"])  # rebuilds d's document
    assert found(desk, "tunnel concentrator printer") == [d]  # b's message and reply, d's tag
    with session_scope(desk.engine) as s:
        tid = s.execute(select(Ticket.id).where(Ticket.number == d)).scalar_one()
        s.execute(text("SET LOCAL enable_seqscan = off"))  # a scan that can be avoided is
        # this backend's counts not yet flushed, earlier transactions' included: the difference counts
        scans = text("SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relname = 'ticket_entry'")
        before = s.execute(scans).scalar_one()
        doc = s.execute(text("SELECT strip(ticket_search_doc(:t))::text"), {"t": tid}).scalar_one()
        after = s.execute(scans).scalar_one()
    assert {"'tunnel'", "'concentrator'", "'feeder'"} <= set(doc.split())
    assert after - before == 0


def test_words_of_only_punctuation_match_no_filter(found_desk):
    desk, numbers = found_desk
    assert len(found(desk, '* - ""')) == 4
    assert search.parse_words('-"a b" c* d') == (
        search.Item("a b", negated=True), search.Item("c", prefix=True), search.Item("d")
    )
    assert search.terms('-nope "paper jam" caf*') == ("paper", "jam", "caf")


def test_free_words_reach_the_query_as_typed_newest_first_unless_sorted(found_desk):
    desk, (a, b, c, d) = found_desk
    parsed = filter_query.parse('status:open "paper jam" -toner caf*')
    assert parsed.text == '"paper jam" -toner caf*'
    assert dataclasses.replace(parsed, search_text="").text == '"paper jam" -toner caf*'
    with reading(desk.engine, desk.admin) as tx:
        assert filter_query.resolve_text(tx.session, "paper", None).sort == "newest"
        updated = filter_query.resolve_text(tx.session, "paper sort:updated", None)
        assert updated.sort == "updated"
        # the queue's own scan, with the hits as a filter
        assert {r.number for r in queries.fetch_page(tx, updated).rows} == {b, c, d}
        assert queries.count(tx, updated) == 3


def test_a_thread_too_long_for_one_document_is_written_and_found_by_its_start(desk):
    """PostgreSQL's tsvector holds at most 1 MB: a 900 kB reply of distinct words was refused there
    (and mail that long quarantined). It is written; its first words are found; SQLite finds all of it."""
    words = [f"w{n:07x}q" for n in range(90_000)]  # 900 kB, distinct: each word a lexeme of its own
    with desk.tx() as tx:
        t = tickets.create(tx, subject="Pasted log", body="see below", contact_email="ops@acme.example",
                           department="Support")
        tickets.reply(tx, t.number, " ".join(words))
    assert found(desk, words[0]) == [t.number]
    assert found(desk, "pasted") == [t.number]
    if desk.engine.dialect.name == "sqlite":
        assert found(desk, words[-1]) == [t.number]


def test_a_new_entry_leaves_the_rest_of_the_tickets_index_as_it_was(found_desk):
    """Adding an entry costs the index that entry only (migration 0022): the ticket's document was
    rebuilt from its whole thread on every reply (20 ms a reply on a 500-entry ticket). A word put in
    the index by hand stays findable after a reply; a rebuild would have dropped it."""
    desk, (a, *_) = found_desk
    with session_scope(desk.engine) as s:
        tid = s.execute(select(Ticket.id).where(Ticket.number == a)).scalar_one()
        if desk.engine.dialect.name == "postgresql":
            s.execute(text("UPDATE ticket_search SET doc = doc || to_tsvector('simple', 'zzmarker') "
                           "WHERE ticket_id = :t"), {"t": tid})
        else:
            s.execute(text("UPDATE search_fts SET tags = 'zzmarker' WHERE rowid = :r"), {"r": tid * search.S})
    assert found(desk, "zzmarker") == [a]
    with desk.tx() as tx:
        tickets.reply(tx, a, "The new toner cartridge arrived")
        tickets.note(tx, a, "internal: billed to the wombat account")
    assert found(desk, "zzmarker") == [a]  # not rebuilt
    assert found(desk, "cartridge") == [a] and found(desk, "wombat") == [a]
    assert found(desk, "wombat", search_notes=False) == []
    assert found(desk, "cartridge zebedee quokka") == [a]  # a reply, the requester and a note together
    assert found(desk, '"toner cartridge"') == [a] and found(desk, '"quokka cartridge"') == []


# The three walks are SQLite's (PostgreSQL's planner picks its own): SQLite only, rather than a skip
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_each_way_of_reading_a_word_gives_the_same_hits(found_desk, monkeypatch):
    """The other sorts look a rare word's tickets up, test a commoner one's along the sort's scan, or
    probe each ticket for a common one: the same answers."""
    desk, (a, b, c, d) = found_desk
    support = _dept(desk, "Support")
    expected = {
        ("paper", "newest", ()): [d, c, b],
        ("paper", "oldest", ()): [b, c, d],
        ("paper -invoice", "newest", (support,)): [d, b],
        ("paper jam", "newest", (support,)): [d, b],
        ("paper", "updated", (support,)): None,
    }
    results = []
    for few, rare in ((2_000, 100_000), (0, 100_000), (0, 0)):
        monkeypatch.setattr(search, "FEW_ROWS", few)
        monkeypatch.setattr(search, "RARE_ROWS", rare)
        got = {k: found(desk, k[0], sort=k[1], department_ids=k[2]) for k in expected}
        results.append(got)
    assert results[0] == results[1] == results[2]
    for k, v in expected.items():
        if v is not None:
            assert results[0][k] == v, k
    assert set(results[0][("paper", "updated", (support,))]) == {b, d}


def _pages(desk, text: str, actor=None, **kw) -> list[str]:
    """Every hit, two rows a page (each page starts from the last one's cursor), checked
    against the same pages read backward from the end."""
    out: list[str] = []
    back: list[str] = []
    with reading(desk.engine, actor or desk.admin) as tx:
        q, after = TicketQuery(text=text, **kw), None
        while True:
            page = queries.fetch_page(tx, q, after=after, limit=2)
            out += [r.number for r in page.rows]
            if page.at_end:
                break
            after = page.next
        before = None
        while True:
            page = queries.fetch_page(tx, q, after=before, limit=2, backward=True)
            back = [r.number for r in page.rows] + back
            if page.at_start:
                break
            before = page.prev
    assert back == out
    return out


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # SQLite's walk, as above
def test_a_selective_filter_walks_its_own_tickets_with_the_same_hits(found_desk, monkeypatch):
    """A filter with an index of its own (assignee, tag, team, requester, organization) that admits few
    tickets is read whole and the walk goes through its tickets, each chunk probed or range-read for the
    word (a common word under an assignee read ~50k of the word's rows a page: 190-440 ms at 1M). The
    hits, their order, the pages and the actor's scope are those of the word's own walk."""
    desk, (a, b, c, d) = found_desk
    with desk.tx() as tx:
        for n in (b, c, d):
            tickets.set_tags(tx, n, ["paperwork"])
        tickets.assign(tx, b, agent=desk.supervisor.agent_id)
        tickets.assign(tx, d, agent=desk.supervisor.agent_id)
        tickets.assign(tx, c, agent=desk.outsider.agent_id)
    with session_scope(desk.engine) as s:
        tag = s.execute(text("SELECT id FROM tag WHERE name = 'paperwork'")).scalar_one()
        contact = s.execute(select(Ticket.contact_id).where(Ticket.number == d)).scalar_one()
    sue, billing = desk.supervisor.agent_id, desk.outsider.agent_id
    cases = {
        ("paper", "newest", "admin", (("tag_ids", (tag,)),)): [d, c, b],
        ("paper", "oldest", "admin", (("tag_ids", (tag,)),)): [b, c, d],
        ("paper", "newest", "admin", (("assignee_id", sue),)): [d, b],
        ("paper", "newest", "admin", (("assignee_id", billing),)): [c],
        ("paper", "newest", "agent", (("assignee_id", billing),)): [],  # a Billing ticket: out of scope
        ("paper", "newest", "admin", (("contact_id", contact), ("tag_ids", (tag,)))): [d],
        ("paper -invoice", "newest", "admin", (("tag_ids", (tag,)),)): [d, b],
        ("paper jam", "oldest", "admin", (("tag_ids", (tag,)), ("assignee_id", sue))): [b, d],
        ("paper", "relevance", "admin", (("tag_ids", (tag,)),)): None,
    }

    def run() -> dict:
        return {k: _pages(desk, k[0], getattr(desk, k[2]), sort=k[1], **dict(k[3])) for k in cases}

    monkeypatch.setattr(search, "POOL_CAP", -1)  # no pool: the word's own walk
    expected = run()
    monkeypatch.setattr(search, "POOL_CAP", 25_000)
    monkeypatch.setattr(search, "FEW_ROWS", 0)  # no word is rare enough to skip the pool
    monkeypatch.setattr(search, "POOL_CHUNK", 1)
    walked = []
    for range_us, probe_us in ((1e9, 1.0), (1.0, 1e9)):  # every chunk probed, then every chunk range-read
        monkeypatch.setattr(search, "RANGE_US", range_us)
        monkeypatch.setattr(search, "PROBE_US", probe_us)
        walked.append(run())
    assert walked[0] == walked[1] == expected
    for k, v in cases.items():
        if v is not None:
            assert expected[k] == v, k
    assert sorted(expected[("paper", "relevance", "admin", (("tag_ids", (tag,)),))]) == sorted([b, c, d])


def test_relevance_ranks_the_newest_hits_then_lists_the_rest_newest_first(found_desk, monkeypatch):
    """A word in every ticket was scored for every ticket for one page (7.9 s at 1M): the newest
    RELEVANCE_CAP hits are ranked, the rest follow newest first; paging and positions agree."""
    desk, (a, b, c, d) = found_desk
    with desk.tx() as tx:
        e = tickets.create(tx, subject="Paper paper paper", body="paper", contact_email="eve@acme.example",
                           department="Support").number
    if desk.engine.dialect.name == "sqlite":
        monkeypatch.setattr(search, "RELEVANCE_CAP", 2)
    everything = found(desk, "paper", sort="relevance")
    assert sorted(everything) == sorted([b, c, d, e])
    if desk.engine.dialect.name == "sqlite":
        assert everything[0] == e and set(everything[:2]) == {e, d} and everything[2:] == [c, b]
    with reading(desk.engine, desk.admin) as tx:
        q = TicketQuery(text="paper", sort="relevance")
        pages, after = [], None
        while True:
            page = queries.fetch_page(tx, q, after=after, limit=1)
            pages += [r.number for r in page.rows]
            if page.at_end:
                break
            after = page.next
            assert queries.position_of(tx, q, after) == len(pages) - 1
        assert pages == everything
        last = queries.fetch_page(tx, q, limit=3, backward=True)
        assert [r.number for r in last.rows] == everything[-3:]
        back = queries.fetch_page(tx, q, after=last.prev, limit=3, backward=True)
        assert [r.number for r in back.rows] == everything[:1]


def test_an_existing_desk_is_indexed_again_by_the_migration(found_desk):
    desk, (a, b, c, d) = found_desk
    from alembic import command

    from tui_helpdesk import db

    with desk.tx() as tx:
        links.merge(tx, d, [b])
    cfg = db.alembic_config(desk.engine)
    command.downgrade(cfg, "0021")
    command.upgrade(cfg, "head")
    assert found(desk, "quokka") == [a] and found(desk, "quokka", search_notes=False) == []
    assert found(desk, "tunnel umbrella") == [] and found(desk, "tunnel") == [d]
    assert found(desk, "paper", archived=None) == [d, c, b]
    with desk.tx() as tx:
        tickets.reply(tx, c, "The tunnel invoice is attached")
    assert found(desk, "tunnel umbrella") == [c]
