"""Full-text search figures on a built desk: `python benchmarks/search.py PATH [--rare W] [--common W]`.

PATH is a SQLite file made by build_dataset.py and migrated (the migration indexes it). Each figure
is the median of 5 runs beside the floor measured in the same run (one ticket by primary key):
a rare and a common word, alone and with a filter (department and open states), the first page
(50 rows, newest first and by relevance) and the exact count.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import create_engine, text

from tui_helpdesk.services import queries
from tui_helpdesk.services.context import Actor, reading
from tui_helpdesk.services.queries import TicketQuery

RUNS = 5


def median_ms(fn: Callable[[], Any]) -> float:
    fn()  # warm the cache: figures for a desk in use
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def pick_words(engine: Any) -> tuple[str, str, int, int]:
    """A rare word (in a handful of tickets) and the most common one, from the index's own vocabulary."""
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab USING fts5vocab(main, search_fts, row)")
        common, n_common = conn.exec_driver_sql(
            "SELECT term, doc FROM temp.search_vocab ORDER BY doc DESC LIMIT 1"
        ).one()
        rare, n_rare = conn.exec_driver_sql(
            "SELECT term, doc FROM temp.search_vocab WHERE doc BETWEEN 2 AND 20 AND length(term) > 5 LIMIT 1"
        ).one()
    return rare, common, n_rare, n_common


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--rare")
    parser.add_argument("--common")
    args = parser.parse_args(argv)
    engine = create_engine(f"sqlite:///{args.path}")
    rare, common, n_rare, n_common = pick_words(engine)
    rare, common = args.rare or rare, args.common or common
    with engine.connect() as conn:
        tickets = conn.exec_driver_sql("SELECT count(*) FROM ticket").scalar()
        entries = conn.exec_driver_sql("SELECT count(*) FROM ticket_entry").scalar()
        mid = tickets // 2
        dept = conn.execute(text("SELECT department_id FROM ticket WHERE id = :i"), {"i": mid}).scalar()
    print(f"{tickets:,} tickets, {entries:,} entries; rare word {rare!r} (~{n_rare} tickets), "
          f"common word {common!r} (~{n_common:,} tickets)")
    admin = Actor.system("cli")

    def run(fn: Callable[[Any], Any]) -> Callable[[], Any]:
        def go() -> Any:
            with reading(engine, admin) as tx:
                return fn(tx)
        return go

    floor = median_ms(run(lambda tx: tx.session.connection().execute(
        text("SELECT * FROM ticket WHERE id = :i"), {"i": mid}).all()))
    print(f"{'floor: one ticket by primary key':<52} {floor:8.2f} ms")
    cases = [
        ("rare word", TicketQuery(text=rare, sort="newest")),
        ("common word", TicketQuery(text=common, sort="newest")),
        ("common word, dept + open", TicketQuery(text=common, sort="newest", department_ids=(dept,),
                                                 states=queries.OPEN_STATES)),
        ("rare word, dept + open", TicketQuery(text=rare, sort="newest", department_ids=(dept,),
                                               states=queries.OPEN_STATES)),
        ("two words and a prefix", TicketQuery(text=f"{common} {rare[:4]}*", sort="newest")),
        ("common word by relevance", TicketQuery(text=common, sort="relevance")),
        ("rare word by relevance", TicketQuery(text=rare, sort="relevance")),
    ]
    for label, q in cases:
        page = median_ms(run(lambda tx, q=q: queries.fetch_page(tx, q, limit=50)))
        total = median_ms(run(lambda tx, q=q: queries.count(tx, q)))
        with reading(engine, admin) as tx:
            n = queries.count(tx, q)
        print(f"{label + ': first page':<52} {page:8.2f} ms  ({page / floor:6.0f}x floor)")
        print(f"{label + f': count ({n:,})':<52} {total:8.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
