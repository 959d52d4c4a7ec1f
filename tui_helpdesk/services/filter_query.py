"""The queue's `/` filter line: parse it, resolve names to ids, and complete what is being typed.

    status:open prio:high dept:"Field Ops" tag:vpn assignee:me is:overdue sort:priority printer

Terms are `field:value`; a value with spaces is quoted (`dept:"Field Ops"`). Terms of one field are
alternatives (status:new status:open, or status:new,open), except tags, which must all be present.
Words that are not terms are searched in the whole ticket (services/search.py): every word must occur
somewhere, "a phrase" as written, -word excludes, word* is a prefix, accents and case do not matter;
sort:relevance ranks the hits (newest first otherwise).

Custom fields are `cf.NAME:VALUE` (`cf.po:4711`), or a comparison for numbers, dates and text
(`cf.due:<2026-12-31`, `cf.hours:>=2`); their values are typed by the field's definition.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select

from tui_helpdesk.models import (
    Agent,
    Contact,
    CustomField,
    Department,
    HelpTopic,
    Organization,
    Priority,
    Status,
    Tag,
    Team,
    TicketFieldValue,
)
from tui_helpdesk.models.org import STATES

from . import lookup
from .errors import ValidationError
from .queries import QUERY_SORTS, Bind, TicketQuery, _connect

# Field name -> canonical field; the short forms are what people type.
FIELDS: dict[str, str] = {
    "status": "status",
    "state": "state",
    "prio": "priority",
    "priority": "priority",
    "dept": "department",
    "department": "department",
    "tag": "tag",
    "assignee": "assignee",
    "team": "team",
    "org": "organization",
    "organization": "organization",
    "contact": "contact",
    "topic": "topic",
    "is": "is",
    "sort": "sort",
}
# Offered by completion, in this order (the short spellings only).
FIELD_NAMES = (
    "status",
    "state",
    "prio",
    "dept",
    "tag",
    "assignee",
    "team",
    "org",
    "contact",
    "topic",
    "is",
    "sort",
)
IS_VALUES = ("overdue", "archived", "unassigned", "all")
# Fields whose value may be a comma-separated list.
LIST_FIELDS = {"status", "state", "priority", "department", "tag"}
MAX_CANDIDATES = 30


class FilterError(ValueError):
    """A term the filter line cannot use; `term` is the offending text as typed."""

    def __init__(self, term: str, message: str, start: int = 0, end: int = 0) -> None:
        super().__init__(f"{term}: {message}" if term else message)
        self.term = term
        self.message = message
        self.start = start
        self.end = end


@dataclass(frozen=True)
class Term:
    field: str  # canonical name (see FIELDS)
    value: str  # unquoted
    text: str  # as typed, for error messages
    start: int
    end: int


@dataclass(frozen=True)
class ParsedFilter:
    terms: tuple[Term, ...]
    words: tuple[str, ...]  # free words and quoted phrases, in order, without their quotes
    # the free words as typed (quotes, -word and word* kept): what the search reads
    search_text: str = ""

    @property
    def text(self) -> str:
        if self.search_text:
            return self.search_text
        return " ".join(f'"{w}"' if any(ch.isspace() for ch in w) else w for w in self.words)


@dataclass(frozen=True)
class Completion:
    """Replace text[start:end] with one of `candidates`."""

    start: int
    end: int
    candidates: tuple[str, ...]


# --- parsing ------------------------------------------------------------------------------------


def _tokens(text: str) -> list[tuple[str, int, int]]:
    """(token without its quotes, start, end); an unclosed quote runs to the end."""
    out: list[tuple[str, int, int]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start = i
        buf: list[str] = []
        while i < n and not text[i].isspace():
            if text[i] == '"':
                close = text.find('"', i + 1)
                close = n if close < 0 else close
                buf.append(text[i + 1 : close])
                i = close + 1
            else:
                buf.append(text[i])
                i += 1
        out.append(("".join(buf), start, min(i, n)))
    return out


def _split_term(token: str) -> tuple[str, str] | None:
    name, sep, value = token.partition(":")
    if not sep or not name:
        return None
    low = name.lower()
    if low.startswith("cf.") and len(low) > 3 and low[3:].replace("_", "").isalnum():
        return low, value
    if not name.replace("_", "").isalpha():
        return None
    return low, value


def parse(text: str) -> ParsedFilter:
    terms: list[Term] = []
    words: list[str] = []
    raw_words: list[str] = []
    for token, start, end in _tokens(text):
        raw = text[start:end]
        # A token that starts with a quote is a phrase even if it holds a colon.
        split = None if raw.startswith('"') else _split_term(token)
        if split is None:
            if token:
                words.append(token)
                raw_words.append(raw)
            continue
        name, value = split
        if name.startswith("cf."):
            if not value.strip():
                raise FilterError(raw, "needs a value", start, end)
            terms.append(Term(name, value.strip(), raw, start, end))
            continue
        if name not in FIELDS:
            known = ", ".join(FIELD_NAMES)
            raise FilterError(raw, f"unknown field {name!r} (known: {known})", start, end)
        if not value.strip():
            raise FilterError(raw, "needs a value", start, end)
        terms.append(Term(FIELDS[name], value.strip(), raw, start, end))
    return ParsedFilter(tuple(terms), tuple(words), " ".join(raw_words))


# --- resolving names to ids ---------------------------------------------------------------------


def _one(conn: Connection, stmt: Any) -> Any:
    rows = conn.execute(stmt.limit(2)).all()
    return rows[0][0] if len(rows) == 1 else None


def _by_name(conn: Connection, table: Any, column: Any, value: str) -> int | None:
    return _one(conn, select(table.c.id).where(func.lower(column) == value.lower()))


def _known(conn: Connection, kind: str, value: str) -> int | None:
    """Ids, names and topic paths resolve by lookup's one rule, as in every form and CLI option."""
    try:
        return lookup.find_id(conn, kind, value)
    except ValidationError:
        return None


