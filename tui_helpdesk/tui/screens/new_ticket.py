"""The new-ticket form (`N` in the queue): an agent opens a ticket on behalf of a contact.

The form never decides what is valid: it sends what was typed to `ticket_create.create_with_files`
and shows each ValidationError beside the field it names, leaving every field as typed. The requester
field searches contacts as the agent types (Down/Up move through the matches, Enter takes one); an
address nobody has yet becomes a new contact when the ticket is created. Keys: ctrl+s create,
ctrl+g body in $EDITOR, Esc cancel (asks first when something was typed).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Checkbox, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from tui_helpdesk.resources import stylesheet
from tui_helpdesk.services import choices, contacts, custom_fields, door, settings
from tui_helpdesk.services.admin.clients import ContactRow
from tui_helpdesk.services.choices import Choice
from tui_helpdesk.services.errors import ServiceError, ValidationError
from tui_helpdesk.services.ticket_create import create_with_files
from tui_helpdesk.tui.context import ctx_of
from tui_helpdesk.tui.widgets.footer import Footer
from tui_helpdesk.tui.widgets.pickers import ConfirmScreen
from tui_helpdesk.untrusted import clean_line

# the field a service error names -> the form field it is shown beside
FIELD_OF: dict[str, str] = {
    "contact": "requester",
    "email": "requester",
    "organization": "organization",
    "department": "department",
    "topic": "topic",
    "category": "category",
    "type": "type",
    "item": "item",
    "priority": "priority",
    "subject": "subject",
    "body": "body",
    "attachment": "files",
    "cc": "cc",
}
FORM_FIELDS = (
    "requester", "name", "organization", "department", "topic", "category", "type", "item", "priority",
    "subject", "body", "files", "cc",
)


@dataclass(frozen=True)
class Options:
    departments: list[Choice]
    topics: list[Choice]
    priorities: list[Choice]
    organizations: list[Choice]
    categories: list[Choice]
    notify_default: bool
    fields: tuple[custom_fields.FieldRow, ...] = ()  # every active ticket field; those that apply show
    topic_departments: dict[int, int | None] | None = None  # where a topic without a department opens it


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


class NewTicketScreen(Screen[int | None]):
    """Dismisses with the new ticket's id, or None when the agent cancels."""

    CSS_PATH = stylesheet("client.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "create", "Create", id="new_ticket.create", priority=True),
        Binding("ctrl+g", "editor", "Body in $EDITOR", id="new_ticket.editor", priority=True),
        Binding("escape", "cancel", "Cancel", id="new_ticket.cancel"),
    ]

    class Loaded(Message):
        def __init__(self, options: Options) -> None:
            super().__init__()
            self.options = options

    class Found(Message):
        def __init__(self, query: str, rows: list[ContactRow]) -> None:
            super().__init__()
            self.query = query
            self.rows = rows

    class Cascade(Message):
        def __init__(self, kind: str, rows: list[Choice]) -> None:
            super().__init__()
            self.kind = kind
            self.rows = rows

    class Failed(Message):
        def __init__(self, error: ServiceError) -> None:
            super().__init__()
            self.error = error

    def __init__(self) -> None:
        super().__init__()
        self.custom: tuple[custom_fields.FieldRow, ...] = ()
        self.topic_departments: dict[int, int | None] = {}
        self.contact: ContactRow | None = None  # the contact picked from the matches
        self.matches: list[ContactRow] = []
        self.busy = False

    # --- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(Text(" NEW TICKET ", style="bold reverse"), id="nt-title")
        with VerticalScroll(id="nt-form"):
            yield from self._row("requester", "Requester", Input(
                id="nt-requester", placeholder="type a name or an address; a new address makes a contact",
                compact=True,
            ))
            yield OptionList(id="nt-matches")
            yield from self._row("name", "Name", Input(id="nt-name", placeholder="for a new contact", compact=True))
            yield from self._row("organization", "Organization", Select([], id="nt-organization",
                                                                         prompt="(from the contact)", compact=True))
            yield from self._row("department", "Department", Select([], id="nt-department",
                                                                     prompt="(from the topic)", compact=True))
            yield from self._row("topic", "Help topic", Select([], id="nt-topic", prompt="(none)", compact=True))
            yield from self._row("category", "Category", Select([], id="nt-category", prompt="(none)", compact=True))
            yield from self._row("type", "Type", Select([], id="nt-type", prompt="(none)", compact=True,
                                                        disabled=True))
            yield from self._row("item", "Item", Select([], id="nt-item", prompt="(none)", compact=True,
                                                        disabled=True))
            yield from self._row("priority", "Priority", Select([], id="nt-priority", prompt="(default)",
                                                                compact=True))
            yield Vertical(id="nt-custom")  # the custom fields, once loaded (they follow topic and department)
            yield from self._row("subject", "Subject", Input(id="nt-subject", compact=True))
            yield from self._row("body", "Message", TextArea(id="nt-body", soft_wrap=True, tab_behavior="focus"))
            yield from self._row("files", "Attach", Input(
                id="nt-files", placeholder="paths of files, separated by commas", compact=True
            ))
            yield from self._row("cc", "CC", Input(id="nt-cc", placeholder="addresses, separated by commas",
                                                   compact=True))
            with Horizontal(classes="nt-row"):
                yield Label("", classes="nt-label")
                yield Checkbox("Send the customer a copy", True, id="nt-notify", compact=True)
        yield Static("", id="nt-message")
        yield Footer()

    @staticmethod
    def _row(field: str, label: str, widget: Any) -> ComposeResult:
        with Horizontal(classes="nt-row", id=f"nt-row-{field}"):
            yield Label(label, classes="nt-label")
            yield widget
        yield Static("", classes="nt-error", id=f"nt-error-{field}")

    def on_mount(self) -> None:
        matches = self.query_one("#nt-matches", OptionList)
        matches.can_focus = False
        matches.display = False
        self.query_one("#nt-requester", Input).focus()
        self._load()

    @work(thread=True, group="nt-load")
    def _load(self) -> None:
        ctx = ctx_of(self)
        engine = ctx.engine
        options = Options(
            choices.departments(engine), choices.topic_paths(engine), choices.priorities(engine),
            choices.organizations(engine), choices.classifications(engine, "category", None),
            bool(door.read(engine, ctx.actor, lambda tx: settings.get(tx.session, "notify_client_on_create"))),
            tuple(door.read(engine, ctx.actor, lambda tx: custom_fields.definitions(tx.session, "ticket"))),
            door.read(engine, ctx.actor, lambda tx: custom_fields.topic_departments(tx.session)),
        )
        self.post_message(self.Loaded(options))

    def on_new_ticket_screen_loaded(self, message: Loaded) -> None:
        o = message.options
        for wid, rows in (
            ("#nt-department", o.departments), ("#nt-topic", o.topics), ("#nt-priority", o.priorities),
            ("#nt-organization", o.organizations), ("#nt-category", o.categories),
        ):
            self.query_one(wid, Select).set_options([(clean_line(c.name), c.id) for c in rows])
        self.query_one("#nt-notify", Checkbox).value = o.notify_default
        self.custom = o.fields
        self.topic_departments = o.topic_departments or {}
        box = self.query_one("#nt-custom", Vertical)
        for f in o.fields:
            box.mount(*_custom_row(f))
        self._show_custom()

    # --- custom fields: those that apply to the chosen topic and department show ---------------------

    @on(Select.Changed, "#nt-topic")
    @on(Select.Changed, "#nt-department")
    def _placement_changed(self) -> None:
        self._show_custom()

    def _show_custom(self) -> None:
        topic, dept = self._value("topic"), self._value("department")
        if dept is None and topic is not None:
            dept = self.topic_departments.get(topic)
        for f in self.custom:
            shown = f.applies_to(topic, dept)
            self.query_one(f"#nt-row-cf-{f.name}").display = shown
            if not shown:
                self._error(f"cf-{f.name}", "")

    def custom_values(self) -> dict[str, Any]:
        """The shown custom fields' values as typed (the service types and checks them)."""
        out: dict[str, Any] = {}
        for f in self.custom:
            if not self.query_one(f"#nt-row-cf-{f.name}").display:
                continue
            widget = self.query_one(f"#nt-cf-{f.name}")
            if isinstance(widget, Checkbox):
                out[f.name] = widget.value
            elif isinstance(widget, Select):
                if isinstance(widget.value, str):
                    out[f.name] = widget.value
            elif isinstance(widget, TextArea):
                if widget.text.strip():
                    out[f.name] = widget.text
            elif isinstance(widget, Input) and widget.value.strip():
                out[f.name] = widget.value
        return out

    # --- the requester: search as the agent types --------------------------------------------------

    @on(Input.Changed, "#nt-requester")
    def _requester_typed(self, event: Input.Changed) -> None:
        if self.contact is not None and event.value.strip().lower() != self.contact.email:
            self.contact = None
        self._error("requester", "")
        if self.contact is None:
            self._search(event.value)

    @work(thread=True, exclusive=True, group="nt-search")
    def _search(self, text: str) -> None:
        ctx = ctx_of(self)
        try:
            rows = door.read(ctx.engine, ctx.actor, contacts.search, text)
        except ServiceError:
            rows = []
        self.post_message(self.Found(text, rows))

    def on_new_ticket_screen_found(self, message: Found) -> None:
        if message.query != self.query_one("#nt-requester", Input).value or self.contact is not None:
            return  # a newer search is on its way, or the agent already chose
        self.matches = message.rows
        ol = self.query_one("#nt-matches", OptionList)
        ol.clear_options()
        for c in message.rows:
            label = Text(clean_line(c.name or c.email))
            label.append(f"  <{clean_line(c.email)}>", style="dim")
            if c.organization:
                label.append(f"  {clean_line(c.organization)}", style="italic")
            ol.add_option(Option(label))
        ol.display = bool(message.rows)
        if message.rows:
            ol.highlighted = 0

    def on_key(self, event: Any) -> None:
        ol = self.query_one("#nt-matches", OptionList)
        if not (ol.display and self.focused is self.query_one("#nt-requester", Input)):
            return
        if event.key in ("down", "up") and ol.option_count:
            event.stop()
            step = 1 if event.key == "down" else -1
            ol.highlighted = ((ol.highlighted or 0) + step) % ol.option_count

    @on(Input.Submitted, "#nt-requester")
    def _requester_submitted(self) -> None:
        ol = self.query_one("#nt-matches", OptionList)
        if ol.display and ol.highlighted is not None and ol.highlighted < len(self.matches):
            self._take(self.matches[ol.highlighted])
        self.focus_next()

    @on(OptionList.OptionSelected, "#nt-matches")
    def _match_clicked(self, event: OptionList.OptionSelected) -> None:
        self._take(self.matches[event.option_index])

    def _take(self, contact: ContactRow) -> None:
        self.contact = contact
        self.query_one("#nt-requester", Input).value = contact.email
        self.query_one("#nt-name", Input).value = contact.name
        if contact.organization_id is not None:
            self.query_one("#nt-organization", Select).value = contact.organization_id
        self.query_one("#nt-matches", OptionList).display = False

    # --- category -> type -> item ------------------------------------------------------------------

    @on(Select.Changed, "#nt-category")
    def _category_changed(self, event: Select.Changed) -> None:
        self._reset("type")
        self._reset("item")
        if isinstance(event.value, int):
            self._children("type", event.value)

    @on(Select.Changed, "#nt-type")
    def _type_changed(self, event: Select.Changed) -> None:
        self._reset("item")
        if isinstance(event.value, int):
            self._children("item", event.value)

    def _reset(self, kind: str) -> None:
        select = self.query_one(f"#nt-{kind}", Select)
        select.set_options([])
        select.disabled = True

    @work(thread=True, group="nt-cascade")
    def _children(self, kind: str, parent: int) -> None:
        self.post_message(self.Cascade(kind, choices.classifications(ctx_of(self).engine, kind, parent)))

    def on_new_ticket_screen_cascade(self, message: Cascade) -> None:
        select = self.query_one(f"#nt-{message.kind}", Select)
        select.set_options([(clean_line(c.name), c.id) for c in message.rows])
        select.disabled = not message.rows

    # --- creating ------------------------------------------------------------------------------

    def _value(self, field: str) -> Any:
        value = self.query_one(f"#nt-{field}", Select).value
        return value if isinstance(value, int) else None

    def fields(self) -> dict[str, Any]:
        """What the form sends: exactly what was typed and chosen, for the service to judge."""
        text = {f: self.query_one(f"#nt-{f}", Input).value for f in ("requester", "name", "subject", "files", "cc")}
        out: dict[str, Any] = {
            "subject": text["subject"],
            "body": self.query_one("#nt-body", TextArea).text,
            "contact_name": text["name"],
            "organization": self._value("organization"),
            "department": self._value("department"),
            "topic": self._value("topic"),
            "category": self._value("category"),
            "type": self._value("type"),
            "item": self._value("item"),
            "priority": self._value("priority"),
            "cc": tuple(_split(text["cc"])),
            "notify_client": self.query_one("#nt-notify", Checkbox).value,
            "files": tuple(Path(p) for p in _split(text["files"])),
            "source": "tui",
            "custom_fields": self.custom_values(),
        }
        if self.contact is not None:
            out["contact_id"] = self.contact.id
        else:
            out["contact_email"] = text["requester"].strip()
        return out

    def action_create(self) -> None:
        if self.busy:
            return
        self.busy = True
        for field in (*FORM_FIELDS, *(f"cf-{f.name}" for f in self.custom)):
            self._error(field, "")
        self.say("creating…")
        self._create(self.fields())

    @work(thread=True, group="nt-create")
    def _create(self, fields: dict[str, Any]) -> None:
        ctx = ctx_of(self)
        try:
            detail = create_with_files(
                ctx.engine, ctx.actor, attachments_dir=ctx.config.attachments_dir, **fields
            )
        except ServiceError as exc:
            self.post_message(self.Failed(exc))
            return
        self.app.call_from_thread(self.app.notify, f"{detail.number} created")
        self.app.call_from_thread(self.dismiss, detail.id)

    def on_new_ticket_screen_failed(self, message: Failed) -> None:
        self.busy = False
        exc = message.error
        field = FIELD_OF.get(exc.field) if isinstance(exc, ValidationError) else None
        if isinstance(exc, ValidationError) and exc.field.startswith("custom."):
            name = exc.field[len("custom."):]
            field = f"cf-{name}" if any(f.name == name for f in self.custom) else None
        if field is not None and isinstance(exc, ValidationError):
            self._error(field, exc.message)
            self.say(f"not created: {FIELD_LABELS.get(field, field)} {exc.message}", error=True)
            self._focus_field(field)
        else:
            self.say(f"not created: {exc}", error=True)

    def _focus_field(self, field: str) -> None:
        target = self.query_one(f"#nt-{field}")
        target.focus()
        self.query_one("#nt-form", VerticalScroll).scroll_to_widget(target, animate=False)

    def _error(self, field: str, message: str) -> None:
        box = self.query_one(f"#nt-error-{field}", Static)
        box.update(Text(f"✗ {clean_line(message)}") if message else "")
        box.display = bool(message)

    def say(self, text: str, error: bool = False) -> None:
        self.query_one("#nt-message", Static).update(Text(clean_line(text), style="bold red" if error else ""))

    # --- leaving -------------------------------------------------------------------------------

    def typed_anything(self) -> bool:
        inputs = [self.query_one(f"#nt-{f}", Input).value for f in ("requester", "subject", "files", "cc")]
        return any(v.strip() for v in inputs) or bool(self.query_one("#nt-body", TextArea).text.strip())

    def action_cancel(self) -> None:
        ol = self.query_one("#nt-matches", OptionList)
        if ol.display:
            ol.display = False
            return
        if not self.typed_anything():
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen("Discard this new ticket?", yes="Discard", no="Keep writing"), answered)

    def action_editor(self) -> None:
        # imported here: the composer module loads the Markdown renderer, which the form does not need
        from tui_helpdesk.tui.widgets.composer import editor_command

        body = self.query_one("#nt-body", TextArea)
        with tempfile.NamedTemporaryFile("w+", suffix=".md", delete=False, encoding="utf-8") as fh:
            fh.write(body.text)
            path = fh.name
        try:
            with self.app.suspend():
                subprocess.run([*editor_command(), path], check=False)
            body.text = Path(path).read_text(encoding="utf-8")
        except SuspendNotSupported:
            self.say("$EDITOR needs a real terminal; type the message here", error=True)
        finally:
            os.unlink(path)


