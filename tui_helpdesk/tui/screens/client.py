"""A contact's or an organization's page (ITFlow's per-client view): details, every ticket they have
(open first), the time logged on them and the latest internal notes; `e` edits the contact.

Reached with `u` (the requester) and `O` (the organization) on the ticket screen, and from the command
palette ("Contact: open a page…"). Everything is read through services/contacts.py, so the page lists
only the tickets the agent may see; an edit goes through admin/clients.update_contact, which decides
who may make it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static

from tui_helpdesk.resources import stylesheet
from tui_helpdesk.services import choices, contacts, door
from tui_helpdesk.services.admin import clients
from tui_helpdesk.services.contacts import ClientPage
from tui_helpdesk.services.errors import ServiceError
from tui_helpdesk.tui.context import ctx_of
from tui_helpdesk.tui.widgets.footer import Footer
from tui_helpdesk.tui.widgets.header_fields import minutes
from tui_helpdesk.tui.widgets.pickers import PickerScreen, PickItem, PromptScreen
from tui_helpdesk.untrusted import clean_line

CLIENT_BINDINGS: list[BindingType] = [
    Binding("escape,q", "back", "Back", id="client.back"),
    Binding("e", "edit", "Edit contact", id="client.edit"),
    Binding("O", "organization", "Organization", id="client.organization"),
    Binding("f5,ctrl+l", "reload", "Reload", id="client.reload", show=False),
]
EDITABLE = (("name", "Name"), ("email", "Email"), ("phone", "Phone"), ("organization", "Organization"))


class ClientScreen(Screen[None]):
    """One contact (`contact_id`) or one organization (`organization_id`)."""

    CSS_PATH = stylesheet("client.tcss")
    BINDINGS: ClassVar[list[BindingType]] = CLIENT_BINDINGS

    class Loaded(Message):
        def __init__(self, page: ClientPage | None, error: str = "") -> None:
            super().__init__()
            self.page = page
            self.error = error

    def __init__(self, *, contact_id: int | None = None, organization_id: int | None = None) -> None:
        super().__init__()
        if (contact_id is None) == (organization_id is None):
            raise ValueError("a client page shows a contact or an organization")
        self.contact_id = contact_id
        self.organization_id = organization_id
        self.page: ClientPage | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("loading…", style="dim"), id="client-head")
        table: DataTable[Any] = DataTable(id="client-tickets", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="client-notes")
        yield Static("", id="client-message")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#client-tickets", DataTable)
        table.add_columns("Number", "Status", "Priority", "Updated", "Subject")
        table.focus()
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit", "organization"):
            return self.contact_id is not None
        return True

    # --- loading -------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="client-load")
    def load(self) -> None:
        ctx = ctx_of(self)
        try:
            if self.contact_id is not None:
                page = door.read(ctx.engine, ctx.actor, contacts.contact_page, self.contact_id)
            else:
                page = door.read(ctx.engine, ctx.actor, contacts.organization_page, self.organization_id)
        except ServiceError as exc:
            self.post_message(self.Loaded(None, str(exc)))
            return
        self.post_message(self.Loaded(page))

    def on_client_screen_loaded(self, message: Loaded) -> None:
        if message.page is None:
            self.say(message.error, error=True)
            return
        self.page = p = message.page
        self.query_one("#client-head", Static).update(self._head(p))
        table = self.query_one("#client-tickets", DataTable)
        keep = table.cursor_row
        table.clear()
        for n, r in enumerate(p.tickets):
            style = "" if n < p.open_count else "dim"
            table.add_row(
                Text(clean_line(r.number), style=style or "bold"),
                Text(clean_line(r.status_name), style=style),
                Text(clean_line(r.priority_name), style=style),
                Text(r.updated_at.strftime("%Y-%m-%d %H:%M"), style=style),
                Text(clean_line(r.subject), style=style),
                key=str(r.id),
            )
        if p.tickets:
            table.move_cursor(row=min(keep, len(p.tickets) - 1))
        self.query_one("#client-notes", Static).update(self._notes(p))

    def _head(self, p: ClientPage) -> Group:
        title = Text()
        title.append(" CONTACT " if p.contact else " ORGANIZATION ", style="bold reverse")
        title.append(f" {clean_line(p.title)}", style="bold")
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis")
        done = len(p.tickets) - p.open_count
        counts = Text(f"{p.open_count} open, {done} resolved or closed")
        logged = Text(f"{minutes(p.minutes)} ({minutes(p.billable_minutes)} billable)" if p.minutes else "—")
        if p.contact is not None:
            c = p.contact
            grid.add_row("Email", Text(clean_line(c.email)), "Phone", Text(clean_line(c.phone) or "—"))
            grid.add_row("Org", Text(clean_line(c.organization) or "—"), "Tickets", counts)
            grid.add_row("Time", logged, "State", Text("archived" if c.archived else "active"))
        elif p.organization is not None:
            o = p.organization
            grid.add_row("Domains", Text(", ".join(clean_line(d) for d in o.domains) or "—"), "Tickets", counts)
            grid.add_row("Contacts", Text(str(o.contacts)), "Time", logged)
            people = ", ".join(clean_line(m.name or m.email) for m in p.members[:8])
            if len(p.members) > 8:
                people += f" +{len(p.members) - 8}"
            grid.add_row("People", Text(people or "—"), "State", Text("archived" if o.archived else "active"))
            if o.notes:
                grid.add_row("Notes", Text(clean_line(o.notes)), "", "")
        pairs = [(clean_line(v.label)[:14], Text(clean_line(v.text)) if v.text else Text("—", style="dim"))
                 for v in p.custom]
        for i in range(0, len(pairs), 2):
            right = pairs[i + 1] if i + 1 < len(pairs) else ("", Text(""))
            grid.add_row(pairs[i][0], pairs[i][1], right[0], right[1])
        if p.assets:
            grid.add_row("Assets", _assets(p.assets), "", "")
        return Group(title, grid)

    @staticmethod
    def _notes(p: ClientPage) -> Text:
        out = Text("Latest notes", style="bold")
        if not p.notes:
            out.append("  none", style="dim")
        for note in p.notes[:5]:
            out.append("\n")
            out.append(f"{note.created_at:%Y-%m-%d} {clean_line(note.ticket_number)} ", style="dim")
            out.append(f"{clean_line(note.author)}: ", style="italic")
            out.append(clean_line(note.body.replace("\n", " "))[:200])
        return out

    def say(self, text: str, error: bool = False) -> None:
        self.query_one("#client-message", Static).update(Text(clean_line(text), style="bold red" if error else ""))

    # --- actions ---------------------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        self.load()

    @on(DataTable.RowSelected, "#client-tickets")
    def _open(self, event: DataTable.RowSelected) -> None:
        from tui_helpdesk.tui.screens.ticket import TicketScreen

        if event.row_key.value is None:
            return
        ids = [r.id for r in self.page.tickets] if self.page else None
        self.app.push_screen(TicketScreen(int(event.row_key.value), queue_ids=ids), lambda _: self.load())

    def action_organization(self) -> None:
        page = self.page
        if page is None or page.contact is None:
            return
        if page.contact.organization_id is None:
            self.say(f"{page.title} belongs to no organization", error=True)
            return
        self.app.push_screen(ClientScreen(organization_id=page.contact.organization_id))

    def action_edit(self) -> None:
        page = self.page
        if page is None or page.contact is None:
            return
        contact = page.contact
        items = [PickItem(key, label, _current(contact, key)) for key, label in EDITABLE]
        items += [PickItem(f"cf.{v.name}", clean_line(v.label), v.text) for v in page.custom if v.defined]
        self.app.push_screen(PickerScreen(f"Edit which field of {contact.email}?", items),
                             lambda key: key and self._edit(contact, key))

    def _edit(self, contact: clients.ContactRow, key: str) -> None:
        if key == "organization":
            self._pick_organization(contact)
            return
        if key.startswith("cf."):
            self._edit_custom(contact, key[3:])
            return
        label = dict(EDITABLE)[key]

        def answered(value: str | None) -> None:
            if value is not None:
                self._save(contact.id, {key: value.strip()}, label)

        self.app.push_screen(PromptScreen(f"{label} of {contact.email}", label=label,
                                          value=_current(contact, key)), answered)

    def _edit_custom(self, contact: clients.ContactRow, name: str) -> None:
        shown = next((v for v in self.page.custom if v.name == name), None) if self.page else None
        if shown is None:
            return

        def answered(value: str | None) -> None:
            if value is not None:
                self._save_custom(contact.id, {name: value.strip() or None}, shown.label)

        hint = ", ".join(shown.choices) if shown.choices else (shown.help_text or "empty clears it")
        self.app.push_screen(PromptScreen(f"{clean_line(shown.label)} of {contact.email}", label=clean_line(hint),
                                          value=shown.text), answered)

    @work(thread=True, group="client-save")
    def _save_custom(self, contact_id: int, values: dict[str, Any], label: str) -> None:
        from tui_helpdesk.services import custom_fields

        ctx = ctx_of(self)
        try:
            door.write(ctx.engine, ctx.actor, custom_fields.set_record_values, "contact", contact_id, values)
        except ServiceError as exc:
            self.app.call_from_thread(self.say, f"not saved: {exc}", True)
            return
        self.app.call_from_thread(self.say, f"{label} saved")
        self.load()

    def _pick_organization(self, contact: clients.ContactRow) -> None:
        engine = ctx_of(self).engine

        def show(rows: list[choices.Choice]) -> None:
            items = [PickItem(0, "(none)"), *(PickItem(r.id, r.name) for r in rows)]

            def chosen(value: int | None) -> None:
                if value is not None:
                    self._save(contact.id, {"organization": value or None}, "organization")

            self.app.push_screen(PickerScreen("Organization", items, current=contact.organization_id), chosen)

        def fetch() -> None:
            rows = choices.organizations(engine)
            self.app.call_from_thread(show, rows)

        self.run_worker(fetch, thread=True, group="client-orgs")

    def _save(self, contact_id: int, values: dict[str, Any], label: str) -> None:
        self.say(f"saving {label}…")
        self._run_save(contact_id, values, label)

    @work(thread=True, group="client-save")
    def _run_save(self, contact_id: int, values: dict[str, Any], label: str) -> None:
        ctx = ctx_of(self)
        try:
            door.write(ctx.engine, ctx.actor, clients.update_contact, contact_id, **values)
        except ServiceError as exc:
            self.app.call_from_thread(self.say, f"not saved: {exc}", True)
            return
        self.app.call_from_thread(self.say, f"{label} saved")
        self.load()


def _assets(rows: tuple[Any, ...]) -> Text:
    out = Text()
    for n, a in enumerate(rows[:6]):
        out.append(("; " if n else "") + clean_line(a.label))
    if len(rows) > 6:
        out.append(f" +{len(rows) - 6}", style="dim")
    return out


def _current(contact: clients.ContactRow, key: str) -> str:
    return {"name": contact.name, "email": contact.email, "phone": contact.phone,
            "organization": contact.organization}.get(key, "")


def open_client_picker(screen: Screen[Any], kind: str) -> None:
    """From the palette: search contacts (or organizations) by name or address, then open the page."""
    ctx = ctx_of(screen)

    def search(text: str) -> list[PickItem]:
        if kind == "contact":
            rows = door.read(ctx.engine, ctx.actor, contacts.search, text, 20)
            return [PickItem(r.id, r.name or r.email, f"{r.email}  {r.organization}".strip()) for r in rows]
        orgs = door.read(ctx.engine, ctx.actor, clients.list_organizations, text.strip(), 20)
        return [PickItem(o.id, o.name, ", ".join(o.domains)) for o in orgs if not o.archived]

    def chosen(value: int | None) -> None:
        if value is None:
            return
        if kind == "contact":
            screen.app.push_screen(ClientScreen(contact_id=value))
        else:
            screen.app.push_screen(ClientScreen(organization_id=value))

    title = "Open a contact's page" if kind == "contact" else "Open an organization's page"
    picker: PickerScreen = _ClientPicker(title, search=search, placeholder="a name or an address")
    screen.app.push_screen(picker, chosen)


class _ClientPicker(PickerScreen):
    def on_mount(self) -> None:
        # the picker's own hint speaks of tickets; it is set on mount, so this one follows it
        self.call_after_refresh(
            self.query_one("#picker-msg", Static).update, "type two letters of a name, an address or a domain"
        )


def palette_entries(screen: Screen[Any]) -> list[tuple[str, str, Callable[[], Any]]]:
    return [
        ("Contact: open a page…", "", lambda: open_client_picker(screen, "contact")),
        ("Organization: open a page…", "", lambda: open_client_picker(screen, "organization")),
    ]