def _values(term: Term) -> list[str]:
    if term.field in LIST_FIELDS:
        parts = [v.strip() for v in term.value.split(",")]
        if not all(parts):
            raise FilterError(term.text, "has an empty value in its list", term.start, term.end)
        return parts
    return [term.value]


_COMPARISONS = ("<=", ">=", "<", ">", "=")


def _custom_term(conn: Connection, term: Term) -> tuple[str, str, Any]:
    """(name, op, value) for TicketQuery.custom, the value typed by the field's definition."""
    name = term.field[3:]
    op = next((o for o in _COMPARISONS if term.value.startswith(o)), "=")
    text = term.value[len(op):].strip() if term.value.startswith(op) else term.value

    def fail(message: str) -> FilterError:
        return FilterError(term.text, message, term.start, term.end)

    if not text:
        raise fail("needs a value after the comparison")
    F = CustomField.__table__.c
    kind = conn.execute(select(F.type).where(F.target == "ticket", F.name == name)).scalar()
    if kind is None:
        V = TicketFieldValue.__table__.c
        if conn.execute(select(V.ticket_id).where(V.name == name).limit(1)).first() is None:
            raise fail(f"no custom field called {name!r}")
        kind = "text"
    if kind == "number":
        try:
            return name, op, float(text.replace(",", "."))
        except ValueError:
            raise fail(f"{text!r} is not a number") from None
    if kind == "date":
        try:
            return name, op, date.fromisoformat(text).isoformat()
        except ValueError:
            raise fail(f"{text!r} is not a date (YYYY-MM-DD)") from None
    if kind == "checkbox":
        low = text.lower()
        if low in ("yes", "true", "1", "y", "on"):
            return name, "=", "yes"
        if low in ("no", "false", "0", "n", "off"):
            return name, "=", "no"
        raise fail(f"{text!r}: a checkbox is yes or no")
    return name, op, text.lower()


