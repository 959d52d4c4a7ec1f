"""Full-text search figures on a built desk: `python benchmarks/search.py URL-OR-PATH [--rare W] [--common W]`.

PATH is a SQLite file made by build_dataset.py and migrated (the migration indexes it); a URL
(postgresql+psycopg://...) measures that server. Each figure is the median of 5 runs (a case whose warm
run takes over --slow ms is run once more only) beside the floor measured in the same run (one ticket by
primary key).

The grid (issue 11: first page <= 100 ms, rare or common word, any filter):
- a rare and a common word under each filter (none, open states, department + open, assignee, tag,
  overdue), newest first, as the admin;
- both words under every sort (newest, oldest, updated, priority, due, relevance), no filter;
- both words as a plain agent (visibility), newest, updated and relevance;
- a phrase, `-word`, `prefix*` and two words;
- the exact count of a few of them (the app shows the page first; the count follows).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine, text

from tui_helpdesk.services import queries
from tui_helpdesk.services.context import Actor, reading
from tui_helpdesk.services.queries import TicketQuery

RUNS = 5
SORTS = ("newest", "oldest", "updated", "priority", "due", "relevance")


CPU: list[float] = []  # the CPU time (this process) of the last timed() call's runs, ms


def timed(fn: Callable[[], Any], slow_ms: float) -> tuple[float, int]:
    """(median ms, runs): the first run warms the cache (figures for a desk in use). The median CPU
    time of the same runs is left in CPU[0] (SQLite runs in this process: on a shared machine its CPU
    time is the steadier figure)."""
    t0 = time.perf_counter()
    fn()
    warm = (time.perf_counter() - t0) * 1000
    runs = 1 if warm > slow_ms else RUNS
    times, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    CPU[:] = [statistics.median(cpu)]
    return statistics.median(times), runs


def pick_words(engine: Any) -> tuple[str, str, int, int]:
    """A rare word (in a handful of rows) and the most common one, from the index's own vocabulary."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            common, n_common = conn.exec_driver_sql(
                "SELECT word, ndoc FROM ts_stat('SELECT doc FROM ticket_search WHERE mod(ticket_id, 50) = 0') "
                "ORDER BY ndoc DESC LIMIT 1").one()
            rare = conn.exec_driver_sql(
                "SELECT word FROM ts_stat('SELECT doc FROM ticket_search WHERE mod(ticket_id, 97) = 0') "
                # a letter first: a lexeme such as '-1000063' (from a number) reads as an exclusion when typed
                "WHERE ndoc = 1 AND length(word) > 5 AND word ~ '^[a-z]' ORDER BY word LIMIT 1").scalar()
            return rare, common, 1, n_common * 50
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab USING fts5vocab(main, search_fts, row)")
        common, n_common = conn.exec_driver_sql(
            "SELECT term, doc FROM temp.search_vocab ORDER BY doc DESC LIMIT 1"
        ).one()
        rare, n_rare = conn.exec_driver_sql(
            "SELECT term, doc FROM temp.search_vocab WHERE doc BETWEEN 2 AND 20 AND length(term) > 5 LIMIT 1"
        ).one()
    return rare, common, n_rare, n_common


def cases(rare: str, common: str, mid: str | None, dept: int, agent: int, tag: int
          ) -> list[tuple[str, str, TicketQuery, bool]]:
    """(label, who, query, also count)."""
    filters: list[tuple[str, dict[str, Any]]] = [
        ("no filter", {}),
        ("open", {"states": queries.OPEN_STATES}),
        ("dept + open", {"department_ids": (dept,), "states": queries.OPEN_STATES}),
        ("assignee", {"assignee_id": agent}),
        ("tag", {"tag_ids": (tag,)}),
        ("overdue", {"overdue": True}),
    ]
    out: list[tuple[str, str, TicketQuery, bool]] = []
    words = [("rare", rare), ("common", common)] + ([("mid", mid)] if mid else [])
    for word_label, word in words:
        for f_label, kw in filters:
            out.append((f"{word_label}, {f_label}, newest", "admin", TicketQuery(text=word, sort="newest", **kw),
                        f_label in ("no filter", "dept + open")))
        for sort in SORTS[1:]:
            out.append((f"{word_label}, no filter, {sort}", "admin", TicketQuery(text=word, sort=sort),
                        sort == "relevance"))
        for sort in ("newest", "updated", "relevance"):
            out.append((f"{word_label}, agent's scope, {sort}", "agent", TicketQuery(text=word, sort=sort), False))
    out += [
        ("phrase (2 common words)", "admin", TicketQuery(text=f'"{common} {common}"', sort="newest"), False),
        ("common -rare", "admin", TicketQuery(text=f"{common} -{rare}", sort="newest"), False),
        ("rare -common", "admin", TicketQuery(text=f"{rare} -{common}", sort="newest"), False),
        ("prefix of the rare word", "admin", TicketQuery(text=f"{rare[:5]}*", sort="newest"), True),
        ("common + prefix of the rare", "admin", TicketQuery(text=f"{common} {rare[:4]}*", sort="newest"), False),
    ]
    return out


