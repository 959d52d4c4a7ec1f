"""Desk-wide things an admin keeps: canned responses and the settings (services/settings.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from tui_helpdesk.models import Agent, Department, Setting
from tui_helpdesk.models.views import CannedResponse

from .. import canned, lookup, settings
from ..context import Tx, require_admin
from ..errors import ValidationError
from . import _common as c

# --- canned responses -------------------------------------------------------------------------------------

CANNED_FIELDS = ("title", "body", "department", "owner", "active")


@dataclass(frozen=True)
class CannedRow:
    id: int
    title: str
    body: str
    department_id: int | None
    department: str  # "" = every department
    owner_id: int | None
    owner: str  # "" = shared by every agent
    active: bool




def list_canned(tx: Tx) -> list[CannedRow]:
    s = tx.session
    depts = {d.id: d.name for d in s.execute(select(Department)).scalars()}
    agents = {a.id: a.username for a in s.execute(select(Agent)).scalars()}
    return [
        CannedRow(
            r.id,
            r.title,
            r.body,
            r.department_id,
            depts.get(r.department_id, ""),
            r.owner_id,
            agents.get(r.owner_id, ""),
            r.active,
        )
        for r in s.execute(select(CannedResponse).order_by(CannedResponse.title)).scalars()
    ]


def _canned_row(tx: Tx, canned_id: int) -> CannedRow:
    tx.session.flush()
    return next(r for r in list_canned(tx) if r.id == canned_id)


def _apply_canned(tx: Tx, row: CannedResponse, values: dict[str, Any]) -> None:
    s = tx.session
    c.check_keys(values, CANNED_FIELDS)
    if "title" in values:
        row.title = c.text(values["title"], "title", required=True, limit=200)
    if "body" in values:
        row.body = "" if values["body"] is None else str(values["body"])
        if not row.body.strip():
            raise ValidationError("body", "is required")
        canned.require_known_variables(row.body)
    if "department" in values:
        row.department_id = c.ref(s, values["department"], "department", lookup.department)
    if "owner" in values:
        row.owner_id = c.ref(s, values["owner"], "owner", lookup.agent)
    if "active" in values:
        row.active = c.boolean(values["active"], "active")
    same_scope = (
        CannedResponse.department_id.is_(None)
        if row.department_id is None
        else CannedResponse.department_id == row.department_id
    )
    c.unique(s, CannedResponse.title, row.title, row.id, "title", "a canned response here titled", same_scope)


_CANNED_AUDIT = ("title", "body", "department_id", "owner_id", "active")


def create_canned(tx: Tx, **values: Any) -> CannedRow:
    require_admin(tx)
    values.setdefault("title", "")
    values.setdefault("body", "")
    row = CannedResponse(title="")
    _apply_canned(tx, row, values)
    tx.session.add(row)
    tx.session.flush()
    c.record(tx, "create", "canned_response", row.id, title=row.title, department_id=row.department_id)
    return _canned_row(tx, row.id)


def update_canned(tx: Tx, canned_id: int, **values: Any) -> CannedRow:
    require_admin(tx)
    row = c.get(tx.session, CannedResponse, canned_id, "canned response")
    before = c.snapshot(row, _CANNED_AUDIT)
    _apply_canned(tx, row, values)
    tx.session.add(row)
    changes = c.diff(before, c.snapshot(row, _CANNED_AUDIT))
    if changes:
        c.record(tx, "update", "canned_response", row.id, changes=changes)
    return _canned_row(tx, row.id)


def archive_canned(tx: Tx, canned_id: int) -> CannedRow:
    return update_canned(tx, canned_id, active=False)


def delete_canned(tx: Tx, canned_id: int) -> None:
    # Replies keep their text, so nothing points at a canned response: it can always go.
    require_admin(tx)
    row = c.get(tx.session, CannedResponse, canned_id, "canned response")
    tx.session.delete(row)
    c.record(tx, "delete", "canned_response", canned_id, title=row.title)


# --- settings ---------------------------------------------------------------------------------------------

SECRET_SETTINGS = settings.SECRET

DESCRIPTIONS: dict[str, str] = {
    "helpdesk_name": "Name shown in the app and in mail",
    "number_prefix": "Ticket numbers look like PREFIX-1042",
    "number_start": "First ticket number of a new desk",
    "reopen_window_days": "Days a resolved ticket can be reopened by a customer reply",
    "closed_reopen_policy": "Who may reopen a closed ticket: staff or never",
    "late_reply_policy": "A reply after the window: new_ticket or refuse",
    "edit_window_minutes": "Minutes an agent may edit their own entry",
    "attachment_max_mb": "Largest attachment accepted, in MB",
    "max_body_bytes": "Largest reply, note or new ticket body, in bytes (0: no limit)",
    "max_message_bytes": "Largest incoming mail, in bytes; bigger mail is kept unread and its sender told (0: no limit)",
    "attachment_blocked_ext": "File types refused as attachments (comma separated)",
    "attachment_max_files": "Files accepted in one upload (a reply, a note, a new ticket, a mail)",
    "billing_currency": "Currency of hourly rates and invoices (ISO 4217, e.g. EUR)",
    "unknown_sender_policy": "Mail from an unknown sender: create, domain or reject",
    "thread_org_members": "Anyone of a ticket's organization may reply onto it by mail (else a linked new ticket)",
    "agent_mail_as": "An agent's mail on a ticket's thread becomes a note or a reply",
    "smtp_password": "Password of the outgoing mail server; write-only: left empty it is kept, d clears it",
    "mail_secret": "Key that signs reply tokens; write-only: left empty it is kept, d clears it",
    "alert_rate_limit_per_ticket_per_hour": "Agent alerts per ticket and agent in an hour (0: no limit)",
    "autoclose_statuses": "Statuses the auto-close chaser watches (comma separated)",
    "ssh_require_totp": "Every agent needs a TOTP code to log in over SSH (helpdesk agent totp enable)",
    "ssh_idle_timeout_minutes": "Minutes without a keystroke before an SSH session is closed (0: never)",
    "ssh_max_sessions_per_agent": "SSH sessions one agent may hold at once (0: no limit)",
    "ssh_max_sessions": "SSH sessions the server holds at once (0: no limit)",
}


@dataclass(frozen=True)
class SettingRow:
    key: str
    value: Any
    default: Any
    is_default: bool
    kind: str  # bool | int | list | choice | text
    choices: tuple[str, ...]
    description: str
    secret: bool

    @property
    def id(self) -> str:
        return self.key

    @property
    def display(self) -> str:
        if self.secret:
            return "(set)" if self.value else "(not set)"
        if isinstance(self.value, bool):
            return "yes" if self.value else "no"
        if isinstance(self.value, list):
            return ", ".join(str(v) for v in self.value)
        return str(self.value)


def _kind(key: str) -> str:
    default = settings.DEFAULTS[key]
    if key in settings._CHOICES:
        return "choice"
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    if isinstance(default, list):
        return "list"
    return "text"


def list_settings(tx: Tx) -> list[SettingRow]:
    values = settings.all_settings(tx.session)
    return [
        SettingRow(
            key,
            # a secret's value never leaves the services: the row only knows whether it is set
            ("(set)" if values[key] else "") if key in SECRET_SETTINGS else values[key],
            default,
            values[key] == default,
            _kind(key),
            tuple(sorted(settings._CHOICES.get(key, ()))),
            DESCRIPTIONS.get(key, ""),
            key in SECRET_SETTINGS,
        )
        for key, default in settings.DEFAULTS.items()
    ]


def _setting_row(tx: Tx, key: str) -> SettingRow:
    tx.session.flush()
    return next(r for r in list_settings(tx) if r.key == key)


def _extra_checks(key: str, value: Any) -> Any:
    if key == "attachment_blocked_ext":
        cleaned = []
        for ext in value:
            ext = str(ext).strip().lower()
            ext = ext if ext.startswith(".") else f".{ext}"
            if len(ext) < 2 or any(ch in ext[1:] for ch in "/\\ ."):
                raise ValidationError(key, f"{ext!r} is not a file extension (like .exe)")
            if ext not in cleaned:
                cleaned.append(ext)
        return cleaned
    if key == "attachment_max_mb" and value < 1:
        raise ValidationError(key, "must be at least 1 MB")
    if key in ("number_prefix", "billing_currency"):
        return value.upper()
    if key in {"default_from"} and value:
        return c.email(value, key)
    return value


def set_setting(tx: Tx, key: str, value: Any) -> SettingRow:
    require_admin(tx)
    if key in SECRET_SETTINGS and str(value if value is not None else "").strip() == "":
        # a secret is write-only: every face shows it empty, so empty keeps it (reset_setting clears it)
        return _setting_row(tx, key)
    value = _extra_checks(key, settings.coerce(key, value))
    old = settings.get(tx.session, key)
    settings.put(tx.session, key, value)
    if old != value:
        c.record(
            tx,
            "update",
            "setting",
            None,
            key=key,
            changes=c.diff({key: old}, {key: value}, secret=SECRET_SETTINGS),
        )
    return _setting_row(tx, key)


def reset_setting(tx: Tx, key: str) -> SettingRow:
    """Back to the built-in default."""
    require_admin(tx)
    if key not in settings.DEFAULTS:
        raise ValidationError(key, "unknown setting")
    row = tx.session.get(Setting, key)
    if row is not None:
        tx.session.delete(row)
        c.record(tx, "reset", "setting", None, key=key)
    return _setting_row(tx, key)