def resolve(
    bind: Bind, parsed: ParsedFilter, me_agent_id: int | None, base: TicketQuery | None = None
) -> TicketQuery:
    """The TicketQuery the filter line asks for, starting from `base` (its filters and sort are kept
    unless the line says otherwise). Names match case-insensitively; FilterError names the first
    term that matches nothing."""
    base = base or TicketQuery()
    multi: dict[str, list[Any]] = {
        "states": [],
        "status_ids": [],
        "priority_ids": [],
        "department_ids": [],
        "tag_ids": [],
    }
    single: dict[str, Any] = {}
    flags: dict[str, Any] = {}
    custom: list[tuple[str, str, Any]] = []

    def set_single(term: Term, key: str, value: Any) -> None:
        if key in single and single[key] != value:
            raise FilterError(term.text, f"only one {term.field} can be given", term.start, term.end)
        single[key] = value

    with _connect(bind) as conn:
        for term in parsed.terms:
            if term.field.startswith("cf."):
                custom.append(_custom_term(conn, term))
                continue

            def fail(message: str, term: Term = term) -> FilterError:
                return FilterError(term.text, message, term.start, term.end)

            for value in _values(term):
                low = value.lower()
                if term.field == "status":
                    status_id = _known(conn, "status", value)
                    if status_id is not None:
                        multi["status_ids"].append(status_id)
                    elif low in STATES:
                        multi["states"].append(low)
                    else:
                        raise fail(f"no status or state called {value!r}")
                elif term.field == "state":
                    if low not in STATES:
                        raise fail(f"no state {value!r} (states: {', '.join(STATES)})")
                    multi["states"].append(low)
                elif term.field == "priority":
                    found = _known(conn, "priority", value)
                    if found is None:
                        raise fail(f"no priority called {value!r}")
                    multi["priority_ids"].append(found)
                elif term.field == "department":
                    found = _known(conn, "department", value)
                    if found is None:
                        raise fail(f"no department called {value!r}")
                    multi["department_ids"].append(found)
                elif term.field == "tag":
                    found = _by_name(conn, Tag.__table__, Tag.__table__.c.name, value)
                    if found is None:
                        raise fail(f"no tag called {value!r}")
                    multi["tag_ids"].append(found)
                elif term.field == "assignee":
                    if low == "none":
                        flags["unassigned"] = True
                        continue
                    if low == "me":
                        if me_agent_id is None:
                            raise fail("'me' needs a signed-in agent")
                        found = me_agent_id
                    else:
                        found = _known(conn, "agent", value)
                        if found is None:
                            raise fail(f"no agent with username {value!r}")
                    set_single(term, "assignee_id", found)
                elif term.field == "team":
                    found = _known(conn, "team", value)
                    if found is None:
                        raise fail(f"no team called {value!r}")
                    set_single(term, "team_id", found)
                elif term.field == "organization":
                    found = _known(conn, "organization", value)
                    if found is None:
                        raise fail(f"no organization called {value!r}")
                    set_single(term, "organization_id", found)
                elif term.field == "contact":
                    c = Contact.__table__.c
                    found = _one(conn, select(c.id).where(c.email == low))
                    if found is None:
                        found = _one(conn, select(c.id).where(func.lower(c.name) == low))
                    if found is None:
                        raise fail(f"no contact with email or name {value!r} (or more than one by that name)")
                    set_single(term, "contact_id", found)
                elif term.field == "topic":
                    found = _known(conn, "topic", value)
                    if found is None:
                        raise fail(f"no help topic called {value!r} (or more than one)")
                    set_single(term, "topic_id", found)
                elif term.field == "is":
                    if low == "overdue":
                        flags["overdue"] = True
                    elif low == "archived":
                        flags["archived"] = True
                    elif low == "unassigned":
                        flags["unassigned"] = True
                    elif low == "all":
                        flags["archived"] = None
                    else:
                        raise fail(f"unknown value (is: {', '.join(IS_VALUES)})")
                elif term.field == "sort":
                    if low not in QUERY_SORTS:
                        raise fail(f"unknown sort (sorts: {', '.join(QUERY_SORTS)})")
                    set_single(term, "sort", low)
    if "assignee_id" in single and flags.get("unassigned"):
        raise FilterError("assignee:none", "cannot be combined with another assignee")
    changes: dict[str, Any] = {k: tuple(dict.fromkeys(v)) for k, v in multi.items() if v}
    changes.update(single)
    changes.update(flags)
    if custom:
        changes["custom"] = tuple(dict.fromkeys(custom))
    if parsed.words:
        changes["text"] = parsed.text
        if "sort" not in single and base.sort == "updated":
            # hits come newest first from the index at any size; "updated" would read every hit
            changes["sort"] = "newest"
    return replace(base, **changes)


def resolve_text(
    bind: Bind, text: str, me_agent_id: int | None, base: TicketQuery | None = None
) -> TicketQuery:
    """parse() then resolve(): the filter line as typed to a TicketQuery."""
    return resolve(bind, parse(text), me_agent_id, base)


# --- completion ---------------------------------------------------------------------------------


def _quote(value: str) -> str:
    return f'"{value}"' if any(ch.isspace() for ch in value) or '"' in value else value


