"""Admin sections for mail: mailboxes (with a connection test), templates, ticket filters, the quarantine,
the ignored mail, the outbox and the ban list.

They plug into the admin screen's registry; `register()` runs each time the admin screen opens. Every
method here runs in one of the admin screen's thread workers and calls the services; text that came
from outside (addresses, subjects, reasons, headers) goes through clean_line before it is shown.
"""

from __future__ import annotations

from typing import Any

from tui_helpdesk.services import door, mail_admin, mailboxes, tickets
from tui_helpdesk.services.context import Tx
from tui_helpdesk.services.errors import ValidationError
from tui_helpdesk.untrusted import clean_line

from .admin import Column, Section, register_section
from .admin_forms import FormField, Options


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _when_short(value: Any) -> str:
    """Today's times as 08:59, older ones with their date; never polled reads as such."""
    if not value:
        return "never"
    from tui_helpdesk import clock

    return value.strftime("%H:%M" if value.date() == clock.now().date() else "%Y-%m-%d %H:%M")


def _choices(values: tuple[str, ...]) -> Options:
    return [(v, v) for v in values]


class MailboxSection(Section):
    title = "Mailboxes"
    noun = "mailbox"
    row_action = "test connection"
    can_archive = False
    hint = "d deactivates one with history"
    # what goes wrong comes first: at 80 columns the table scrolls sideways after the third column
    columns = (
        Column("Address", lambda r: clean_line(r.address)),
        Column("Last poll", lambda r: _when_short(r.last_polled_at) if r.imap_host else "pipe only"),
        Column("Last error", lambda r: clean_line(r.last_error)[:60]),
        Column("Department", lambda r: clean_line(r.department)),
        Column(
            "IMAP",
            lambda r: f"{clean_line(r.imap_host)}:{r.imap_port} {r.imap_security}" if r.imap_host else "",
        ),
        Column("Every", lambda r: f"{r.poll_seconds}s" if r.imap_host else ""),
        Column("Active", lambda r: "yes" if r.active else ""),
    )
    fields = (
        FormField("address", "Address", required=True),
        FormField("name", "Display name"),
        FormField("department", "Department", "select", options_key="departments"),
        FormField("priority", "Default priority", "select", options_key="priorities"),
        FormField("topic", "Default help topic", "select", options_key="topics"),
        FormField("imap_host", "IMAP host", help="empty: mail arrives only by `helpdesk ingest`"),
        FormField("imap_port", "IMAP port", "int"),
        FormField("imap_security", "IMAP encryption", "select", options_key="security", blank=""),
        FormField("imap_user", "IMAP login"),
        FormField("imap_password", "IMAP password", help="leave empty to keep the stored one"),
        FormField("folder", "Folder"),
        FormField("poll_seconds", "Poll every (seconds)", "int"),
        FormField("after_fetch", "After fetching", "select", options_key="after", blank=""),
        FormField("move_to", "Move to folder", help="when 'after fetching' is move"),
        FormField("smtp_host", "SMTP host", help="empty: the global relay (settings smtp_*)"),
        FormField("smtp_port", "SMTP port", "int"),
        FormField("smtp_security", "SMTP encryption", "select", options_key="security", blank=""),
        FormField("smtp_user", "SMTP login"),
        FormField("smtp_password", "SMTP password", help="leave empty to keep the stored one"),
        FormField("active", "Active", "bool"),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return mailboxes.list_all(tx)

    def label(self, row: Any) -> str:
        return row.address

    def initial(self, row: Any | None) -> dict[str, Any]:
        if row is None:
            return {
                "imap_port": 993,
                "imap_security": "ssl",
                "folder": "INBOX",
                "poll_seconds": 60,
                "after_fetch": "seen",
                "smtp_port": 587,
                "smtp_security": "starttls",
                "active": True,
            }
        values = {f.name: getattr(row, f.name, None) for f in self.fields}
        values["imap_password"] = values["smtp_password"] = ""
        return values

    def options(self, tx: Tx) -> dict[str, Options]:
        from tui_helpdesk.services import choices

        return {
            "departments": [(c.name, c.name) for c in choices.departments(tx.session)],
            "priorities": [(c.name, c.name) for c in choices.priorities(tx.session)],
            "topics": [(c.name, c.name) for c in choices.topics(tx.session)],
            "security": _choices(mailboxes.SECURITY),
            "after": _choices(mailboxes.AFTER_FETCH),
        }

    @staticmethod
    def _fields(values: dict[str, Any]) -> dict[str, Any]:
        fields = {k: v for k, v in values.items() if k != "address"}
        for name in ("department", "priority", "topic"):
            if fields.get(name) is None:
                fields[name] = ""
        return fields

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        return mailboxes.add(tx, values.get("address") or "", **self._fields(values))

    def update(self, tx: Tx, key: Any, values: dict[str, Any]) -> Any:
        return mailboxes.edit(tx, key, address=values.get("address"), **self._fields(values))

    def delete(self, tx: Tx, key: Any) -> None:
        mailboxes.delete(tx, key)

    def run_row_action(self, engine: Any, actor: Any, key: Any) -> str:
        return mailboxes.test(engine, actor, key)


class _JournalSection(Section):
    """Rows of the inbound journal (quarantined, ignored): read-only, `v` shows the raw headers."""

    noun = "message"
    view_action = "raw headers"
    can_create = can_edit = can_delete = can_archive = False

    def label(self, row: Any) -> str:
        return f"#{row.id}"

    def is_archived(self, row: Any) -> bool:
        return False

    def view(self, tx: Tx, key: Any) -> tuple[str, list[str]]:
        """The message's header block as it arrived; the dialog cleans each line."""
        return f"Message #{key}: raw headers", mail_admin.message_headers(tx, key)


class QuarantineSection(_JournalSection):
    title = "Quarantine"
    row_action = "retry"
    hint = "mail that could not be processed; its raw bytes are kept"
    columns = (
        Column("#", lambda r: str(r.id)),
        Column("Received", lambda r: _when(r.received_at)),
        Column("From", lambda r: clean_line(r.sender)[:40]),
        Column("Subject", lambda r: clean_line(r.subject)[:50]),
        Column("Reason", lambda r: clean_line(r.reason)[:70]),
        Column("Tries", lambda r: str(r.attempts)),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return mailboxes.journal(tx, "quarantined", limit=500)

    def run_row_action(self, engine: Any, actor: Any, key: Any) -> str:
        result = mailboxes.retry_quarantined(engine, actor, key)
        if result.state == "quarantined":
            return f"message #{key} is still quarantined: {result.reason}"
        return f"message #{key}: {result.outcome or result.state}" + (
            f" on ticket {result.ticket_id}" if result.ticket_id else ""
        )


class IgnoredSection(_JournalSection):
    title = "Ignored mail"
    row_action = "make a ticket"
    hint = "mail that became no ticket, and why; t makes a ticket of one after all"
    columns = (
        Column("#", lambda r: str(r.id)),
        Column("Received", lambda r: _when(r.received_at)),
        Column("From", lambda r: clean_line(r.sender)[:40]),
        Column("Subject", lambda r: clean_line(r.subject)[:50]),
        Column("Why", lambda r: clean_line(r.outcome)),
        Column("Reason", lambda r: clean_line(r.reason)[:70]),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return mail_admin.list_ignored(tx, limit=500)

    def run_row_action(self, engine: Any, actor: Any, key: Any) -> str:
        result = mail_admin.ticket_from_ignored(engine, actor, key)
        if result.state != "done" or result.ticket_id is None:
            return f"message #{key}: {result.state}: {clean_line(result.reason)}"
        number = door.read(engine, actor, lambda tx, i: tickets.view(tx, i, events=False).number, result.ticket_id)
        return f"message #{key} is ticket {number} now"


class OutboxSection(Section):
    title = "Outbox"
    noun = "message"
    row_action = "retry now"
    can_create = can_edit = can_delete = can_archive = False
    hint = "outgoing mail not yet sent; failed after all retries at the top"
    columns = (
        Column("#", lambda r: str(r.id)),
        Column("State", lambda r: r.state),
        Column("Ticket", lambda r: r.ticket),
        Column("To", lambda r: clean_line(", ".join(r.to))[:40]),
        Column("Subject", lambda r: clean_line(r.subject)[:40]),
        Column("Tries", lambda r: str(r.attempts)),
        Column("Next try", lambda r: _when(r.next_attempt_at) if r.state == "queued" else ""),
        Column("Last error", lambda r: clean_line(r.last_error)[:60]),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        pending = [r for r in mailboxes.outbox(tx, limit=500) if r.state != "sent"]
        return sorted(pending, key=lambda r: (r.state != "failed", -r.id))

    def label(self, row: Any) -> str:
        return f"#{row.id}"

    def is_archived(self, row: Any) -> bool:
        return False

    def run_row_action(self, engine: Any, actor: Any, key: Any) -> str:
        door.write(engine, actor, mailboxes.outbox_retry, key)
        return f"message #{key} will be sent on the worker's next pass"


class BanSection(Section):
    title = "Ban list"
    noun = "ban"
    can_edit = can_archive = False
    hint = "an address, or @domain for a whole domain"
    columns = (
        Column("Pattern", lambda r: clean_line(r.pattern)),
        Column("Note", lambda r: clean_line(r.note)),
        Column("Added", lambda r: _when(r.created_at)),
    )
    fields = (FormField("pattern", "Address or @domain", required=True), FormField("note", "Note"))

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return mail_admin.list_bans(tx)

    def label(self, row: Any) -> str:
        return row.pattern

    def is_archived(self, row: Any) -> bool:
        return False

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        return mail_admin.add_ban(tx, values.get("pattern") or "", values.get("note") or "")

    def delete(self, tx: Tx, key: Any) -> None:
        mail_admin.remove_ban(tx, int(key))


def register() -> None:
    register_section("Mailboxes", MailboxSection, after="Settings")
    register_section("Templates", TemplateSection, after="Mailboxes")
    register_section("Quarantine", QuarantineSection, after="Templates")
    register_section("Ignored mail", IgnoredSection, after="Quarantine")
    register_section("Outbox", OutboxSection, after="Ignored mail")
    register_section("Ticket filters", FilterSection, after="Templates")
    register_section("Ban list", BanSection, after="Outbox")


class TemplateSection(Section):
    title = "Templates"
    noun = "template"
    can_archive = False
    hint = "n adds a department's own text · d resets to the built-in one"
    columns = (
        Column("Template", lambda r: r.code),
        Column("Department", lambda r: clean_line(r.department) or "all"),
        Column("Subject", lambda r: clean_line(r.subject)[:50]),
        Column("Changed", lambda r: "yes" if r.overridden else ""),
    )
    fields = (
        FormField("code", "Template", "select", options_key="codes", blank=""),
        FormField("department", "Department", "select", options_key="departments", blank="(all departments)"),
        FormField("subject", "Subject", required=True),
        FormField(
            "body",
            "Body",
            "textarea",
            required=True,
            help="variables: " + " ".join(mail_admin.template_variables()),
        ),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return mail_admin.list_templates(tx)

    def key(self, row: Any) -> Any:
        return row.key

    def label(self, row: Any) -> str:
        return f"{row.code} ({row.department or 'all'})"

    def is_archived(self, row: Any) -> bool:
        return False

    def initial(self, row: Any | None) -> dict[str, Any]:
        if row is None:
            return {}
        return {
            "code": row.code,
            "department": row.department or None,
            "subject": row.subject,
            "body": row.body,
        }

    def options(self, tx: Tx) -> dict[str, Options]:
        from tui_helpdesk.mail import templates
        from tui_helpdesk.services import choices

        return {
            "codes": [(c, c) for c in sorted(templates.DEFAULTS)],
            "departments": [(c.name, c.name) for c in choices.departments(tx.session)],
        }

    def _save(self, tx: Tx, values: dict[str, Any]) -> Any:
        return mail_admin.save_template(
            tx,
            values.get("code") or "",
            values.get("subject") or "",
            values.get("body") or "",
            values.get("department") or None,
        )

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        return self._save(tx, values)

    def update(self, tx: Tx, key: Any, values: dict[str, Any]) -> Any:
        return self._save(tx, values)

    def delete(self, tx: Tx, key: Any) -> None:
        mail_admin.reset_template(tx, key)


class FilterSection(Section):
    title = "Ticket filters"
    noun = "filter"
    row_action = "move up"
    hint = "rules for arriving mail, run top to bottom"
    columns = (
        Column("#", lambda r: str(r.sort_order)),
        Column("Name", lambda r: clean_line(r.name)),
        Column("When", lambda r: clean_line(("; " if r.match_all else " | ").join(r.conditions))[:50]),
        Column("Then", lambda r: clean_line(", ".join(r.actions))[:40]),
        Column("Active", lambda r: "yes" if r.active else ""),
    )
    fields = (
        FormField("name", "Name", required=True),
        FormField(
            "conditions",
            "When (one a line)",
            "textarea",
            required=True,
            help="FIELD OP VALUE: from/to/cc/subject/body/header:NAME, contains/equals/starts/ends/regex",
        ),
        FormField(
            "actions",
            "Then (one a line)",
            "textarea",
            required=True,
            help="department=, priority=, topic=, assignee=, team=, status=, tag=, cf.NAME= (a custom field), "
            "reject, skip_autoresponse",
        ),
        FormField("match_any", "Match when any condition holds", "bool"),
        FormField("stop_on_match", "Stop after this filter", "bool"),
        FormField("sort_order", "Order", "int"),
        FormField("active", "Active", "bool"),
    )

    def rows(self, tx: Tx, search: str) -> list[Any]:
        return mail_admin.list_filters(tx)

    def initial(self, row: Any | None) -> dict[str, Any]:
        if row is None:
            return {"sort_order": 0, "active": True}
        return {
            "name": row.name,
            "conditions": "\n".join(row.conditions),
            "actions": "\n".join(row.actions),
            "match_any": not row.match_all,
            "stop_on_match": row.stop_on_match,
            "sort_order": row.sort_order,
            "active": row.active,
        }

    def _save(self, tx: Tx, filter_id: int | None, values: dict[str, Any]) -> Any:
        try:
            order = int(str(values.get("sort_order") or 0).strip())
        except ValueError:
            raise ValidationError("sort_order", "must be a whole number") from None
        return mail_admin.save_filter(
            tx,
            filter_id=filter_id,
            name=values.get("name") or "",
            conditions=values.get("conditions") or "",
            actions=values.get("actions") or "",
            match_all=not values.get("match_any"),
            stop_on_match=bool(values.get("stop_on_match")),
            sort_order=order,
            active=bool(values.get("active")),
        )

    def create(self, tx: Tx, values: dict[str, Any]) -> Any:
        return self._save(tx, None, values)

    def update(self, tx: Tx, key: Any, values: dict[str, Any]) -> Any:
        return self._save(tx, key, values)

    def delete(self, tx: Tx, key: Any) -> None:
        mail_admin.delete_filter(tx, key)

    def archive(self, tx: Tx, key: Any) -> Any:
        return mail_admin.set_filter_active(tx, key, False)

    def run_row_action(self, engine: Any, actor: Any, key: Any) -> str:
        rows = door.write(engine, actor, mail_admin.move_filter, key, -1)
        place = next(n for n, r in enumerate(rows, 1) if r.id == key)
        return f"filter {clean_line(rows[place - 1].name)!r} now runs {_ordinal(place)}"


register()
