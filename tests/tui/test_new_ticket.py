"""The new-ticket form (`N` in the queue) against a real SQLite database, as an agent types it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from support.snapshots import Layers
from test_ticket_screen import Data, built, on_top, pilot_test
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, OptionList, Select, TextArea
from waiting import keys_typed, settled, until

from tui_helpdesk import clock
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Attachment, Contact, Department, OutboundMessage, Ticket
from tui_helpdesk.tui.app import HelpdeskApp
from tui_helpdesk.tui.context import AppContext
from tui_helpdesk.tui.screens.new_ticket import NewTicketScreen
from tui_helpdesk.tui.screens.ticket import TicketScreen


@pytest.fixture
def data(sqlite_url: str, tmp_path: Path, built_once: Layers) -> Data:
    return built(sqlite_url, tmp_path / "data", built_once)


@pytest.fixture(autouse=True)
def _unpin_clock():
    yield
    clock.set_now(None)


class FormHarness(App[None]):
    """Pushes the form alone and records what it dismissed with."""

    def __init__(self, data: Data) -> None:
        super().__init__()
        self.ctx = AppContext(data.engine, data.admin, data.config)
        self.results: list[Any] = []

    def on_mount(self) -> None:
        self.push_screen(NewTicketScreen(), self.results.append)


async def form_ready(pilot: Pilot) -> NewTicketScreen:
    form = await on_top(pilot, NewTicketScreen)
    await until(pilot, lambda: len(form.query_one("#nt-department", Select)._options) > 1, "departments loaded")
    return form


def dept_id(data: Data, name: str) -> int:
    with session_scope(data.engine, write=False) as s:
        return s.execute(select(Department.id).where(Department.name == name)).scalar_one()


def tickets_titled(data: Data, subject: str) -> list[Ticket]:
    with session_scope(data.engine, write=False) as s:
        rows = list(s.execute(select(Ticket).where(Ticket.subject == subject)).scalars())
        for r in rows:
            s.expunge(r)
        return rows


def error_of(form: NewTicketScreen, field: str) -> str:
    return str(form.query_one(f"#nt-error-{field}").render())


async def type_into(pilot: Pilot, form: NewTicketScreen, wid: str, text: str) -> None:
    """Fill a field as if typed (one key press per character costs seconds on a loaded machine)."""
    widget = form.query_one(wid)
    widget.focus()
    if isinstance(widget, TextArea):
        widget.text = text
    else:
        widget.value = text  # type: ignore[attr-defined]
    await until(pilot, lambda: (widget.text if isinstance(widget, TextArea) else widget.value) == text, wid)


@pilot_test
async def test_N_in_the_queue_creates_for_a_searched_contact_and_opens_it(data: Data) -> None:
    app = HelpdeskApp(data.config, data.engine, data.admin, poll_interval=0)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: type(app.screen).__name__ == "QueueScreen", "the queue")
        await pilot.press("N")
        form = await form_ready(pilot)
        await keys_typed(pilot, "#nt-requester", "alic")
        matches = form.query_one("#nt-matches", OptionList)
        await until(pilot, lambda: matches.display and matches.option_count == 1, "Alice offered")
        await pilot.press("enter")
        await until(pilot, lambda: form.contact is not None, "Alice taken")
        # the organization defaults from the contact
        assert form.query_one("#nt-organization", Select).value == form.contact.organization_id
        assert form.query_one("#nt-requester", Input).value == "alice@acme.com"
        form.query_one("#nt-department", Select).value = dept_id(data, "Billing")
        await type_into(pilot, form, "#nt-subject", "Phone: invoice copy")
        await type_into(pilot, form, "#nt-body", "She called for a copy of March.")
        form.query_one("#nt-notify", Checkbox).value = False
        await pilot.press("ctrl+s")
        ticket = await on_top(pilot, TicketScreen)
        await until(pilot, lambda: ticket.detail is not None, "the new ticket open")
        assert ticket.detail.subject == "Phone: invoice copy"
        assert ticket.detail.requester_email == "alice@acme.com"
        assert ticket.detail.organization == "Acme Corp"
        assert ticket.detail.department == "Billing"
    [row] = tickets_titled(data, "Phone: invoice copy")
    assert row.source == "tui"
    with session_scope(data.engine, write=False) as s:
        kinds = list(s.execute(select(OutboundMessage.kind).where(OutboundMessage.ticket_id == row.id)).scalars())
    assert "notice.created" not in kinds  # "send the customer a copy" was off


@pilot_test
async def test_errors_show_beside_their_field_and_nothing_typed_is_lost(data: Data) -> None:
    app = FormHarness(data)
    async with app.run_test(size=(120, 36)) as pilot:
        form = await form_ready(pilot)
        await type_into(pilot, form, "#nt-requester", "not-an-address")
        form.query_one("#nt-department", Select).value = dept_id(data, "Support")
        await type_into(pilot, form, "#nt-body", "Details here.")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "required" in error_of(form, "subject"), "the subject's error")
        await type_into(pilot, form, "#nt-subject", "Laptop will not boot")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "not an email address" in error_of(form, "requester"), "the requester's error")
        assert error_of(form, "subject") == ""
        # everything typed is still there
        assert form.query_one("#nt-body", TextArea).text == "Details here."
        assert form.query_one("#nt-subject", Input).value == "Laptop will not boot"
        assert form.query_one("#nt-requester", Input).has_focus
        assert tickets_titled(data, "Laptop will not boot") == []
        form.query_one("#nt-requester", Input).value = "dave@newco.example"
        await type_into(pilot, form, "#nt-name", "Dave New")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.results, "the form to close")
    [row] = tickets_titled(data, "Laptop will not boot")
    assert app.results == [row.id]
    with session_scope(data.engine, write=False) as s:
        dave = s.get(Contact, row.contact_id)
        assert (dave.email, dave.name) == ("dave@newco.example", "Dave New")


@pilot_test
async def test_cc_topic_cascade_and_attachments_go_with_the_ticket(data: Data, tmp_path: Path) -> None:
    good = tmp_path / "screenshot.txt"
    good.write_text("error 0x80070005")
    bad = tmp_path / "setup.exe"
    bad.write_bytes(b"MZ")
    app = FormHarness(data)
    async with app.run_test(size=(120, 36)) as pilot:
        form = await form_ready(pilot)
        await type_into(pilot, form, "#nt-requester", "carol@acme.com")
        form.query_one("#nt-department", Select).value = dept_id(data, "Support")
        await type_into(pilot, form, "#nt-subject", "Access denied")
        await type_into(pilot, form, "#nt-body", "See the file.")
        await type_into(pilot, form, "#nt-cc", "boss@acme.com")
        form.query_one("#nt-files", Input).value = f"{good}, {bad}"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: ".exe are not accepted" in error_of(form, "files"), "the file's error")
        assert tickets_titled(data, "Access denied") == []
        form.query_one("#nt-files", Input).value = str(good)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.results, "the form to close")
    [row] = tickets_titled(data, "Access denied")
    with session_scope(data.engine, write=False) as s:
        files = list(s.execute(select(Attachment.filename).where(Attachment.ticket_id == row.id)).scalars())
    assert files == ["screenshot.txt"]
    from tui_helpdesk.services import tickets
    from tui_helpdesk.services.context import reading

    with reading(data.engine, data.admin) as tx:
        assert tickets.view(tx, row.number).collaborators == ("boss@acme.com",)


@pilot_test
async def test_escape_asks_before_discarding_what_was_typed(data: Data) -> None:
    from tui_helpdesk.tui.widgets.pickers import ConfirmScreen

    app = FormHarness(data)
    async with app.run_test(size=(120, 36)) as pilot:
        form = await form_ready(pilot)
        form.query_one("#nt-subject").focus()
        await keys_typed(pilot, "#nt-subject", "Half")
        await pilot.press("escape")
        await on_top(pilot, ConfirmScreen)
        await pilot.press("n")
        await on_top(pilot, NewTicketScreen)
        assert form.query_one("#nt-subject", Input).value == "Half"
        await pilot.press("escape")
        await on_top(pilot, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: app.results == [None], "the form to close")


def test_new_ticket_form_80x24(data: Data, snap_compare) -> None:
    async def ready(pilot: Pilot) -> None:
        form = await form_ready(pilot)
        await keys_typed(pilot, "#nt-requester", "alic")
        matches = form.query_one("#nt-matches", OptionList)
        await until(pilot, lambda: matches.display and matches.option_count == 1, "Alice offered")
        await settled(pilot)
        for widget in form.query("Input, TextArea"):
            widget.cursor_blink = False  # type: ignore[attr-defined]

    assert snap_compare(FormHarness(data), terminal_size=(80, 24), run_before=ready)


@pilot_test
async def test_topics_show_as_their_tree_and_the_cti_cascade_narrows(data: Data) -> None:
    from tui_helpdesk.models import Classification, HelpTopic

    with session_scope(data.engine) as s:
        accounts = HelpTopic(name="Accounts")
        s.add(accounts)
        s.flush()
        s.add(HelpTopic(name="Password reset", parent_id=accounts.id, department_id=dept_id(data, "Billing")))
        hardware = Classification(kind="category", name="Hardware")
        s.add_all([hardware, Classification(kind="category", name="Software")])
        s.flush()
        laptop = Classification(kind="type", name="Laptop", parent_id=hardware.id)
        s.add(laptop)
        s.flush()
        s.add(Classification(kind="item", name="Battery", parent_id=laptop.id))
    app = FormHarness(data)
    async with app.run_test(size=(120, 36)) as pilot:
        form = await form_ready(pilot)
        topic = form.query_one("#nt-topic", Select)
        labels = [str(prompt) for prompt, _ in topic._options[1:]]
        assert labels.index("Accounts") < labels.index("Accounts › Password reset")
        topic.value = dict((str(p), v) for p, v in topic._options[1:])["Accounts › Password reset"]
        kind_type = form.query_one("#nt-type", Select)
        assert kind_type.disabled  # nothing to narrow before a category
        category = form.query_one("#nt-category", Select)
        category.value = dict((str(p), v) for p, v in category._options[1:])["Hardware"]
        await until(pilot, lambda: not kind_type.disabled and len(kind_type._options) == 2, "Hardware's types")
        kind_type.value = kind_type._options[1][1]
        item = form.query_one("#nt-item", Select)
        await until(pilot, lambda: not item.disabled and len(item._options) == 2, "Laptop's items")
        item.value = item._options[1][1]
        await type_into(pilot, form, "#nt-requester", "carol@acme.com")
        await type_into(pilot, form, "#nt-subject", "Battery dies")
        await type_into(pilot, form, "#nt-body", "After an hour.")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.results, "the form to close")
    from tui_helpdesk.services import tickets
    from tui_helpdesk.services.context import reading

    [row] = tickets_titled(data, "Battery dies")
    with reading(data.engine, data.admin) as tx:
        d = tickets.view(tx, row.number)
    assert (d.topic, d.department) == ("Password reset", "Billing")  # the department came from the topic
    assert (d.category, d.type, d.item) == ("Hardware", "Laptop", "Battery")