def _names(conn: Connection, column: Any, prefix: str) -> list[str]:
    stmt = select(column).where(func.lower(column).like(_like_prefix(prefix), escape="\\")).order_by(column)
    return [str(v) for v in conn.execute(stmt.limit(MAX_CANDIDATES)).scalars()]


def _like_prefix(prefix: str) -> str:
    escaped = prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _value_candidates(conn: Connection, field: str, prefix: str) -> list[str]:
    low = prefix.lower()
    if field == "status":
        names = _names(conn, Status.__table__.c.name, prefix)
        seen = {n.lower() for n in names}
        return names + [s for s in STATES if s.startswith(low) and s not in seen]
    if field == "state":
        return [s for s in STATES if s.startswith(low)]
    if field == "priority":
        return _names(conn, Priority.__table__.c.name, prefix)
    if field == "department":
        return _names(conn, Department.__table__.c.name, prefix)
    if field == "tag":
        return _names(conn, Tag.__table__.c.name, prefix)
    if field == "assignee":
        fixed = [v for v in ("me", "none") if v.startswith(low)]
        a = Agent.__table__.c
        stmt = (
            select(a.username)
            .where(a.active.is_(True), func.lower(a.username).like(_like_prefix(prefix), escape="\\"))
            .order_by(a.username)
        )
        return fixed + list(conn.execute(stmt.limit(MAX_CANDIDATES)).scalars())
    if field == "team":
        return _names(conn, Team.__table__.c.name, prefix)
    if field == "organization":
        return _names(conn, Organization.__table__.c.name, prefix)
    if field == "contact":
        c = Contact.__table__.c
        # emails are stored lower-cased: a range on the unique index, never a scan of every contact
        stmt = select(c.email).where(c.email >= low, c.email < low + "\uffff").order_by(c.email)
        return list(conn.execute(stmt.limit(MAX_CANDIDATES)).scalars())
    if field == "topic":
        return sorted(set(_names(conn, HelpTopic.__table__.c.name, prefix)))
    if field == "is":
        return [v for v in IS_VALUES if v.startswith(low)]
    if field == "sort":
        return [v for v in QUERY_SORTS if v.startswith(low)]
    return []


def complete(bind: Bind, text: str, cursor_pos: int | None = None) -> Completion:
    """Candidates for the token under the cursor: field names (`dept:`) while the field is typed,
    then `field:value` strings (quoted where needed) once the colon is there."""
    pos = len(text) if cursor_pos is None else max(0, min(cursor_pos, len(text)))
    start = pos
    # Walk back to the token start, stepping over a quoted part the cursor is inside or after.
    in_quote = text[:pos].count('"') % 2 == 1
    while start > 0 and (in_quote or not text[start - 1].isspace()):
        if text[start - 1] == '"':
            in_quote = not in_quote
        start -= 1
    fragment = text[start:pos]
    if fragment.startswith('"'):
        return Completion(start, pos, ())
    name, sep, value = fragment.partition(":")
    if not sep:
        low = name.lower()
        fields = tuple(f"{f}:" for f in FIELD_NAMES if f.startswith(low))
        if low.startswith("c"):
            F = CustomField.__table__.c
            with _connect(bind) as conn:
                names = conn.execute(select(F.name).where(F.target == "ticket", F.active.is_(True))
                                     .order_by(F.sort_order, F.name)).scalars()
                fields += tuple(f"cf.{n}:" for n in names if f"cf.{n}".startswith(low))
        return Completion(start, pos, fields)
    if name.lower().startswith("cf."):
        F = CustomField.__table__.c
        with _connect(bind) as conn:
            choices = conn.execute(select(F.choices).where(F.target == "ticket", F.name == name[3:].lower())).scalar()
        options = [ch for ch in (choices or []) if str(ch).lower().startswith(value.lower())]
        return Completion(start, pos, tuple(f"{name}:{_quote(str(ch))}" for ch in options))
    field = FIELDS.get(name.lower())
    if field is None:
        return Completion(start, pos, ())
    # Complete the last item of a comma list; keep the ones already typed.
    head, comma, last = value.rpartition(",") if field in LIST_FIELDS else ("", "", value)
    last = last.replace('"', "")
    with _connect(bind) as conn:
        values = _value_candidates(conn, field, last)
    prefix = f"{name}:{head}{comma}"
    return Completion(start, pos, tuple(dict.fromkeys(prefix + _quote(v) for v in values)))
