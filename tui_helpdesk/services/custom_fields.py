"""Custom fields (osTicket's forms): their definitions, the type of each value, where they apply, and
when they are required. The one place these rules live: tickets.open_ticket, the close path and the
header edit call `clean_ticket_values` / `check_required_to_close`; contacts and organizations call
`clean_values`; the filter line, the templates and the export read definitions through here.

A value is stored in its row's `custom_fields` JSON under the field's `name` as plain JSON: text,
a number, "YYYY-MM-DD" for a date, a list for a multi-choice, true/false for a checkbox, a lower-cased
email for a contact. Keys no field defines keep the old free-text rule (desks that set `asset=LT-7`
before fields existed keep working). Every ticket value is also copied, case-folded, into
`ticket_field_value` by one flush hook, so `cf.po:4711` is an index range whatever wrote the ticket.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, event, insert, inspect, select
from sqlalchemy.orm import Session

from tui_helpdesk import batch_cache
from tui_helpdesk.models import (
    FIELD_TARGETS,
    FIELD_TYPES,
    CustomField,
    Department,
    HelpTopic,
    Ticket,
    TicketFieldValue,
)

from . import lookup
from .admin import _common as c
from .context import Tx, require_admin
from .errors import NotFound, ValidationError

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
TYPE_LABELS = {
    "text": "text", "longtext": "long text", "number": "number", "date": "date", "choice": "choice",
    "multichoice": "multi-choice", "checkbox": "checkbox", "contact": "contact (email)", "url": "URL",
}
EDITABLE = ("label", "help_text", "type", "choices", "required_at_create", "required_at_close", "topics",
            "departments", "sort_order", "active")
TEXT_LIMIT = 1000
LONGTEXT_LIMIT = 10000
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TRUE = {"1", "true", "yes", "y", "on", "x"}
_FALSE = {"0", "false", "no", "n", "off"}


@dataclass(frozen=True)
class FieldRow:
    id: int
    target: str
    name: str
    label: str
    help_text: str
    type: str
    choices: tuple[str, ...]
    required_at_create: bool
    required_at_close: bool
    topic_ids: tuple[int, ...]
    department_ids: tuple[int, ...]
    topics: tuple[str, ...]  # names, for the admin list and `field list`
    departments: tuple[str, ...]
    sort_order: int
    active: bool

    @property
    def applies_everywhere(self) -> bool:
        return not self.topic_ids and not self.department_ids

    def applies_to(self, topic_id: int | None, department_id: int | None) -> bool:
        """A field named for topics or departments applies when the ticket has one of them."""
        if self.applies_everywhere:
            return True
        return (topic_id is not None and topic_id in self.topic_ids) or (
            department_id is not None and department_id in self.department_ids
        )

    @property
    def where(self) -> str:
        if self.applies_everywhere:
            return "all tickets" if self.target == "ticket" else f"all {self.target}s"
        parts = [f"topic {n}" for n in self.topics] + [f"dept {n}" for n in self.departments]
        return ", ".join(parts)

    @property
    def required(self) -> str:
        both = (self.required_at_create, self.required_at_close)
        return {(True, True): "create+close", (True, False): "create", (False, True): "close"}.get(both, "no")


# --- reading the definitions --------------------------------------------------------------------


def _rows(session: Session, where: Iterable[Any] = ()) -> list[FieldRow]:
    fields = list(session.execute(
        select(CustomField).where(*where).order_by(CustomField.target, CustomField.sort_order, CustomField.id)
    ).scalars())
    if not fields:
        return []
    topics = dict(session.execute(select(HelpTopic.id, HelpTopic.name)).all())
    depts = dict(session.execute(select(Department.id, Department.name)).all())
    return [
        FieldRow(
            id=f.id, target=f.target, name=f.name, label=f.label, help_text=f.help_text, type=f.type,
            choices=tuple(f.choices or ()), required_at_create=f.required_at_create,
            required_at_close=f.required_at_close, topic_ids=tuple(f.topic_ids or ()),
            department_ids=tuple(f.department_ids or ()),
            topics=tuple(topics.get(i, f"#{i}") for i in f.topic_ids or ()),
            departments=tuple(depts.get(i, f"#{i}") for i in f.department_ids or ()),
            sort_order=f.sort_order, active=f.active,
        )
        for f in fields
    ]


def definitions(session: Session, target: str = "ticket", *, active_only: bool = True) -> list[FieldRow]:
    """The fields of one target in display order (any reader: the header and the forms show them)."""
    def load() -> list[FieldRow]:  # the conditions built only when read: an ingest batch asks per message
        where = [CustomField.target == target]
        if active_only:
            where.append(CustomField.active.is_(True))
        return _rows(session, where)

    return batch_cache.cached(session, ("custom_fields", target, active_only), load)


def list_fields(tx: Tx, target: str | None = None) -> list[FieldRow]:
    if target not in (None, ""):
        c.choice(target, "target", FIELD_TARGETS)
        return _rows(tx.session, [CustomField.target == target])
    return _rows(tx.session)


def by_name(session: Session, name: str, target: str = "ticket") -> FieldRow | None:
    low = str(name).strip().lower()
    return next((f for f in definitions(session, target, active_only=False) if f.name == low), None)


def for_ticket(session: Session, topic_id: int | None, department_id: int | None) -> list[FieldRow]:
    """The active ticket fields that apply to a ticket with this topic and department (the form's list)."""
    return [f for f in definitions(session, "ticket") if f.applies_to(topic_id, department_id)]


def topic_departments(session: Session) -> dict[int, int | None]:
    """Each help topic's department: a form with a topic and no department opens the ticket there, so the
    fields of that department apply (as tickets.open_ticket decides)."""
    return dict(session.execute(select(HelpTopic.id, HelpTopic.department_id)).all())


def _get(tx: Tx, ref: str | int, target: str | None) -> CustomField:
    s = tx.session
    if isinstance(ref, int) or str(ref).isdigit():
        row = s.get(CustomField, int(ref))
        if row is not None:
            return row
    where = [CustomField.name == str(ref).strip().lower()]
    if target not in (None, ""):
        where.append(CustomField.target == target)
    found = list(s.execute(select(CustomField).where(*where)).scalars())
    if len(found) == 1:
        return found[0]
    if found:
        raise ValidationError("target", f"{ref!r} is a field of {', '.join(f.target for f in found)}; say which")
    raise NotFound(f"no custom field {ref!r}")


# --- defining them (admins) --------------------------------------------------------------------


def _ids(session: Session, values: Any, field: str, finder: Any) -> list[int]:
    out: list[int] = []
    items = values if isinstance(values, list | tuple) else c.split_list(values)
    for item in items:
        if item in (None, ""):
            continue
        found = c.ref(session, item, field, finder)
        if found is not None and found not in out:
            out.append(found)
    return out


def _choices(value: Any) -> list[str]:
    items = value if isinstance(value, list | tuple) else c.split_list(value)
    out: list[str] = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        if len(text) > 100:
            raise ValidationError("choices", f"{text[:20]!r}…: a choice is at most 100 characters")
        if text.lower() in {o.lower() for o in out}:
            raise ValidationError("choices", f"{text!r} is listed twice")
        out.append(text)
    return out


def _apply(tx: Tx, row: CustomField, values: Mapping[str, Any]) -> None:
    s = tx.session
    c.check_keys(values, EDITABLE)
    if "label" in values:
        row.label = c.text(values["label"], "label", required=True, limit=100)
    if "help_text" in values:
        row.help_text = c.text(values["help_text"], "help_text", limit=500)
    if "type" in values:
        row.type = c.choice(str(values["type"] or "").strip().lower().replace("-", "").replace(" ", ""),
                            "type", FIELD_TYPES)
    if "choices" in values:
        row.choices = _choices(values["choices"])
    if "required_at_create" in values:
        row.required_at_create = c.boolean(values["required_at_create"], "required_at_create")
    if "required_at_close" in values:
        row.required_at_close = c.boolean(values["required_at_close"], "required_at_close")
    if "topics" in values:
        row.topic_ids = _ids(s, values["topics"], "topics", lookup.topic)
    if "departments" in values:
        row.department_ids = _ids(s, values["departments"], "departments", lookup.department)
    if "sort_order" in values:
        row.sort_order = c.integer(values["sort_order"], "sort_order")
    if "active" in values:
        row.active = c.boolean(values["active"], "active")
    if row.type in ("choice", "multichoice") and not row.choices:
        raise ValidationError("choices", f"a {TYPE_LABELS[row.type]} field needs its choices (a,b,c)")
    if row.type not in ("choice", "multichoice"):
        row.choices = []
    if row.target != "ticket" and (row.topic_ids or row.department_ids or row.required_at_close):
        raise ValidationError("topics" if row.topic_ids else "departments" if row.department_ids
                              else "required_at_close",
                              f"a {row.target} field applies to every {row.target} and is never closed")


_AUDIT = ("target", "name", "label", "help_text", "type", "choices", "required_at_create", "required_at_close",
          "topic_ids", "department_ids", "sort_order", "active")


def _row(tx: Tx, field_id: int) -> FieldRow:
    tx.session.flush()
    return next(r for r in _rows(tx.session, [CustomField.id == field_id]))


def create_field(tx: Tx, *, name: str, target: str = "ticket", **values: Any) -> FieldRow:
    """A new field; `name` is its variable (`cf.NAME`, `%{ticket.custom.NAME}`) and never changes."""
    require_admin(tx)
    target = c.choice(str(target or "ticket").strip().lower(), "target", FIELD_TARGETS)
    clean = str(name or "").strip().lower()
    if not NAME_RE.match(clean):
        raise ValidationError("name", f"{name!r}: a name is a lower-case letter, then letters, digits or _ "
                                      "(at most 60), as it is typed in filters and templates")
    if tx.session.execute(select(CustomField.id).where(CustomField.target == target,
                                                       CustomField.name == clean)).first():
        raise ValidationError("name", f"a {target} field named {clean!r} already exists")
    values = dict(values)
    values.setdefault("label", clean.replace("_", " ").capitalize())
    row = CustomField(target=target, name=clean, label="", created_at=tx.now)
    _apply(tx, row, values)
    tx.session.add(row)
    tx.session.flush()
    c.record(tx, "create", "custom_field", row.id, **c.snapshot(row, _AUDIT))
    return _row(tx, row.id)


def update_field(tx: Tx, ref: str | int, *, target: str | None = None, **values: Any) -> FieldRow:
    require_admin(tx)
    row = _get(tx, ref, target)
    before = c.snapshot(row, _AUDIT)
    _apply(tx, row, values)
    changes = c.diff(before, c.snapshot(row, _AUDIT))
    if changes:
        c.record(tx, "update", "custom_field", row.id, changes=changes)
    return _row(tx, row.id)


def remove_field(tx: Tx, ref: str | int, *, target: str | None = None) -> FieldRow:
    """Drop the definition. Values already written stay on their rows (history), shown as plain text."""
    require_admin(tx)
    row = _get(tx, ref, target)
    gone = _row(tx, row.id)
    c.record(tx, "delete", "custom_field", row.id, **c.snapshot(row, _AUDIT))
    tx.session.delete(row)
    tx.session.flush()
    return gone


# --- values ------------------------------------------------------------------------------------


def _fail(f: FieldRow, message: str) -> ValidationError:
    # the error names the field (custom.NAME); forms show the message beside it, so it does not repeat it
    return ValidationError(f"custom.{f.name}", message)


def clean_value(f: FieldRow, value: Any) -> Any:
    """The stored form of a value typed or sent for field `f`; None when it is empty (clears it)."""
    if value is None or (isinstance(value, str) and not value.strip()) or value == []:
        return None
    kind = f.type
    if kind in ("text", "longtext", "url", "contact", "date", "number") and isinstance(value, list | dict):
        raise _fail(f, f"expected one value, got {value!r}")
    if kind in ("text", "longtext"):
        text = str(value).strip() if kind == "text" else str(value).rstrip()
        limit = TEXT_LIMIT if kind == "text" else LONGTEXT_LIMIT
        if kind == "text" and "\n" in text:
            raise _fail(f, "is one line (use a long-text field for more)")
        if len(text) > limit:
            raise _fail(f, f"is too long ({len(text)} characters, at most {limit})")
        return text
    if kind == "number":
        if isinstance(value, bool):
            raise _fail(f, f"expected a number, got {value!r}")
        if isinstance(value, int | float):
            return value
        text = str(value).strip().replace(",", ".") if str(value).count(",") == 1 and "." not in str(value) \
            else str(value).strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            raise _fail(f, f"{value!r} is not a number") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise _fail(f, f"{value!r} is not a number")
        return number
    if kind == "date":
        text = str(value).strip()
        try:
            return date.fromisoformat(text[:10] if len(text) > 10 and text[10] in "T " else text).isoformat()
        except ValueError:
            raise _fail(f, f"{value!r} is not a date (use YYYY-MM-DD, e.g. 2026-12-31)") from None
    if kind == "checkbox":
        if isinstance(value, bool):
            return value
        low = str(value).strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise _fail(f, f"{value!r} is not yes or no")
    if kind in ("choice", "multichoice"):
        items = value if isinstance(value, list | tuple) else (
            [value] if kind == "choice" else [v for v in str(value).split(",")])
        chosen: list[str] = []
        for item in items:
            text = str(item).strip()
            if not text:
                continue
            match = next((ch for ch in f.choices if ch.lower() == text.lower()), None)
            if match is None:
                raise _fail(f, f"{text!r} is not one of {', '.join(f.choices)}")
            if match not in chosen:
                chosen.append(match)
        if kind == "choice":
            if len(chosen) > 1:
                raise _fail(f, "takes one choice")
            return chosen[0] if chosen else None
        return chosen or None
    if kind == "contact":
        text = str(value).strip().lower()
        if not _EMAIL_RE.match(text) or len(text) > 320:
            raise _fail(f, f"{value!r} is not an email address")
        return text
    if kind == "url":
        text = str(value).strip()
        parts = urlsplit(text)
        if parts.scheme.lower() not in ("http", "https", "ftp", "mailto") or not (parts.netloc or parts.path):
            raise _fail(f, f"{value!r} is not a URL (e.g. https://example.com/page)")
        if len(text) > TEXT_LIMIT:
            raise _fail(f, f"is too long (at most {TEXT_LIMIT} characters)")
        return text
    raise _fail(f, f"unknown field type {kind!r}")


def _free(name: str, value: Any, field: str) -> Any:
    """A key no field defines: the rule values had before fields could be defined."""
    if not name or len(name) > 60:
        raise ValidationError(field, f"{name!r}: a field name is 1 to 60 characters")
    if value is not None and not isinstance(value, str | int | float | bool):
        raise ValidationError(f"custom.{name}", f"{name}: expected text or a number, got {value!r}")
    if isinstance(value, str) and len(value) > TEXT_LIMIT:
        raise ValidationError(f"custom.{name}", f"{name}: is longer than {TEXT_LIMIT} characters")
    return None if value == "" else value


def clean_values(session: Session, target: str, values: Any, field: str = "custom_fields") -> dict[str, Any]:
    """Each value cleaned by its field's type; None stands for "remove this key"; `field` is what the
    caller calls the whole set (an error about the set, not one value, names it)."""
    if not isinstance(values, Mapping):
        raise ValidationError(field, f"expected NAME=VALUE pairs, got {values!r}")
    known = {f.name: f for f in definitions(session, target, active_only=False)}
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = str(key).strip()
        f = known.get(name.lower())
        out[f.name if f else name] = clean_value(f, value) if f else _free(name, value, field)
    return out


def merge(old: Mapping[str, Any] | None, changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(old or {})
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _missing(fields: Iterable[FieldRow], values: Mapping[str, Any]) -> list[FieldRow]:
    return [f for f in fields if values.get(f.name) in (None, "", [])]


def _refuse_missing(missing: list[FieldRow], when: str) -> None:
    if missing:
        first = missing[0]
        others = f" (also: {', '.join(f.label for f in missing[1:])})" if len(missing) > 1 else ""
        raise ValidationError(f"custom.{first.name}", f"{first.label} is required {when}{others}")


def clean_ticket_values(tx: Tx, values: Any, *, topic_id: int | None, department_id: int | None,
                        creating: bool, field: str = "custom_fields") -> dict[str, Any]:
    """The values a new ticket (or a header edit) stores. At create, fields that apply and are required
    at create must be there, except on mail, which cannot answer (the ticket filters may set them)."""
    cleaned = clean_values(tx.session, "ticket", {} if values is None else values, field)
    if creating:
        stored = {k: v for k, v in cleaned.items() if v is not None}
        if tx.actor.origin != "mail":
            wanted = [f for f in for_ticket(tx.session, topic_id, department_id) if f.required_at_create]
            _refuse_missing(_missing(wanted, stored), "to open a ticket")
        return stored
    return cleaned


def check_required_to_close(tx: Tx, ticket: Ticket) -> None:
    """Refuse to resolve or close a ticket while a field required at close is empty. The system's own
    passes (auto-close after the reopen window) are not refused: nobody is there to fill the field."""
    if tx.actor.agent_id is None and tx.actor.origin in ("worker", "mail"):
        return
    wanted = [f for f in for_ticket(tx.session, ticket.topic_id, ticket.department_id) if f.required_at_close]
    missing = _missing(wanted, ticket.custom_fields or {})
    _refuse_missing(missing, f"to close {ticket.number}")


def display(f: FieldRow | None, value: Any) -> str:
    """A value as a person reads it (header, templates, CSV)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- what other parts read ---------------------------------------------------------------------


@dataclass(frozen=True)
class ShownValue:
    """One field as a ticket's header (or a contact's page) shows it; `text` "" when it has no value."""

    name: str
    label: str
    type: str
    text: str
    help_text: str = ""
    choices: tuple[str, ...] = ()
    required_at_close: bool = False
    defined: bool = True  # False: a key no field defines (set before fields existed, or since removed)


def shown(fields: Iterable[FieldRow], values: Mapping[str, Any] | None,
          others: Iterable[FieldRow] = ()) -> tuple[ShownValue, ...]:
    """The given fields in order with their values, then any other keys that hold a value (labelled by
    `others`, the definitions that do not apply here, where one names them)."""
    values = dict(values or {})
    out = [ShownValue(f.name, f.label, f.type, display(f, values.pop(f.name, None)), f.help_text, f.choices,
                      f.required_at_close) for f in fields]
    known = {f.name: f for f in others}
    for k, v in values.items():
        if v in (None, ""):
            continue
        f = known.get(k)
        out.append(ShownValue(k, f.label if f else k, f.type if f else "text", display(f, v),
                              f.help_text if f else "", f.choices if f else (), defined=f is not None))
    return tuple(out)


def shown_for_ticket(session: Session, ticket: Ticket) -> tuple[ShownValue, ...]:
    """The fields that apply to this ticket's topic and department, and any other values it holds."""
    every = definitions(session, "ticket", active_only=False)
    applies = [f for f in every if f.active and f.applies_to(ticket.topic_id, ticket.department_id)]
    return shown(applies, ticket.custom_fields, every)


def shown_for(session: Session, target: str, values: Mapping[str, Any] | None) -> tuple[ShownValue, ...]:
    every = definitions(session, target, active_only=False)
    return shown([f for f in every if f.active], values, every)


def set_record_values(tx: Tx, target: str, object_id: int, values: Mapping[str, Any]) -> dict[str, Any]:
    """Set a contact's or an organization's field values (None clears one); the same rule edits the row."""
    from tui_helpdesk.models import Contact, Organization

    require_admin(tx)
    model = {"contact": Contact, "organization": Organization}.get(target)
    if model is None:
        raise ValidationError("target", f"{target!r}: values are set here on contacts and organizations")
    row = c.get(tx.session, model, object_id, target)
    cleaned = clean_values(tx.session, target, values)
    old = dict(row.custom_fields or {})
    row.custom_fields = merge(old, cleaned)
    c.record(tx, "update", target, row.id, changes={"custom_fields": [old, row.custom_fields]})
    tx.session.flush()
    return dict(row.custom_fields)


def export_columns(session: Session, columns: Iterable[str]) -> dict[str, FieldRow | None]:
    """For the exports: each `cf.NAME` column with its definition (None: a key no field defines, still
    exported as text). Raises ValidationError naming an unknown column only when no ticket field is called
    so and the name is not a valid key."""
    out: dict[str, FieldRow | None] = {}
    for col in columns:
        if not col.startswith("cf."):
            continue
        name = col[3:].strip().lower()
        if not name or len(name) > 60:
            raise ValidationError("columns", f"{col!r}: cf. needs a field name")
        out[col] = by_name(session, name, "ticket")
    return out


def export_value(custom: Mapping[str, Any] | None, column: str, f: FieldRow | None = None) -> str:
    """The text of one `cf.NAME` column for one ticket's `custom_fields`."""
    return display(f, (custom or {}).get(column[3:] if column.startswith("cf.") else column))


def page_values(session: Session, ticket_ids: Iterable[int], columns: Iterable[str]) -> dict[int, dict[str, str]]:
    """For an export page: {ticket id: {"cf.NAME": text}} for the `cf.` columns, in one query per page
    (the export stays a page in memory at a time). Columns not starting with `cf.` are left out."""
    wanted = [c for c in columns if c.startswith("cf.")]
    ids = list(ticket_ids)
    if not wanted or not ids:
        return {i: {} for i in ids}
    rows = session.execute(select(Ticket.id, Ticket.custom_fields).where(Ticket.id.in_(ids))).all()
    return {tid: {c: export_value(values, c) for c in wanted} for tid, values in rows}


def template_values(session: Session, custom: Mapping[str, Any] | None) -> dict[str, str]:
    """`%{ticket.custom.NAME}` for every ticket field (empty when the ticket has no value)."""
    values = {f.name: "" for f in definitions(session, "ticket", active_only=False)}
    for key, value in (custom or {}).items():
        values[str(key)] = display(None, value)
    return values


# --- the index the filters read ------------------------------------------------------------------


def index_rows(ticket_id: int, custom: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """ticket_field_value rows for one ticket's values (case-folded text, numbers where they are numbers)."""
    rows: list[dict[str, Any]] = []
    for name, value in (custom or {}).items():
        items = value if isinstance(value, list) else [value]
        for pos, item in enumerate(items):
            if item is None:
                continue
            num = float(item) if isinstance(item, int | float) and not isinstance(item, bool) else None
            text = ("yes" if item else "no") if isinstance(item, bool) else display(None, item).lower()
            rows.append(dict(ticket_id=ticket_id, name=str(name)[:60], position=pos,
                             text_value=text[:TEXT_LIMIT], num_value=num))
    return rows


def _changed_custom(obj: Ticket) -> bool:
    return bool(inspect(obj).attrs.custom_fields.history.has_changes())


@event.listens_for(Session, "after_flush")
def _keep_index(session: Session, _context: Any) -> None:
    touched = [o for o in session.new if isinstance(o, Ticket)]
    touched += [o for o in session.dirty if isinstance(o, Ticket) and _changed_custom(o)]
    if not touched:
        return
    conn = session.connection()
    table = TicketFieldValue.__table__
    rows: list[dict[str, Any]] = []
    for t in touched:
        if t.id is None:
            continue
        if t not in session.new:
            conn.execute(delete(table).where(table.c.ticket_id == t.id))
        rows += index_rows(t.id, t.custom_fields)
    if rows:
        conn.execute(insert(table), rows)


def resolution_block(notes: str | None) -> str:
    """The closing notice's paragraph of resolution notes (seed 001: the submitter reads them), or nothing."""
    text = (notes or "").strip()
    return f"\n\nHow we resolved it:\n{text}" if text else ""
