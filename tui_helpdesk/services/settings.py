"""Help desk policy shared by every agent and the worker, stored in the settings table."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from tui_helpdesk.models import Setting

from .errors import ValidationError

DEFAULTS: dict[str, Any] = {
    "helpdesk_name": "Help Desk",
    "number_prefix": "TCK",
    "number_start": 1000,
    "reopen_window_days": 7,
    # who may reopen a closed ticket: "staff" (osTicket) or "never" (ITFlow)
    "closed_reopen_policy": "staff",
    # a customer reply after the window or on a closed ticket: "new_ticket" or "refuse"
    "late_reply_policy": "new_ticket",
    "edit_window_minutes": 15,
    "attachment_max_mb": 25,
    # largest body of a reply, note or new ticket typed by an agent, in bytes (0: no limit)
    "max_body_bytes": 1_000_000,
    # largest raw message the mail ingest turns into a ticket; a bigger one is kept and quarantined
    "max_message_bytes": 50 * 1024 * 1024,
    "attachment_blocked_ext": [".exe", ".bat", ".cmd", ".sh", ".ps1", ".vbs", ".dll", ".so", ".dylib"],
    # files in one upload (a reply, a note, a new ticket, one incoming mail): seed 001's 10
    "attachment_max_files": 10,
    # the ISO 4217 code of hourly rates and invoices (services/billing.py)
    "billing_currency": "USD",
    # mail from an unknown sender: "create" (osTicket), "domain" (ITFlow: known org domain only), "reject"
    "unknown_sender_policy": "create",
    "add_cc_as_collaborators": True,
    # an address of a ticket's organization may thread onto it (by header, token or subject number)
    "thread_org_members": False,
    # an agent's mail from their own address on a ticket's thread: "note" (internal) or "reply" (sent)
    "agent_mail_as": "note",
    # agent alerts per ticket and agent in an hour (0: no limit): a mail loop must not flood the team
    "alert_rate_limit_per_ticket_per_hour": 10,
    "autoresponse_new_ticket": True,
    "autoresponse_new_message": False,
    "autoresponse_rate_limit_per_hour": 5,
    "alert_new_ticket": True,
    "alert_new_message": True,
    "alert_assignment": True,
    "alert_transfer": True,
    "alert_overdue": True,
    "notify_client_on_create": True,
    "notify_client_on_close": True,
    "new_ticket_distribution": "",
    # signs our outgoing Message-IDs so forged In-Reply-To headers are not trusted; made on first use
    "mail_secret": "",
    # the default SMTP relay when a mailbox has none of its own
    "smtp_host": "",
    "smtp_port": 25,
    "smtp_security": "none",
    "smtp_user": "",
    "smtp_password": "",
    "default_from": "",
    "autoclose_statuses": [],
    "autoclose_chaser_days": 3,
    "autoclose_close_days": 4,
    # seed 002's status ids in the HTTP API (PUT /api/tickets/{ref}/status {"status": 2}): ID=NAME pairs,
    # each NAME a status or a state (its default status)
    "api_status_ids": "1=open, 2=closed, 3=pending, 4=pending, 5=open",
    # the HTTP API's address as customers reach it (https://help.example.com): a published knowledge-base
    # article's public text is at <this>/api/public/kb/<slug>; empty: no links to articles are offered
    "kb_public_url": "",
    # days a deleted ticket stays archived (and restorable) before the worker purges it and its files
    "ticket_delete_retention_days": 30,
    # `helpdesk serve --ssh` (services/ssh_access.py): a TOTP code from every agent, not only those who
    # turned it on; minutes without a keystroke before a session is closed (0: never); session limits
    "ssh_require_totp": False,
    "ssh_idle_timeout_minutes": 30,
    "ssh_max_sessions_per_agent": 3,
    "ssh_max_sessions": 40,
}

# Write-only for everyone: every face shows them as "(set)" / "(not set)" and the audit log records that
# they changed, never their values. (Mailbox passwords live on the mailbox and follow the same rule.)
SECRET = frozenset({"smtp_password", "mail_secret"})

_CHOICES = {
    "closed_reopen_policy": {"staff", "never"},
    "late_reply_policy": {"new_ticket", "refuse"},
    "unknown_sender_policy": {"create", "domain", "reject"},
    "agent_mail_as": {"note", "reply"},
}


_CACHE = "helpdesk_settings"


def get(session: Session, key: str) -> Any:
    """A setting's value, from the one cache: every setting is read in one query, once per session
    (a session is one transaction here; an arriving message reads a dozen settings)."""
    if key not in DEFAULTS:
        raise KeyError(key)
    cache = session.info.get(_CACHE)
    if cache is None:
        cache = all_settings(session)
        session.info[_CACHE] = cache
    return cache[key]


def all_settings(session: Session) -> dict[str, Any]:
    values = dict(DEFAULTS)
    for row in session.execute(select(Setting)).scalars():
        if row.key in values and row.value is not None:
            values[row.key] = row.value
    return values


def coerce(key: str, value: Any) -> Any:
    """Check and convert a value (strings from the CLI or a form) to the default's type."""
    if key not in DEFAULTS:
        raise ValidationError(key, "unknown setting")
    default = DEFAULTS[key]
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                if value.lower() not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                    raise ValueError(value)
                value = value.lower() in {"1", "true", "yes", "on"}
            value = bool(value)
        elif isinstance(default, int):
            value = int(value)
            if value < 0:
                raise ValidationError(key, "must not be negative")
        elif isinstance(default, list):
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            value = list(value)
        else:
            value = str(value).strip()
    except (TypeError, ValueError) as exc:
        raise ValidationError(key, f"expected a {type(default).__name__}, got {value!r}") from exc
    if key in _CHOICES and value not in _CHOICES[key]:
        raise ValidationError(key, f"must be one of {', '.join(sorted(_CHOICES[key]))}")
    if key == "api_status_ids":
        id_pairs(value)
    if key == "kb_public_url" and value and not value.startswith(("http://", "https://")):
        raise ValidationError(key, "an address starting with https:// (or http://)")
    if key == "billing_currency" and not (len(value) == 3 and value.isalpha()):
        raise ValidationError(key, "a three-letter currency code (ISO 4217), e.g. EUR")
    if key == "attachment_max_files" and value < 1:
        raise ValidationError(key, "must be at least 1")
    if key == "number_prefix" and (not value or not value.replace("_", "").isalnum()):
        raise ValidationError(key, "letters, digits and _ only")
    return value


def id_pairs(text: str) -> dict[str, str]:
    """`1=open, 2=closed` -> {"1": "open", "2": "closed"}; ValidationError naming api_status_ids."""
    pairs: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in str(text or "").split(","))):
        ident, sep, name = part.partition("=")
        if not sep or not ident.strip().isdigit() or not name.strip():
            raise ValidationError("api_status_ids", f"expected ID=NAME pairs (1=open, 2=closed), got {part!r}")
        pairs[ident.strip()] = name.strip()
    return pairs


def put(session: Session, key: str, value: Any) -> Any:
    value = coerce(key, value)
    if _CACHE in session.info:
        session.info[_CACHE][key] = value
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
        session.add(row)
    return value
