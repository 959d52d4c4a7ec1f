"""Full-text search: the queue's free words, on SQLite FTS5 or PostgreSQL tsvector, behind one call.

    printer "paper jam" -toner cafe* sort:relevance

Words must all occur somewhere in the ticket (subject, number, any thread entry, requester name or
email, organization, tags); a quoted phrase must occur as written; `-word` (or `-"a phrase"`) excludes;
`word*` matches by prefix. Accents and case are ignored ("cafe" finds "café").

The index (migrations 0012, 0022), kept in step by triggers:
- SQLite: FTS5 table search_fts with one row per ticket (number, subject, requester, organization, tags)
  and one per thread entry; rowid = ticket id * 2^32 + entry id, so a ticket's rows are one rowid range
  and the index's order is the tickets' order. Adding an entry adds one row. A ticket matches when each
  word (or phrase, within one row) matches one of its rows and no excluded one matches any.
- PostgreSQL: one tsvector per ticket (GIN), a new entry appended to it.
Internal notes are a separate column (SQLite) or weight D (PostgreSQL): `TicketQuery.search_notes=False`
(a customer-facing search) leaves them out, so a note's words never find a ticket there.

queries.fetch_page/count/position_of call this module when the query has free words, so the app,
the CLI and any later face get the same answers with the same filters and visibility.
Order: newest ticket first (filter_query makes it the default when words are typed; ticket ids grow
with time). On SQLite a page reads the rarest word's rows in index order, in growing chunks, and
checks each chunk's tickets against the other words and the filters (_Walk). `sort:relevance` ranks
the newest RELEVANCE_CAP hits (SQLite: _relevance, where the words are and how many entries mention
them; PostgreSQL: ts_rank_cd) and lists the rest after them newest first. The other sorts (updated,
priority, due) use the queue's own scan with the words as conditions: a rare word's tickets looked up,
a commoner one's hits tested along the scan, a common one probed ticket by ticket. Counts read each
word's hits once (the app shows the page before its count).
"""

from __future__ import annotations

import bisect
import json
import math
import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    any_,
    bindparam,
    cast,
    column,
    exists,
    func,
    select,
    table,
    text,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.selectable import Join

from tui_helpdesk.models import Ticket, TicketTag

from . import queries, visibility
from .context import Tx

# Sorts this module orders itself; the rest go through the queue's keyset scan.
SEARCH_SORTS = ("newest", "oldest", "relevance")
# the columns a customer-facing search reads (notes left out)
_PUBLIC_COLUMNS = "{head people tags public}"

T = Ticket.__table__.c
_PG = table("ticket_search", column("ticket_id", Integer), column("doc"))

_TOKEN = re.compile(r'(-?)"([^"]*)"?(\*?)|(\S+)')
_WORD = re.compile(r"\w", re.UNICODE)
_LEXEME = re.compile(r"'(?:[^']|'')*'")


@dataclass(frozen=True)
class Item:
    """One free word or quoted phrase."""

    text: str
    negated: bool = False
    prefix: bool = False


def parse_words(text: str) -> tuple[Item, ...]:
    """The free words as typed: phrases in quotes, `-` excludes, a trailing `*` is a prefix."""
    items: list[Item] = []
    for m in _TOKEN.finditer(text or ""):
        if m.group(4) is not None:
            word = m.group(4)
            negated = word.startswith("-") and len(word) > 1
            word = word[1:] if negated else word
            prefix = word.endswith("*")
            word = word.rstrip("*").replace('"', "")
        else:
            negated, word, prefix = bool(m.group(1)), m.group(2), bool(m.group(3))
        if _WORD.search(word):
            items.append(Item(word, negated, prefix))
    return tuple(items)


def terms(text: str) -> tuple[str, ...]:
    """The words a match is made of, for highlighting (excluded words are not shown)."""
    out: list[str] = []
    for item in parse_words(text):
        if not item.negated:
            out.extend(w for w in re.findall(r"\w+", item.text))
    return tuple(dict.fromkeys(out))


def fold(text: str) -> str:
    """Lower case without accents, one character for one (so positions map back to the text)."""
    out = []
    for ch in text:
        base = unicodedata.normalize("NFKD", ch)
        base = "".join(c for c in base if not unicodedata.combining(c)) or ch
        out.append(base[0].lower() if len(base[0].lower()) == 1 else ch)
    return "".join(out)