def _custom_row(f: custom_fields.FieldRow) -> tuple[Horizontal, Static]:
    """One custom field's row (label, the widget its type takes) and its error line."""
    wid = f"nt-cf-{f.name}"
    hint = clean_line(f.help_text) or {"date": "YYYY-MM-DD", "number": "a number", "url": "https://…",
                                       "contact": "an email address",
                                       "multichoice": ", ".join(f.choices)}.get(f.type, "")
    widget: Any
    if f.type == "choice":
        widget = Select([(clean_line(c), c) for c in f.choices], id=wid, prompt="(none)", compact=True)
    elif f.type == "checkbox":
        widget = Checkbox(clean_line(f.help_text) or "yes", False, id=wid, compact=True)
    elif f.type == "longtext":
        widget = TextArea(id=wid, soft_wrap=True, tab_behavior="focus", classes="nt-longtext")
    else:
        widget = Input(id=wid, placeholder=hint, compact=True)
    label = clean_line(f.label)[:14] + (" *" if f.required_at_create else "")
    row = Horizontal(Label(label, classes="nt-label"), widget, classes="nt-row", id=f"nt-row-cf-{f.name}")
    error = Static("", classes="nt-error", id=f"nt-error-cf-{f.name}")
    error.display = False
    return row, error


FIELD_LABELS = {
    "requester": "requester", "files": "attachment", "cc": "CC", "body": "message",
}