ENTRY_BODY = ("Thanks for the quick answer. The printer on the third floor still shows the paper jam "
              "warning after the restart; I attached the log from this morning and a photo of the tray. "
              "Could someone from facilities look at it before Friday? Regards, Dana")


def write_costs(engine: Any, slow_ms: float) -> None:
    """The search index's share of adding one entry: an entry inserted (and committed) with the index's
    triggers and without them, on a small ticket and on the desk's largest recent one; each entry is
    deleted again afterwards (not timed)."""
    pg = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        small = conn.execute(text(
            "SELECT ticket_id FROM ticket_entry WHERE ticket_id > (SELECT max(id) - 1000 FROM ticket) "
            "GROUP BY ticket_id HAVING count(*) BETWEEN 3 AND 6 ORDER BY ticket_id DESC LIMIT 1")).scalar()
        big, n_big = conn.execute(text(
            "SELECT ticket_id, count(*) FROM ticket_entry WHERE ticket_id > (SELECT max(id) - 100 FROM ticket) "
            "GROUP BY ticket_id ORDER BY 2 DESC LIMIT 1")).one()
        n_small = conn.execute(text("SELECT count(*) FROM ticket_entry WHERE ticket_id = :t"), {"t": small}).scalar()
        if pg:
            triggers = [(name, None) for name in conn.execute(text(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'ticket_entry'::regclass AND tgname LIKE 'search%'"
            )).scalars()]
        else:
            triggers = conn.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'ticket_entry' "
                "AND name LIKE 'search%'")).all()
    insert = text(
        "INSERT INTO ticket_entry (ticket_id, kind, agent_id, body, body_format, recipients, time_spent, "
        "created_at) VALUES (:t, 'reply', (SELECT min(id) FROM agent), :b, 'markdown', '[]', 0, "
        "'2026-12-01 19:00:00') RETURNING id")

    def add(ticket: int) -> Callable[[], Any]:
        def go() -> None:
            with engine.begin() as conn:
                go.ids.append(conn.execute(insert, {"t": ticket, "b": ENTRY_BODY}).scalar())  # type: ignore[attr-defined]
        go.ids = []  # type: ignore[attr-defined]
        return go

    def clean(fn: Any) -> None:
        with engine.begin() as conn:
            for i in fn.ids:
                conn.execute(text("DELETE FROM ticket_entry WHERE id = :i"), {"i": i})

    def triggers_on(on: bool) -> None:
        with engine.begin() as conn:
            for name, sql in triggers:
                if pg:
                    conn.exec_driver_sql(f"ALTER TABLE ticket_entry {'ENABLE' if on else 'DISABLE'} TRIGGER {name}")
                else:
                    conn.exec_driver_sql(sql if on else f"DROP TRIGGER {name}")

    tickets = ((f"small ticket ({n_small} entries)", small), (f"large ticket ({n_big} entries)", big))
    results = {}
    for label, ticket in tickets:
        fn = add(ticket)
        results[("with", label)], _ = timed(fn, slow_ms)
        clean(fn)
    triggers_on(False)
    try:
        for label, ticket in tickets:
            fn = add(ticket)
            results[("without", label)], _ = timed(fn, slow_ms)
            clean(fn)
    finally:
        triggers_on(True)
    for label, _ in tickets:
        with_, without = results[("with", label)], results[("without", label)]
        print(f"{engine.dialect.name}: add an entry, {label:<28} {with_:8.2f} ms with the index, {without:8.2f} ms "
              f"without (floor): the index costs {with_ - without:7.2f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--rare")
    parser.add_argument("--common")
    parser.add_argument("--mid", help="a word in a few percent of the tickets (a third column of the grid)")
    parser.add_argument("--slow", type=float, default=800.0, help="run a case once more only when warm > this")
    parser.add_argument("--only", help="only the cases whose label contains this (alternatives split by |)")
    parser.add_argument("--no-freeze", action="store_true",
                        help="leave the start-up objects to the collector (the app freezes them: tui/startup.py)")
    parser.add_argument("--writes", action="store_true",
                        help="the index's cost of adding an entry (writes and deletes entries: a copy only)")
    args = parser.parse_args(argv)
    url = args.path if "://" in args.path else f"sqlite:///{args.path}"
    if args.writes:
        from tui_helpdesk.db import get_engine

        write_costs(get_engine(url, migrate=False), args.slow)
        return 0
    engine = create_engine(url)
    if args.rare and args.common:  # the vocabulary scan reads the whole index
        rare, common, n_rare, n_common = args.rare, args.common, 0, 0
    else:
        rare, common, n_rare, n_common = pick_words(engine)
        rare, common = args.rare or rare, args.common or common
    with engine.connect() as conn:
        tickets = conn.exec_driver_sql("SELECT count(*) FROM ticket").scalar()
        entries = conn.exec_driver_sql("SELECT count(*) FROM ticket_entry").scalar()
        mid = tickets // 2
        dept = conn.execute(text("SELECT department_id FROM ticket WHERE id = :i"), {"i": mid}).scalar()
        agent_id, agent_name = conn.exec_driver_sql(
            "SELECT id, username FROM agent WHERE NOT is_admin AND primary_department_id IS NOT NULL "
            "ORDER BY id LIMIT 1").one()
        tag = conn.exec_driver_sql(
            "SELECT tag_id FROM ticket_tag GROUP BY tag_id ORDER BY count(*) DESC LIMIT 1").scalar()
    print(f"{engine.dialect.name}: {tickets:,} tickets, {entries:,} entries; rare word {rare!r} (~{n_rare} rows), "
          f"common word {common!r} (~{n_common:,} rows), mid word {args.mid!r}; median of {RUNS}")
    actors = {"admin": Actor.system("cli"), "agent": Actor(agent_id, agent_name, False, "cli")}
    if not args.no_freeze:
        # as the app does once its first screen is up (tui/startup.py): what start-up built lives as
        # long as the process, and a full collection walking it costs ~100 ms CPU on this machine
        gc.collect()
        gc.freeze()

    def run(who: str, fn: Callable[[Any], Any]) -> Callable[[], Any]:
        def go() -> Any:
            with reading(engine, actors[who]) as tx:
                return fn(tx)
        return go

    floor, _ = timed(run("admin", lambda tx: tx.session.connection().execute(
        text("SELECT * FROM ticket WHERE id = :i"), {"i": mid}).all()), args.slow)
    floor_cpu = CPU[0]
    print(f"{'floor: one ticket by primary key':<46} {floor:8.2f} ms (cpu {floor_cpu:.2f} ms)")
    if engine.dialect.name == "sqlite" and (not args.only or "phrase" in args.only):
        # a phrase that occurs nowhere is only known to be absent once its words' rows are all read:
        # its floor is each of its words (here the common word, twice) counted on its own
        def read_whole() -> None:
            with engine.connect() as conn:
                for _ in range(2):
                    conn.exec_driver_sql("SELECT count(*) FROM search_fts WHERE search_fts MATCH ?", (f'"{common}"',))

        whole, _ = timed(read_whole, args.slow)
        print(f"{'floor of the phrase: its 2 words read whole':<46} {whole:8.2f} ms (cpu {CPU[0]:.2f} ms)")
    print(f"{'case':<46} {'page':>8}    {'x floor':>7}  rows  {'cpu':>8}  (count)")
    for label, who, q, with_count in cases(rare, common, args.mid, dept, agent_id, tag):
        if args.only and not any(part in label for part in args.only.split("|")):
            continue
        page, runs = timed(run(who, lambda tx, q=q: queries.fetch_page(tx, q, limit=50)), args.slow)
        with reading(engine, actors[who]) as tx:
            n_rows = len(queries.fetch_page(tx, q, limit=50).rows)
        line = f"{label:<46} {page:8.2f} ms {page / floor:7.0f}x  {n_rows:4}  {CPU[0]:8.2f}"
        if runs == 1:
            line += " (1 run)"
        if with_count:
            total, _ = timed(run(who, lambda tx, q=q: queries.count(tx, q)), args.slow)
            with reading(engine, actors[who]) as tx:
                n = queries.count(tx, q)
            line += f"  (count {n:,}: {total:.0f} ms)"
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