def spans(text: str, words: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where the words (as prefixes of a word, accents and case ignored) occur in `text`."""
    if not words or not text:
        return []
    folded = fold(text)
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(fold(w)) for w in sorted(words, key=len, reverse=True)) + ")")
    return [(m.start(), m.end()) for m in pattern.finditer(folded)]


# --- the match, per engine -------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """A compiled search: `positive` False when the words only exclude (no index order to walk).

    `query` is the whole search as one engine expression (the tsquery on PostgreSQL; on SQLite the
    MATCH text for a table with one row per document, as the knowledge base's). SQLite's search_fts
    holds one row per ticket and one per entry (migration 0022), so there `plus` and `minus` are the
    items one by one: a ticket matches when each `plus` item matches one of its rows and no `minus`
    item matches any."""

    postgres: bool
    query: str
    positive: bool
    plus: tuple[str, ...] = ()
    minus: tuple[str, ...] = ()
    heads: tuple[str, ...] = ()  # each `plus` item in the subject and number only (for relevance)


def _fts5_string(item: Item) -> str:
    quoted = '"' + item.text.replace('"', '""') + '"'
    return quoted + " *" if item.prefix else quoted


def _sqlite_match(items: tuple[Item, ...], notes: bool) -> Match | None:
    plus = [_fts5_string(i) for i in items if not i.negated]
    minus = [_fts5_string(i) for i in items if i.negated]
    if not plus and not minus:
        return None
    if plus:
        expr = "(" + " AND ".join(plus) + ")" + "".join(f" NOT {m}" for m in minus)
    else:  # only exclusions: find the tickets to leave out
        expr = " OR ".join(minus)

    def scoped(e: str) -> str:
        return e if notes else f"{_PUBLIC_COLUMNS} : ({e})"

    heads = tuple(f"{{head}} : ({p})" for p in plus)
    return Match(False, scoped(expr), bool(plus), tuple(map(scoped, plus)), tuple(map(scoped, minus)), heads)


def _pg_match(conn: Connection, items: tuple[Item, ...], notes: bool) -> Match | None:
    # The server's own parser splits the words (emails, hosts and hyphenated words are lexemes of
    # their own there), so the query is made by it and only decorated here.
    rows = conn.execute(
        text(
            "SELECT phraseto_tsquery('simple', helpdesk_unaccent(x))::text FROM unnest(CAST(:xs AS text[]))"
            " WITH ORDINALITY AS u(x, n) ORDER BY n"
        ),
        {"xs": [i.text for i in items]},
    ).scalars()
    weights = "" if notes else "ABC"
    plus: list[str] = []
    minus: list[str] = []
    for item, q in zip(items, rows, strict=True):
        if not q:
            continue
        found = list(_LEXEME.finditer(q))
        if not found:
            continue
        parts, last = [], 0
        for k, m in enumerate(found):
            star = "*" if item.prefix and k == len(found) - 1 else ""
            suffix = f":{star}{weights}" if (star or weights) else ""
            parts.append(q[last : m.end()] + suffix)
            last = m.end()
        parts.append(q[last:])
        (minus if item.negated else plus).append("(" + "".join(parts) + ")")
    if not plus and not minus:
        return None
    if plus:
        expr = " & ".join(plus) + "".join(f" & !{m}" for m in minus)
    else:
        expr = " | ".join(minus)
    return Match(True, expr, bool(plus))


def compile_match(conn: Connection, text_: str, notes: bool = True) -> Match | None:
    """The engine's query for the free words, or None when they hold nothing to search for."""
    items = parse_words(text_)
    if not items:
        return None
    if conn.dialect.name == "postgresql":
        return _pg_match(conn, items, notes)
    return _sqlite_match(items, notes)


# --- SQLite: a ticket's rows are one rowid range of search_fts ----------------------------------------

S = 1 << 32  # rowid = ticket id * S + (0 for the ticket's own row, else the entry id): migration 0022
# The non-id sorts read a word's rows whole when it has at most RARE_ROWS (reading rows is cheap:
# ~0.25 us each): up to FEW_ROWS its tickets are looked up and sorted, beyond that the sort's own scan
# tests membership and stops at the page. A commoner word is probed ticket by ticket along the scan.
FEW_ROWS = 2_000
RARE_ROWS = 100_000
# A candidate set spread over more than this many ids per ticket is checked ticket by ticket (a probe
# each, ~50 us) instead of by reading the word's rows over the whole span.
DENSE = 16
# `sort:relevance` ranks the newest this many hits (_relevance); the rest follow them newest first. A
# word in every ticket would otherwise be scored a million times for one page (7.9 s at 1M tickets).
RELEVANCE_CAP = 1000
# A filter with an index of its own (assignee, team, requester, organization, tag) admitting few tickets
# is read whole as the walk's pool: the walk then goes through the pool's ids and checks each chunk of
# them against the word, instead of reading the word's tickets until enough of them pass the filter (a
# page needs ~50 / the filter's share of them: a common word under an assignee read ~12k, 190-440 ms at
# 1M). Reading the pool costs ~1 us a ticket and the word's walk ~5 us a ticket it reads, so the pool
# pays when it holds fewer than sqrt(POOL_SCALE * tickets) (16k at 1M: an organization's 2.8k tickets
# 69 -> 21 ms CPU, but a team's 20k 16 -> 55 ms), and never more than POOL_CAP.
POOL_CAP = 25_000
POOL_SCALE = 250
POOL_CHUNK = 64  # the pool's first chunk (doubling after)
# Costs on the 1M desk (us, CPU): a word's rows read over an id range cost RANGE_US to start and ROW_US a
# row; a ticket probed for the word costs PROBE_US. A chunk of the pool is checked the cheaper way.
RANGE_US, ROW_US, PROBE_US = 100.0, 0.5, 60.0


def _probe(expr: str, name: str, negated: bool = False) -> ColumnElement[bool]:
    """The ticket of the outer query has a row matching `expr` (NOT: has none)."""
    return text(
        f"{'NOT ' if negated else ''}EXISTS (SELECT 1 FROM search_fts WHERE search_fts MATCH :{name} "
        f"AND search_fts.rowid >= ticket.id * {S} AND search_fts.rowid < (ticket.id + 1) * {S})"
    ).bindparams(**{name: expr})


def _hit_set(expr: str, name: str, negated: bool = False) -> ColumnElement[bool]:
    """ticket.id IN (every ticket with a row matching `expr`): one pass over the word's rows."""
    return text(
        f"ticket.id {'NOT ' if negated else ''}IN (SELECT rowid >> 32 FROM search_fts WHERE search_fts MATCH :{name})"
    ).bindparams(**{name: expr})


def _rows_upto(conn: Connection, expr: str, n: int) -> list[int]:
    return [r[0] for r in conn.exec_driver_sql(
        "SELECT rowid FROM search_fts WHERE search_fts MATCH ? LIMIT ?", (expr, n))]


def _count_upto(conn: Connection, expr: str, n: int) -> int:
    return int(conn.exec_driver_sql(
        "SELECT count(*) FROM (SELECT rowid FROM search_fts WHERE search_fts MATCH ? LIMIT ?)", (expr, n)).scalar())


def _driver(conn: Connection, m: Match) -> int:
    """The item to walk: the one with the fewest rows (counted up to a small bound)."""
    if len(m.plus) == 1:
        return 0
    sizes = [_count_upto(conn, p, 2000) for p in m.plus]
    return sizes.index(min(sizes))


def _sqlite_condition(conn: Connection, m: Match, counting: bool) -> list[ColumnElement[bool]]:
    minus = [_probe(x, f"search_x{k}", negated=True) if not counting else _hit_set(x, f"search_x{k}", True)
             for k, x in enumerate(m.minus)]
    if counting or not m.plus:
        return [_hit_set(p, f"search_p{k}") for k, p in enumerate(m.plus)] + minus
    d = _driver(conn, m)
    n_rows = _count_upto(conn, m.plus[d], RARE_ROWS + 1)
    conds: list[ColumnElement[bool]] = []
    if n_rows <= FEW_ROWS:  # looked up by primary key, then sorted
        tids = sorted({r >> 32 for r in _rows_upto(conn, m.plus[d], FEW_ROWS + 1)})
        conds.append(T.id.in_(bindparam("search_ids", tids, expanding=True)))
    elif n_rows <= RARE_ROWS:
        # `+ 0`: a membership test along the sort's index (which stops at the page), not a lookup per hit
        conds.append(text(
            "ticket.id + 0 IN (SELECT rowid >> 32 FROM search_fts WHERE search_fts MATCH :search_p0)"
        ).bindparams(search_p0=m.plus[d]))
    else:
        conds.append(_probe(m.plus[d], "search_p0"))
    conds += [_probe(p, f"search_p{k + 1}") for k, p in enumerate(m.plus) if k != d]
    return conds + minus


def _having(conn: Connection, expr: str, tids: list[int], density: float | None = None) -> set[int]:
    """The tickets among `tids` with a row matching `expr`: the word's rows over their id range read
    once, or each ticket probed. `density` (the word's rows per ticket id, when known) prices the two;
    without it a range that is dense enough in `tids` is read."""
    if not tids:
        return set()
    lo, hi = min(tids), max(tids)
    span = hi - lo + 1
    if span <= DENSE * len(tids) if density is None else RANGE_US + density * span * ROW_US <= PROBE_US * len(tids):
        # the rows of tickets not asked about are dropped in SQL: returning a row to Python costs ~1 us,
        # reading it ~0.15 us
        found = conn.exec_driver_sql(
            "SELECT DISTINCT rowid >> 32 FROM search_fts WHERE search_fts MATCH ? AND rowid >= ? AND rowid < ? "
            "AND rowid >> 32 IN (SELECT value FROM json_each(?))", (expr, lo * S, (hi + 1) * S, json.dumps(tids)))
        return {r[0] for r in found}
    found = conn.exec_driver_sql(
        "SELECT j.value FROM json_each(?) j WHERE EXISTS (SELECT 1 FROM search_fts WHERE search_fts MATCH ? "
        f"AND search_fts.rowid >= j.value * {S} AND search_fts.rowid < (j.value + 1) * {S})",
        (json.dumps(tids), expr))
    return {r[0] for r in found}


class _IdsFirst(Join):
    """A list of ids joined to their tickets, the list read first (see _cross_join)."""

    inherit_cache = True


@compiles(_IdsFirst, "sqlite")
def _cross_join(element: _IdsFirst, compiler: Any, **kw: Any) -> str:
    # SQLite's CROSS JOIN keeps the left table outer. Without it the planner may walk a ticket index
    # for the filters (archived, state) and test each ticket against the list: 0.9 s at 1M tickets.
    return compiler.visit_join(element, **kw).replace(" JOIN ", " CROSS JOIN ", 1)


class _RowidRange(Join):
    """The ticket table read by its rowid range only (NOT INDEXED), after a one-row list."""

    inherit_cache = True


@compiles(_RowidRange, "sqlite")
def _not_indexed(element: _RowidRange, compiler: Any, **kw: Any) -> str:
    # With an id range and the default filters (archived, merged) the planner took an index on them
    # and read every ticket it holds: 340 ms for a range of 300 tickets, under 1 ms by the range.
    return compiler.visit_join(element, **kw).replace(" JOIN ticket ", " CROSS JOIN ticket NOT INDEXED ", 1)


def _in_range(conn: Connection, conds: list[ColumnElement[bool]], lo: int, hi: int) -> set[int]:
    """The tickets with ids in [lo, hi] that pass the filters, read along the range."""
    one = func.json_each(bindparam("search_one", "[0]")).table_valued("value")
    stmt = select(T.id).select_from(_RowidRange(one, Ticket.__table__, true())).where(*conds, T.id >= lo, T.id <= hi)
    return set(conn.execute(stmt).scalars())


def _passing(conn: Connection, conds: list[ColumnElement[bool]], tids: list[int]) -> set[int]:
    """The tickets among `tids` that pass the filters."""
    if not tids:
        return set()
    if not conds:
        return set(tids)
    ids = func.json_each(bindparam("search_tids")).table_valued("value")
    stmt = select(T.id).select_from(_IdsFirst(ids, Ticket.__table__, T.id == ids.c.value)).where(*conds)
    return set(conn.execute(stmt, {"search_tids": json.dumps(tids)}).scalars())


class _Walk:
    """Matching tickets in id order: the driver word's rows read in index order (ticket order) in
    growing chunks (reading rows is cheap: 34k rows in 8 ms at 1M tickets), each chunk's tickets
    checked against the filters by reading the chunk's id range or by primary key. Everything past
    the frontier is decided. A per-ticket index probe costs ~130 us, so none is made here.

    With a `pool` (the ids, ascending, of every ticket a selective filter admits: _pool) the walk goes
    through the pool instead, a growing chunk of its ids at a time, each chunk checked against the driver
    word the cheaper way (_having, priced by the word's density among the newest tickets)."""

    def __init__(self, conn: Connection, m: Match, conds: list[ColumnElement[bool]], desc: bool,
                 start: int | None, end: int | None, pool: list[int] | None = None) -> None:
        self.conn, self.m, self.conds, self.desc, self.pool = conn, m, conds, desc, pool
        d = _driver(conn, m)
        self.driver = m.plus[d]
        self.others = [p for k, p in enumerate(m.plus) if k != d]
        top = int(conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM ticket").scalar()) + 1
        if start is None:
            start = top if desc else 0
        if end is None:
            end = 0 if desc else top
        self.frontier, self.end = start, end  # both exclusive
        self.chunk = 256 if pool is None else POOL_CHUNK
        # the driver's rows per ticket read so far and the tickets whose own row matched (relevance);
        # plain ints, not a list per ticket: tens of thousands of small containers woke the collector
        self.counts: dict[int, int] = {}
        self.own: set[int] = set()
        self.density = 0.0
        if pool is not None:
            newest = [r for (r,) in conn.exec_driver_sql(
                "SELECT rowid FROM search_fts WHERE search_fts MATCH ? ORDER BY rowid DESC LIMIT 256",
                (self.driver,))]
            if newest:
                self.density = len(newest) / max(1, top - (newest[-1] >> 32))

    def _pool_step(self) -> list[int]:
        pool, n = self.pool, self.chunk
        assert pool is not None
        if self.desc:
            i, j = bisect.bisect_right(pool, self.end), bisect.bisect_left(pool, self.frontier)
            chunk = pool[max(i, j - n):j]
            self.frontier = chunk[0] if j - i > n else self.end
            chunk.reverse()
        else:
            i, j = bisect.bisect_right(pool, self.frontier), bisect.bisect_left(pool, self.end)
            chunk = pool[i:min(j, i + n)]
            self.frontier = chunk[-1] if j - i > n else self.end
        cands = _having(self.conn, self.driver, chunk, self.density)
        cands = self._filtered(sorted(cands)) if cands else cands
        return self._rest(chunk, cands)

    def _rest(self, tids: list[int], cands: set[int]) -> list[int]:
        """Of `cands`, those with every other word and none excluded, in the order of `tids`."""
        for expr in self.others:
            cands = _having(self.conn, expr, sorted(cands)) if cands else cands
        if self.m.minus and cands:
            for expr in self.m.minus:
                cands -= _having(self.conn, expr, sorted(cands))
        return [t for t in tids if t in cands]

    def _step(self) -> list[int]:
        if self.pool is not None:
            return self._pool_step()
        n = self.chunk
        if self.desc:
            rows = self.conn.exec_driver_sql(
                "SELECT rowid FROM search_fts WHERE search_fts MATCH ? AND rowid < ? AND rowid >= ? "
                "ORDER BY rowid DESC LIMIT ?", (self.driver, self.frontier * S, (self.end + 1) * S, n)).all()
        else:
            rows = self.conn.exec_driver_sql(
                "SELECT rowid FROM search_fts WHERE search_fts MATCH ? AND rowid >= ? AND rowid < ? "
                "ORDER BY rowid ASC LIMIT ?", (self.driver, (self.frontier + 1) * S, self.end * S, n)).all()
        tids: list[int] = []
        counts, own = self.counts, self.own
        for (r,) in rows:
            t = r >> 32
            seen = counts.get(t)
            if seen is None:
                tids.append(t)
                counts[t] = 1
            else:
                counts[t] = seen + 1
            if r & (S - 1) == 0:
                own.add(t)
        self.frontier = tids[-1] if len(rows) == n else self.end
        return self._rest(tids, self._filtered(tids))

    def _filtered(self, tids: list[int]) -> set[int]:
        if not tids or not self.conds:
            return set(tids)
        lo, hi = min(tids), max(tids)
        # A range of tickets reads ~1 us a ticket, a lookup by primary key ~12 us: read the chunk's
        # range when the hits are dense in it (a common word), else look them up.
        if hi - lo + 1 <= 12 * len(tids):
            return _in_range(self.conn, self.conds, lo, hi) & set(tids)
        return _passing(self.conn, self.conds, tids)

    def take(self, n: int) -> list[int]:
        out: list[int] = []
        while len(out) < n and self.frontier != self.end:
            out.extend(self._step())
            self.chunk = min(self.chunk * 2, 16384)
        return out[:n]


def _relevance(conn: Connection, m: Match, walk: _Walk, ids: list[int]) -> dict[int, float]:
    """Each ticket's score: per word 10 for the subject or number, 4 for the requester, organization
    or tags, plus log2(1 + the entries that mention it). bm25 is not used: its IDF reads the word's
    whole doclist for every statement (a common word's relevance page took 3-10 s)."""
    lo, hi = min(ids), max(ids)
    wanted = set(ids)
    total = dict.fromkeys(ids, 0.0)
    for expr, head in zip(m.plus, m.heads, strict=True):
        if expr == walk.driver and walk.pool is None:
            counts = {t: [v, int(t in walk.own)] for t, v in walk.counts.items() if t in wanted}
        else:
            counts = {int(t): [int(c), int(own)] for t, c, own in conn.exec_driver_sql(
                f"SELECT rowid >> 32, count(*), max((rowid & {S - 1}) = 0) FROM search_fts "
                "WHERE search_fts MATCH ? AND rowid >= ? AND rowid < ? GROUP BY 1", (expr, lo * S, (hi + 1) * S))
                if t in wanted}
        in_head = {int(t) for (t,) in conn.exec_driver_sql(
            "SELECT rowid >> 32 FROM search_fts WHERE search_fts MATCH ? AND rowid >= ? AND rowid < ?",
            (head, lo * S, (hi + 1) * S)) if t in wanted}
        for t, (n_rows, own) in counts.items():
            total[t] += (10.0 if t in in_head else 4.0 * own) + math.log2(1 + n_rows - own)
    return total


@dataclass(frozen=True)
class _Ranked:
    """`sort:relevance`: the newest RELEVANCE_CAP hits by score, then (when there are more) the hits
    below `boundary` newest first."""

    keys: list[tuple[float, int]]  # (score, id), best first
    boundary: int | None  # None: every hit is ranked


def _ids(conn: Connection, m: Match, conds: list[ColumnElement[bool]], desc: bool,
         start: int | None, end: int | None, n: int, pool: list[int] | None = None) -> list[int]:
    """Up to n hits in id order, strictly between `start` and `end` (None: unbounded)."""
    if not m.postgres:
        return _Walk(conn, m, conds, desc, start, end, pool).take(n)
    key, _ = _hits(m)
    few = _pg_few(conn, m)
    stmt = _joined(m, key).where(*conds) if few is None else select(T.id).where(T.id.in_(few), *conds)
    key = key if few is None else T.id
    if start is not None:
        stmt = stmt.where(key < start if desc else key > start)
    if end is not None:
        stmt = stmt.where(key > end if desc else key < end)
    return [int(i) for (i,) in conn.execute(stmt.order_by(key.desc() if desc else key.asc()).limit(n))]


def _ranked(conn: Connection, m: Match, conds: list[ColumnElement[bool]], pool: list[int] | None = None
            ) -> _Ranked:
    walk = _Walk(conn, m, conds, True, None, None, pool) if not m.postgres else None
    ids = walk.take(RELEVANCE_CAP + 1) if walk else _ids(conn, m, conds, True, None, None, RELEVANCE_CAP + 1)
    boundary = ids[RELEVANCE_CAP - 1] if len(ids) > RELEVANCE_CAP else None
    ids = ids[:RELEVANCE_CAP]
    if not ids:
        return _Ranked([], None)
    total = dict.fromkeys(ids, 0.0)
    if walk is None:
        from sqlalchemy.dialects.postgresql import ARRAY  # PostgreSQL only: the dialect costs SQLite's start

        stmt = select(_PG.c.ticket_id, _score(m)).where(_PG.c.ticket_id == any_(bindparam("search_ids", ids,
                                                                                           type_=ARRAY(Integer))))
        for t, score in conn.execute(stmt):
            total[int(t)] = float(score)
    else:
        total = _relevance(conn, m, walk, ids)
    keys = sorted(((round(v, 9), t) for t, v in total.items()), reverse=True)
    return _Ranked(keys, boundary)


def _page_keys(
    conn: Connection, q: queries.TicketQuery, m: Match, conds: list[ColumnElement[bool]],
    after: queries.Cursor | None, limit: int, backward: bool, pool: list[int] | None = None,
) -> list[tuple[tuple[Any, ...], int]]:
    """(values, id) of up to limit+1 hits past `after`, in traversal order; with a `pool` (_pool), the
    hits are among its ids and `conds` are the filters it leaves to check."""
    n = limit + 1
    if q.sort != "relevance":
        forward_desc = (q.sort != "oldest") != backward
        return [((), i) for i in _ids(conn, m, conds, forward_desc, after.id if after else None, None, n, pool)]
    ranked = _ranked(conn, m, conds, pool)
    head = [((s,), i) for s, i in ranked.keys]
    where = None if after is None else _rank_index(ranked.keys, after)

    def rest(start: int | None, desc: bool, k: int) -> list[tuple[tuple[Any, ...], int]]:
        if ranked.boundary is None or k <= 0:
            return []
        if desc:
            found = _ids(conn, m, conds, True, ranked.boundary if start is None else start, None, k, pool)
        else:
            found = _ids(conn, m, conds, False, start, ranked.boundary, k, pool)
        return [((None,), i) for i in found]

    if not backward:
        if where is not None or after is None:
            out = head[(-1 if where is None else where) + 1:][:n]
            return out + rest(None, True, n - len(out))
        return rest(after.id, True, n)
    if where is not None:
        return list(reversed(head[max(0, where - n):where]))
    out = rest(None if after is None else after.id, False, n)
    return out + list(reversed(head))[: n - len(out)]


def _rank_index(keys: list[tuple[float, int]], cursor: queries.Cursor) -> int | None:
    """Where the cursor's row is among the ranked hits (None: below them)."""
    for k, (_, i) in enumerate(keys):
        if i == cursor.id:
            return k
    return None


def _count(conn: Connection, m: Match, conds: list[ColumnElement[bool]]) -> int:
    if m.postgres:
        return int(conn.execute(_joined(m, func.count()).where(*conds)).scalar_one())
    stmt = select(func.count()).select_from(Ticket.__table__).where(*conds, *_sqlite_condition(conn, m, True))
    return int(conn.execute(stmt).scalar_one())


# --- PostgreSQL: one tsvector per ticket --------------------------------------------------------------


def _hits(m: Match) -> tuple[Any, ColumnElement[bool]]:
    """(the index's ticket id column, its match condition)."""
    from sqlalchemy.dialects.postgresql import TSQUERY  # PostgreSQL only: the dialect costs SQLite's start

    return _PG.c.ticket_id, _PG.c.doc.op("@@")(cast(bindparam("search_q", m.query), TSQUERY))


def _score(m: Match) -> Any:
    # real widened to double in SQL: psycopg reads a real as its short decimal, which would not
    # compare equal to the stored value when the cursor comes back
    from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION, TSQUERY

    return cast(func.ts_rank_cd(_PG.c.doc, cast(bindparam("search_q", m.query), TSQUERY)), DOUBLE_PRECISION)


# A word PostgreSQL's statistics do not list gets a guessed share of the documents (~2k of 1M): with a
# LIMIT the planner then walks an ordered index and tests every document on the way (a word in one
# ticket: 6-12 s at 1M). When the planner expects at most PG_GUESS hits (so the word is not among the
# common ones its statistics list), the hits are read first from the GIN index, and when there are at
# most PG_FEW their tickets are looked up by primary key. A listed word keeps the ordered plan: reading
# even 500 hits of a common word costs ~0.6 s (each document is decompressed to be tested).
PG_FEW = 500
PG_GUESS = 5000


def _pg_few(conn: Connection, m: Match) -> list[int] | None:
    """The ids of the match's hits when there are at most PG_FEW of them, else None."""
    key, where = _hits(m)
    hits = select(key).select_from(_PG).where(where)
    guess = conn.exec_driver_sql(
        "EXPLAIN (FORMAT JSON) SELECT 1 FROM ticket_search WHERE doc @@ CAST(%(q)s AS tsquery)", {"q": m.query}
    ).scalar()
    if (guess if isinstance(guess, list) else json.loads(guess))[0]["Plan"]["Plan Rows"] > PG_GUESS:
        return None
    ids = [int(i) for (i,) in conn.execute(hits.limit(PG_FEW + 1))]
    return ids if len(ids) <= PG_FEW else None


def _joined(m: Match, *cols: Any) -> Select:
    key, where = _hits(m)
    return select(*cols).select_from(_PG.join(Ticket.__table__, T.id == key)).where(where)


# --- both engines ------------------------------------------------------------------------------------


def condition(
    conn: Connection, text_: str, notes: bool = True, counting: bool = False
) -> list[ColumnElement[bool]] | None:
    """The words as conditions on the ticket table, for the queue's own scans (`counting` False: they
    may be checked ticket by ticket along a scan that stops early) and counts (True: each word's hits
    read once). None when the words hold nothing to search for."""
    m = compile_match(conn, text_, notes)
    if m is None:
        return None
    if not m.postgres:
        return _sqlite_condition(conn, m, counting)
    key, where = _hits(m)
    if m.positive and not counting:
        few = _pg_few(conn, m)
        if few is not None:
            return [T.id.in_(few)]
    if not m.positive:
        # NOT EXISTS, not NOT IN: a NOT IN whose hits pass work_mem is re-read for every ticket (`-user`,
        # a word in every ticket, ran over a minute at 1M); the anti-join probes each ticket's document
        return [~exists().where(key == T.id, where)]
    return [T.id.in_(select(key).select_from(_PG).where(where))]


def _other_filters(tx: Tx, q: queries.TicketQuery, left: queries.TicketQuery | None = None
                   ) -> list[ColumnElement[bool]]:
    """The query's filters but its words, and the actor's scope; `left`: only those of `left` (the
    query without what a pool already holds), in the scope `q` implies."""
    scope = visibility.scope_of(tx)
    conds = queries.conditions(replace(left or q, text=""), None)
    if not scope.implied_by(q.department_ids, q.assignee_id):
        visible = visibility.condition(scope)
        if visible is not None:
            conds.append(visible)
    return conds


def _rare(conn: Connection, m: Match) -> bool:
    """Whether one of the words has so few rows that the walk reads them all at once anyway."""
    return any(_count_upto(conn, p, FEW_ROWS + 1) <= FEW_ROWS for p in m.plus)


def _pool(conn: Connection, q: queries.TicketQuery, m: Match
          ) -> tuple[list[int] | None, queries.TicketQuery]:
    """SQLite: the ids (ascending) of the tickets the query's selective filters with an index of their
    own admit, and the query without those filters (the rest to check on the pool's hits); None when no
    such filter admits few enough tickets (POOL_SCALE), or a word is rare enough to walk as it is. Each is read
    from its covering index (4401 tickets of an assignee in ~4 ms at 1M)."""
    visible = T.visible.in_({False: (True,), True: (False,), None: (True, False)}[q.archived])
    TT = TicketTag.__table__.c
    sources: list[tuple[Any, dict[str, Any]]] = []
    for col, name in ((T.assignee_id, "assignee_id"), (T.team_id, "team_id"),
                      (T.organization_id, "organization_id")):
        value = getattr(q, name)
        if value is not None:
            sources.append((select(T.id).where(visible, col == value), {name: None}))
    if q.contact_id is not None:  # its index does not lead with `visible`
        sources.append((select(T.id).where(T.contact_id == q.contact_id), {"contact_id": None}))
    for tag in dict.fromkeys(q.tag_ids):
        sources.append((select(TT.ticket_id).where(TT.tag_id == tag), {"tag": tag}))
    if not sources or _rare(conn, m):
        return None, q
    top = int(conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM ticket").scalar())
    cap = min(POOL_CAP, math.isqrt(POOL_SCALE * top))
    pool: set[int] | None = None
    held: dict[str, Any] = {}
    tags_held: set[int] = set()
    for stmt, what in sources:
        # counted first: counting an index range costs a tenth of reading it into Python
        if conn.execute(select(func.count()).select_from(stmt.limit(cap + 1).subquery())).scalar_one() > cap:
            continue
        ids = list(conn.execute(stmt).scalars())
        pool = set(ids) if pool is None else pool & set(ids)
        if "tag" in what:
            tags_held.add(what["tag"])
        else:
            held.update(what)
    if pool is None:
        return None, q
    left = replace(q, tag_ids=tuple(t for t in q.tag_ids if t not in tags_held), **held)
    return sorted(pool), left


def handles(conn: Connection, q: queries.TicketQuery) -> Match | None:
    """The compiled match when this module orders the page itself, else None."""
    if not q.text.strip() or q.sort not in SEARCH_SORTS:
        return None
    m = compile_match(conn, q.text, q.search_notes)
    return m if m is not None and m.positive else None


def fetch_page(
    tx: Tx, q: queries.TicketQuery, m: Match, after: queries.Cursor | None, limit: int, backward: bool
) -> queries.Page:
    """One page of hits in the query's order, keyset-paged on the ticket id (or score, id)."""
    with queries._connect(tx.session) as conn:
        pool, left = (None, q) if m.postgres else _pool(conn, q, m)
        conds = _other_filters(tx, q, left)
        found_keys = _page_keys(conn, q, m, conds, after, limit, backward, pool)
        more = len(found_keys) > limit
        found_keys = found_keys[:limit]
        if backward:
            found_keys.reverse()
        loaded = queries._load_rows(conn, [i for _, i in found_keys])
    rows = tuple(loaded[i] for _, i in found_keys if i in loaded)
    cursors = [_cursor(q.sort, values, i, loaded.get(i)) for values, i in found_keys]
    if backward:
        at_start, at_end = not more, after is None or not found_keys
    else:
        at_end, at_start = not more, after is None or not found_keys
    return queries.Page(
        rows=rows,
        next=None if at_end else cursors[-1],
        prev=None if at_start else cursors[0],
        at_end=at_end,
        at_start=at_start,
    )


def _cursor(sort: str, values: tuple[Any, ...], ident: int, row: queries.QueueRow | None) -> queries.Cursor:
    if sort == "relevance" or row is None:
        return queries.Cursor(values or (None,), ident)
    # the queue's own cursor shape for the sort (the search reads only the id from it)
    return queries.cursor_of(row, sort)


def count(tx: Tx, q: queries.TicketQuery, m: Match) -> int:
    """Exact number of hits the actor may see, in one pass over each word's hits."""
    with queries._connect(tx.session) as conn:
        return _count(conn, m, _other_filters(tx, q))


def position_of(tx: Tx, q: queries.TicketQuery, m: Match, cursor: queries.Cursor) -> int:
    """How many hits come before `cursor`'s row in the query's order."""
    conds = _other_filters(tx, q)
    with queries._connect(tx.session) as conn:
        if q.sort == "relevance":
            ranked = _ranked(conn, m, conds)
            where = _rank_index(ranked.keys, cursor)
            if where is not None or ranked.boundary is None:
                return where or 0
            return len(ranked.keys) + _count(conn, m, conds + [T.id < ranked.boundary, T.id > cursor.id])
        before = T.id > cursor.id if q.sort != "oldest" else T.id < cursor.id
        return _count(conn, m, conds + [before])
