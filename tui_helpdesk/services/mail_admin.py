"""Admin use cases for mail: template overrides (globally or per department), ticket filters, the ban list,
a look at a quarantined message's headers, and the ignored mail (and making a ticket of one).

Every call checks `require_admin` and writes an audit row; callers run it inside `transaction(engine,
actor)`. Filters and bans are stored in the shapes mail/filters.py reads (see its docstring).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tui_helpdesk.mail import templates
from tui_helpdesk.models import BanRule, Department, EmailTemplate, InboundMessage, TicketFilter

from . import custom_fields, lookup, mailboxes
from .context import Actor, Tx, audit, require_admin, transaction
from .errors import Conflict, NotFound, ValidationError
from .lookup import normalise_email

if TYPE_CHECKING:
    from .inbound import IngestResult

# what the outbox fills in for every message (services/outbound.py's _variables), plus per-kind extras
KNOWN_VARIABLES = frozenset(
    {
        "ticket.id",
        "ticket.number",
        "ticket.client_key",  # the `c` of the customer's read-only view (GET /api/public/tickets/NUMBER?c=KEY)
        "ticket.subject",
        "ticket.status",
        "ticket.state",
        "ticket.priority",
        "ticket.department",
        "ticket.requester",
        "ticket.requester_email",
        "ticket.due",
        "ticket.assignee",
        "helpdesk.name",
        "agent.name",
        "agent.signature",
        "recipient.name",
        "recipient.email",
        "message",
        "assignee",
        "kind",
        "sender",
        "message.subject",  # notice.too_big: the refused message's subject, its size and the limit
        "message.size",
        "limit",
        "ticket.resolution",  # the resolution notes; the block is "How we resolved it:" and them, or nothing
        "ticket.resolution_block",
    }
)
# %{ticket.custom.NAME}: one per custom field the desk defines (an undefined NAME is empty, not refused)
CUSTOM_PREFIX = "ticket.custom."


def template_variables() -> list[str]:
    """Every variable a template may use, as written in one: `%{ticket.number}`."""
    return [f"%{{{name}}}" for name in sorted(KNOWN_VARIABLES)] + [f"%{{{CUSTOM_PREFIX}NAME}}"]


@dataclass(frozen=True)
class TemplateRow:
    key: str  # "code" or "code@department id", what edit and reset take
    code: str
    department: str  # "" = every department
    subject: str
    body: str
    overridden: bool
    default_subject: str
    default_body: str


def _key(code: str, department_id: int | None) -> str:
    return code if department_id is None else f"{code}@{department_id}"


def list_templates(tx: Tx) -> list[TemplateRow]:
    """Each built-in code with its effective global text, then the per-department overrides."""
    require_admin(tx)
    rows = list(
        tx.session.execute(select(EmailTemplate).order_by(EmailTemplate.code, EmailTemplate.id)).scalars()
    )
    overrides = {(r.code, r.department_id): r for r in rows}
    out: list[TemplateRow] = []
    for code in sorted(templates.DEFAULTS):
        row = overrides.get((code, None))
        subject, body = (row.subject, row.body) if row else templates.DEFAULTS[code]
        out.append(
            TemplateRow(_key(code, None), code, "", subject, body, row is not None, *templates.DEFAULTS[code])
        )
        for r in rows:
            if r.code == code and r.department_id is not None:
                dept = tx.session.get(Department, r.department_id)
                out.append(
                    TemplateRow(
                        _key(code, r.department_id),
                        code,
                        dept.name if dept else "?",
                        r.subject,
                        r.body,
                        True,
                        *templates.DEFAULTS[code],
                    )
                )
    return out


def check_text(field: str, text: str) -> None:
    unknown = sorted({m.group(1) for m in templates._VAR.finditer(text)} - KNOWN_VARIABLES)
    unknown = [u for u in unknown if not (u.startswith(CUSTOM_PREFIX) and len(u) > len(CUSTOM_PREFIX))]
    if unknown:
        raise ValidationError(field, "unknown variable " + ", ".join(f"%{{{u}}}" for u in unknown))


def save_template(
    tx: Tx, code: str, subject: str, body: str, department: str | int | None = None
) -> TemplateRow:
    require_admin(tx)
    if code not in templates.DEFAULTS:
        raise ValidationError(
            "code", f"unknown template {code!r} (one of {', '.join(sorted(templates.DEFAULTS))})"
        )
    subject, body = (subject or "").strip(), (body or "").strip()
    if not subject:
        raise ValidationError("subject", "is required")
    if not body:
        raise ValidationError("body", "is required")
    check_text("subject", subject)
    check_text("body", body)
    dept_id = lookup.department(tx.session, department).id if department not in (None, "") else None
    row = (
        tx.session.execute(
            select(EmailTemplate).where(
                EmailTemplate.code == code,
                EmailTemplate.department_id.is_(None)
                if dept_id is None
                else EmailTemplate.department_id == dept_id,
            )
        )
        .scalars()
        .first()
    )
    if row is None:
        row = EmailTemplate(code=code, department_id=dept_id, subject=subject, body=body)
    row.subject, row.body, row.active = subject, body, True
    tx.session.add(row)
    tx.session.flush()
    audit(tx, "template.save", "email_template", row.id, code=code, department_id=dept_id)
    return next(r for r in list_templates(tx) if r.key == _key(code, dept_id))


def reset_template(tx: Tx, key: str) -> None:
    """Drop an override: the department falls back to the global text, the global one to the default."""
    require_admin(tx)
    code, _, dept = key.partition("@")
    dept_id = int(dept) if dept else None
    row = (
        tx.session.execute(
            select(EmailTemplate).where(
                EmailTemplate.code == code,
                EmailTemplate.department_id.is_(None)
                if dept_id is None
                else EmailTemplate.department_id == dept_id,
            )
        )
        .scalars()
        .first()
    )
    if row is None:
        raise NotFound(f"{key} uses the built-in text already")
    tx.session.delete(row)
    audit(tx, "template.reset", "email_template", row.id, code=code, department_id=dept_id)


# --- the ban list ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BanRow:
    id: int
    pattern: str  # an address, or @domain
    note: str
    created_at: datetime


def _ban_row(row: BanRule) -> BanRow:
    return BanRow(row.id, row.pattern, row.note, row.created_at)


def list_bans(tx: Tx) -> list[BanRow]:
    require_admin(tx)
    return [_ban_row(r) for r in tx.session.execute(select(BanRule).order_by(BanRule.pattern)).scalars()]


def add_ban(tx: Tx, pattern: str, note: str = "") -> BanRow:
    require_admin(tx)
    pattern = (pattern or "").strip().lower()
    if pattern.startswith("@"):
        domain = pattern[1:]
        if "." not in domain or "@" in domain or any(c.isspace() for c in domain) or domain.startswith("."):
            raise ValidationError("pattern", f"{pattern!r} is not a domain")
    else:
        if not pattern:
            raise ValidationError("pattern", "is required")
        try:
            pattern = normalise_email(pattern)
        except ValidationError as exc:
            # the form shows the error beside the field it names, and here that field is "pattern"
            raise ValidationError("pattern", exc.message) from None
    if tx.session.execute(select(BanRule).where(BanRule.pattern == pattern)).scalars().first():
        raise ValidationError("pattern", f"{pattern} is already banned")
    row = BanRule(pattern=pattern, note=(note or "").strip()[:255], created_at=tx.now)
    tx.session.add(row)
    tx.session.flush()
    audit(tx, "ban.add", "ban_rule", row.id, pattern=pattern)
    return _ban_row(row)


def remove_ban(tx: Tx, ref: str | int) -> None:
    """Lift a ban, named by its pattern or its id."""
    require_admin(tx)
    if isinstance(ref, int):
        row = tx.session.get(BanRule, ref)
    else:
        row = (
            tx.session.execute(select(BanRule).where(BanRule.pattern == ref.strip().lower()))
            .scalars()
            .first()
        )
    if row is None:
        raise NotFound(f"{ref} is not banned")
    tx.session.delete(row)
    audit(tx, "ban.remove", "ban_rule", row.id, pattern=row.pattern)


# --- the quarantine ----------------------------------------------------------------------------------


def message_headers(tx: Tx, journal_id: int) -> list[str]:
    """The header block of a journaled message as it arrived, one line each (folded lines kept).

    Untrusted text: callers pass every line through tui_helpdesk.untrusted before showing it.
    """
    require_admin(tx)
    raw = mailboxes.raw_message(tx, journal_id)
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    return head.decode("utf-8", errors="replace").splitlines()


# --- ignored mail ------------------------------------------------------------------------------------

# Ignored rows whose content is already on a ticket or is ours: nothing of a person's is missing there.
NOT_LOST = ("duplicate", "own_mail")


def list_ignored(tx: Tx, limit: int = 100) -> list[mailboxes.JournalInfo]:
    """Mail that became no ticket (bounces and auto-replies of no ticket, bulk from strangers, bans,
    filters' rejects, unknown senders, refused late replies), newest first, each with its reason."""
    require_admin(tx)
    rows = tx.session.execute(
        select(InboundMessage)
        .where(InboundMessage.state == "ignored", InboundMessage.outcome.not_in(NOT_LOST))
        .order_by(InboundMessage.id.desc())
        .limit(limit)
    ).scalars()
    return [mailboxes._journal_info(tx, row) for row in rows]


def ticket_from_ignored(
    engine: Engine, actor: Actor, journal_id: int, attachments_dir: Path | None = None
) -> IngestResult:
    """Open a ticket from an ignored message after all; returns the ingest result (the new ticket)."""
    from tui_helpdesk.mail.parse import parse_message

    from . import inbound

    with transaction(engine, actor) as tx:
        require_admin(tx)
        row = tx.session.get(InboundMessage, journal_id)
        if row is None:
            raise NotFound(f"no journal row {journal_id}")
        if row.state != "ignored":
            raise Conflict(f"message {journal_id} is {row.state}, not ignored")
        if row.outcome in NOT_LOST:
            raise Conflict(f"message {journal_id} was ignored as {row.outcome}: {row.reason}")
        sender = parse_message(inbound.read_raw(tx.session.connection(), journal_id)).from_addr or ""
        if not lookup.EMAIL_RE.match(sender):
            raise ValidationError("id", f"message {journal_id} has no sender address to open a ticket for")
        audit(tx, "mail.ticket_from_ignored", "inbound_message", journal_id, outcome=row.outcome)
    return inbound.process(engine, journal_id, force_ticket=True, attachments_dir=attachments_dir)


# --- ticket filters ----------------------------------------------------------------------------------

FILTER_FIELDS = ("from", "from_name", "to", "cc", "subject", "body")
FILTER_OPS = ("contains", "not_contains", "equals", "not_equals", "starts", "ends", "regex")
FILTER_ACTIONS = (
    "department",
    "priority",
    "topic",
    "assignee",
    "team",
    "status",
    "tag",
    "reject",
    "skip_autoresponse",
    "ban",
    "cf.NAME",  # sets a custom field: cf.po=4711
)
_FLAGS = ("reject", "skip_autoresponse", "ban")


@dataclass(frozen=True)
class FilterRow:
    id: int
    name: str
    sort_order: int
    match_all: bool
    conditions: tuple[str, ...]  # "subject contains invoice"
    actions: tuple[str, ...]  # "department=Billing", "reject"
    stop_on_match: bool
    active: bool


def parse_conditions(lines: list[str] | str) -> list[dict[str, str]]:
    """`subject contains invoice` (one a line) -> the stored form; errors name the line."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    out = []
    for n, line in enumerate([x.strip() for x in lines if x.strip()], 1):
        parts = line.split(None, 2)
        if len(parts) < 3:
            raise ValidationError(
                "conditions", f"line {n}: write FIELD OP VALUE, e.g. 'subject contains invoice'"
            )
        fld, op, value = parts[0].lower(), parts[1].lower(), parts[2]
        if fld not in FILTER_FIELDS and not (fld.startswith("header:") and len(fld) > 7):
            raise ValidationError(
                "conditions", f"line {n}: unknown field {fld!r} ({', '.join(FILTER_FIELDS)}, header:NAME)"
            )
        if op not in FILTER_OPS:
            raise ValidationError("conditions", f"line {n}: unknown test {op!r} ({', '.join(FILTER_OPS)})")
        if op == "regex":
            try:
                re.compile(value)
            except re.error as exc:
                raise ValidationError("conditions", f"line {n}: bad regex: {exc}") from None
        out.append({"field": fld, "op": op, "value": value})
    if not out:
        raise ValidationError("conditions", "a filter needs at least one condition")
    return out


def parse_actions(tx: Tx, lines: list[str] | str) -> dict[str, object]:
    """`department=Billing`, `tag=vip`, `reject` (one a line) -> the stored form, names checked."""
    if isinstance(lines, str):
        lines = lines.splitlines()
    out: dict[str, object] = {}
    s = tx.session
    for n, line in enumerate([x.strip() for x in lines if x.strip()], 1):
        key, _, value = (p.strip() for p in line.partition("="))
        key = key.lower()
        if key.startswith("cf.") and key != "cf.name":
            out.setdefault("custom", {})[key[3:]] = _custom_action(s, n, key[3:], value)  # type: ignore[index]
            continue
        if key not in FILTER_ACTIONS:
            raise ValidationError(
                "actions", f"line {n}: unknown action {key!r} ({', '.join(FILTER_ACTIONS)})"
            )
        if key in _FLAGS:
            out[key] = True
            continue
        if not value:
            raise ValidationError("actions", f"line {n}: {key} needs a value ({key}=...)")
        try:
            if key == "department":
                value = lookup.department(s, value, for_new_ticket=True).name
            elif key == "priority":
                value = lookup.priority(s, value).name
            elif key == "topic":
                value = lookup.topic(s, value).name
            elif key == "assignee":
                value = lookup.agent(s, value).username
            elif key == "team":
                value = lookup.team(s, value).name
            elif key == "status":
                value = lookup.status(s, value).name
        except ValidationError as exc:
            raise ValidationError("actions", f"line {n}: {exc.message}") from None
        if key == "tag":
            out.setdefault("tag", [])
            out["tag"].append(value.lower())  # type: ignore[union-attr]
        else:
            out[key] = value
    if not out:
        raise ValidationError("actions", "a filter needs at least one action")
    return out


def _custom_action(s: Session, n: int, name: str, value: str) -> object:
    """A filter's cf.NAME=VALUE: the field must exist and the value suit it, checked as the ticket will be."""
    field = custom_fields.by_name(s, name, "ticket")
    if field is None:
        raise ValidationError("actions", f"line {n}: no ticket field called {name!r} (Admin > Custom fields)")
    try:
        cleaned = custom_fields.clean_value(field, value)
    except ValidationError as exc:
        raise ValidationError("actions", f"line {n}: cf.{name}: {exc.message}") from None
    if cleaned is None:
        raise ValidationError("actions", f"line {n}: cf.{name} needs a value (cf.{name}=...)")
    return cleaned


def _filter_row(f: TicketFilter) -> FilterRow:
    actions = []
    for k, v in (f.actions or {}).items():
        if k == "custom" and isinstance(v, dict):
            actions.extend(f"cf.{name}={custom_fields.display(None, x)}" for name, x in v.items())
        elif v is True:
            actions.append(k)
        elif isinstance(v, list):
            actions.extend(f"{k}={x}" for x in v)
        else:
            actions.append(f"{k}={v}")
    conds = tuple(f"{c.get('field')} {c.get('op')} {c.get('value')}" for c in f.conditions or [])
    return FilterRow(
        f.id, f.name, f.sort_order, f.match_all, conds, tuple(actions), f.stop_on_match, f.active
    )


def list_filters(tx: Tx) -> list[FilterRow]:
    require_admin(tx)
    q = select(TicketFilter).order_by(TicketFilter.sort_order, TicketFilter.id)
    return [_filter_row(f) for f in tx.session.execute(q).scalars()]


def save_filter(
    tx: Tx,
    *,
    filter_id: int | None = None,
    name: str,
    conditions: list[str] | str,
    actions: list[str] | str,
    match_all: bool = True,
    stop_on_match: bool = False,
    sort_order: int = 0,
    active: bool = True,
) -> FilterRow:
    require_admin(tx)
    name = (name or "").strip()
    if not name:
        raise ValidationError("name", "is required")
    conds = parse_conditions(conditions)
    acts = parse_actions(tx, actions)
    row = tx.session.get(TicketFilter, filter_id) if filter_id else TicketFilter(name=name)
    if row is None:
        raise NotFound(f"no filter {filter_id}")
    row.name, row.conditions, row.actions = name, conds, acts
    row.match_all, row.stop_on_match, row.sort_order, row.active = (
        bool(match_all),
        bool(stop_on_match),
        int(sort_order),
        bool(active),
    )
    tx.session.add(row)
    tx.session.flush()
    audit(tx, "filter.save", "ticket_filter", row.id, name=name)
    return _filter_row(row)


def delete_filter(tx: Tx, filter_id: int) -> None:
    require_admin(tx)
    row = tx.session.get(TicketFilter, filter_id)
    if row is None:
        raise NotFound(f"no filter {filter_id}")
    tx.session.delete(row)
    audit(tx, "filter.delete", "ticket_filter", filter_id, name=row.name)


def reorder_filters(tx: Tx, filter_ids: list[int]) -> list[FilterRow]:
    """Put the named filters first, in this order; the rest keep their order after them."""
    require_admin(tx)
    rows = list(
        tx.session.execute(select(TicketFilter).order_by(TicketFilter.sort_order, TicketFilter.id)).scalars()
    )
    by_id = {r.id: r for r in rows}
    missing = [i for i in filter_ids if i not in by_id]
    if missing:
        raise NotFound(f"no filter {missing[0]}")
    if len(set(filter_ids)) != len(filter_ids):
        raise ValidationError("filters", "a filter is named twice")
    ordered = [by_id[i] for i in filter_ids] + [r for r in rows if r.id not in set(filter_ids)]
    # spaced by ten so an admin can still slot one in between by editing its order
    for n, row in enumerate(ordered, 1):
        row.sort_order = n * 10
        tx.session.add(row)
    tx.session.flush()
    audit(tx, "filter.reorder", "ticket_filter", None, order=[r.id for r in ordered])
    return [_filter_row(r) for r in ordered]


def move_filter(tx: Tx, filter_id: int, by: int) -> list[FilterRow]:
    """Move one filter `by` places (negative: earlier, so it runs sooner)."""
    ids = [r.id for r in list_filters(tx)]
    if filter_id not in ids:
        raise NotFound(f"no filter {filter_id}")
    at = min(max(ids.index(filter_id) + by, 0), len(ids) - 1)
    ids.remove(filter_id)
    return reorder_filters(tx, ids[:at] + [filter_id] + ids[at:])


def set_filter_active(tx: Tx, filter_id: int, active: bool) -> FilterRow:
    """Switch a filter off (it stays listed, arriving mail ignores it) or back on."""
    require_admin(tx)
    row = tx.session.get(TicketFilter, filter_id)
    if row is None:
        raise NotFound(f"no filter {filter_id}")
    row.active = bool(active)
    tx.session.add(row)
    audit(tx, "filter.activate" if active else "filter.deactivate", "ticket_filter", filter_id)
    return _filter_row(row)
