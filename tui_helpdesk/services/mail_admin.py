"""Admin use cases for the mail templates: overrides per code, globally or per department."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from tui_helpdesk.mail import templates
from tui_helpdesk.models import BanRule, Department, EmailTemplate

from . import lookup
from .context import Tx, audit, require_admin
from .errors import NotFound, ValidationError
from .lookup import normalise_email

# what the outbox fills in for every message (mail/outbox.py's _variables), plus per-kind extras
KNOWN_VARIABLES = frozenset(
    {
        "ticket.id",
        "ticket.number",
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
    }
)


@dataclass(frozen=True)
class TemplateRow:
    key: str  # "code" or "code@department id", what edit and reset take
    code: str
    department: str  # "" = every department
    subject: str
    body: str
    overridden: bool


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
        out.append(TemplateRow(_key(code, None), code, "", subject, body, row is not None))
        for r in rows:
            if r.code == code and r.department_id is not None:
                dept = tx.session.get(Department, r.department_id)
                out.append(
                    TemplateRow(
                        _key(code, r.department_id), code, dept.name if dept else "?", r.subject, r.body, True
                    )
                )
    return out


def check_text(field: str, text: str) -> None:
    unknown = sorted({m.group(1) for m in templates._VAR.finditer(text)} - KNOWN_VARIABLES)
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


def add_ban(tx: Tx, pattern: str, note: str = "") -> BanRule:
    require_admin(tx)
    pattern = pattern.strip().lower()
    if pattern.startswith("@"):
        if "." not in pattern[1:] or any(c.isspace() for c in pattern):
            raise ValidationError("pattern", f"{pattern!r} is not a domain")
    else:
        pattern = normalise_email(pattern) if pattern else ""
        if not pattern:
            raise ValidationError("pattern", "is required")
    if tx.session.execute(select(BanRule).where(BanRule.pattern == pattern)).scalars().first():
        raise ValidationError("pattern", f"{pattern} is already banned")
    row = BanRule(pattern=pattern, note=note.strip()[:255], created_at=tx.now)
    tx.session.add(row)
    tx.session.flush()
    audit(tx, "ban.add", "ban_rule", row.id, pattern=pattern)
    return row


def remove_ban(tx: Tx, pattern: str) -> None:
    require_admin(tx)
    row = (
        tx.session.execute(select(BanRule).where(BanRule.pattern == pattern.strip().lower()))
        .scalars()
        .first()
    )
    if row is None:
        raise NotFound(f"{pattern} is not banned")
    tx.session.delete(row)
    audit(tx, "ban.remove", "ban_rule", row.id, pattern=row.pattern)
