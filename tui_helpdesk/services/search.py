"""Full-text search: the queue's free words, on SQLite FTS5 or PostgreSQL tsvector, behind one call.

    printer "paper jam" -toner cafe* sort:relevance

Words must all occur somewhere in the ticket (subject, number, any thread entry, requester name or
email, organization, tags); a quoted phrase must occur as written; `-word` (or `-"a phrase"`) excludes;
`word*` matches by prefix. Accents and case are ignored ("cafe" finds "café").

The index holds one document per ticket (migration 0012), kept in step by triggers. Internal notes
are a separate column (SQLite) or weight D (PostgreSQL): `TicketQuery.search_notes=False` (a
customer-facing search) leaves them out, so a note's words never find a ticket there.

queries.fetch_page/count/position_of call this module when the query has free words, so the app,
the CLI and any later face get the same answers with the same filters and visibility.
Order: newest ticket first (filter_query makes it the default when words are typed; ticket ids grow
with time and the index returns hits in id order, so the first page stops after `limit` hits even for
a word in every ticket); `sort:relevance` ranks (bm25 / ts_rank_cd) and must score every hit. The
other sorts (updated, priority, due) use the queue's own scan with "ticket id in the hits" as one more
filter: right, but they read every hit of a common word.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Integer,
    Select,
    bindparam,
    cast,
    column,
    func,
    literal_column,
    select,
    table,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION, TSQUERY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.selectable import Join

from tui_helpdesk.models import Ticket

from . import queries, visibility
from .context import Tx

# Sorts this module orders itself; the rest go through the queue's keyset scan.
SEARCH_SORTS = ("newest", "oldest", "relevance")
# SQLite column weights for bm25 (head, people, tags, public, notes): a subject hit ranks first.
_BM25 = "bm25(search_fts, 10.0, 4.0, 4.0, 1.0, 1.0)"
_PUBLIC_COLUMNS = "{head people tags public}"

T = Ticket.__table__.c
_FTS = table("search_fts", column("rowid", Integer))
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
    """A compiled search: `positive` False when the words only exclude (no index order to walk)."""

    postgres: bool
    query: str  # FTS5 MATCH text or tsquery text
    positive: bool


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
    if not notes:
        expr = f"{_PUBLIC_COLUMNS} : ({expr})"
    return Match(False, expr, bool(plus))


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


def _hits(m: Match) -> tuple[Any, ColumnElement[bool]]:
    """(the index's ticket id column, its match condition)."""
    if m.postgres:
        return _PG.c.ticket_id, _PG.c.doc.op("@@")(cast(bindparam("search_q", m.query), TSQUERY))
    return _FTS.c.rowid, text("search_fts MATCH :search_q").bindparams(search_q=m.query)


def condition(conn: Connection, text_: str, notes: bool = True) -> ColumnElement[bool] | None:
    """`ticket.id IN (hits)` (or NOT IN for exclusions only), for the queue's own scans and counts."""
    m = compile_match(conn, text_, notes)
    if m is None:
        return None
    key, where = _hits(m)
    hits = select(key).select_from(_PG if m.postgres else _FTS).where(where)
    return T.id.in_(hits) if m.positive else T.id.not_in(hits)


def _score(m: Match) -> Any:
    if m.postgres:
        # real widened to double in SQL: psycopg reads a real as its short decimal, which would not
        # compare equal to the stored value when the cursor comes back
        return cast(func.ts_rank_cd(_PG.c.doc, cast(bindparam("search_q", m.query), TSQUERY)), DOUBLE_PRECISION)
    return -literal_column(_BM25, Float)


class _HitsFirst(Join):
    """The index's hits joined to their tickets, the hits read first (see _cross_join)."""

    inherit_cache = True


@compiles(_HitsFirst, "sqlite")
def _cross_join(element: _HitsFirst, compiler: Any, **kw: Any) -> str:
    # SQLite's CROSS JOIN keeps the left table outer. Without it the planner walks a ticket index
    # and probes the index per ticket: a count took 10-15 s at 200k tickets, 0.2-150 ms this way.
    return compiler.visit_join(element, **kw).replace(" JOIN ", " CROSS JOIN ", 1)


def _joined(m: Match, *cols: Any) -> Select:
    key, where = _hits(m)
    if m.postgres:
        source = _PG.join(Ticket.__table__, T.id == key)
    else:
        source = _HitsFirst(_FTS, Ticket.__table__, T.id == key)
    return select(*cols).select_from(source).where(where)


def _other_filters(tx: Tx, q: queries.TicketQuery) -> list[ColumnElement[bool]]:
    scope = visibility.scope_of(tx)
    conds = queries.conditions(replace(q, text=""), None)
    if not scope.implied_by(q.department_ids, q.assignee_id):
        visible = visibility.condition(scope)
        if visible is not None:
            conds.append(visible)
    return conds


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
    conds = _other_filters(tx, q)
    desc = q.sort != "oldest"
    with queries._connect(tx.session) as conn:
        key, _ = _hits(m)
        if q.sort == "relevance":
            inner = _joined(m, key.label("id"), _score(m).label("score")).where(*conds).subquery()
            mark = tuple_(inner.c.score, inner.c.id)
            stmt = select(inner.c.score, inner.c.id)
            if after is not None:
                score = after.values[0] if after.values and isinstance(after.values[0], float) else None
                if score is None:  # a cursor made from a row: find its score
                    found = conn.execute(select(inner.c.score).where(inner.c.id == after.id)).scalar()
                    score = float(found) if found is not None else 0.0
                point = tuple_(score, after.id)
                stmt = stmt.where(mark > point if backward else mark < point)
            order = [inner.c.score, inner.c.id] if backward else [inner.c.score.desc(), inner.c.id.desc()]
            found_keys = [((float(s),), int(i)) for s, i in conn.execute(stmt.order_by(*order).limit(limit + 1))]
        else:
            stmt = _joined(m, key).where(*conds)
            forward_desc = desc != backward
            if after is not None:
                stmt = stmt.where(key < after.id if forward_desc else key > after.id)
            stmt = stmt.order_by(key.desc() if forward_desc else key.asc()).limit(limit + 1)
            found_keys = [((), int(i)) for (i,) in conn.execute(stmt)]
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
    """Exact number of hits the actor may see, in one pass over the hits."""
    with queries._connect(tx.session) as conn:
        return int(conn.execute(_joined(m, func.count()).where(*_other_filters(tx, q))).scalar_one())


def position_of(tx: Tx, q: queries.TicketQuery, m: Match, cursor: queries.Cursor) -> int:
    """How many hits come before `cursor`'s row in the query's order."""
    conds = _other_filters(tx, q)
    with queries._connect(tx.session) as conn:
        key, _ = _hits(m)
        if q.sort == "relevance":
            inner = _joined(m, key.label("id"), _score(m).label("score")).where(*conds).subquery()
            score = conn.execute(select(inner.c.score).where(inner.c.id == cursor.id)).scalar()
            if score is None:
                return 0
            stmt = select(func.count()).select_from(inner).where(
                tuple_(inner.c.score, inner.c.id) > tuple_(float(score), cursor.id)
            )
            return int(conn.execute(stmt).scalar_one())
        before = key > cursor.id if q.sort != "oldest" else key < cursor.id
        return int(conn.execute(_joined(m, func.count()).where(*conds, before)).scalar_one())
