"""Custom fields: definitions, typed values, where they apply, required at create and at close, cf. filters."""

from __future__ import annotations

import csv
import io

import pytest

from tui_helpdesk.services import custom_fields, filter_query, queries, tickets
from tui_helpdesk.services.admin import create_topic
from tui_helpdesk.services.errors import PermissionDenied, ValidationError


def _open(desk, actor=None, **kw):
    args = dict(subject="Order stuck", body="Where is it?", contact_email="bob@acme.example", department="Support")
    args.update(kw)
    with desk.tx(actor) as tx:
        return tickets.create(tx, **args)


@pytest.fixture
def fields(desk):
    """po (number, required at close), due (date), kind (choice, only for the Orders topic, required at create)."""
    with desk.tx() as tx:
        topic = create_topic(tx, name="Orders", department="Support")
        custom_fields.create_field(tx, name="po", label="PO number", type="number", required_at_close=True)
        custom_fields.create_field(tx, name="due", label="Due by", type="date")
        custom_fields.create_field(tx, name="kind", label="Order kind", type="choice", choices="Retail, Trade",
                                   topics=[topic.id], required_at_create=True)
    return topic


def test_values_are_typed_and_a_bad_one_names_the_field_and_opens_nothing(desk, fields):
    with pytest.raises(ValidationError) as bad:
        _open(desk, custom_fields={"po": "forty-two"})
    assert bad.value.field == "custom.po" and bad.value.message == "'forty-two' is not a number"
    with pytest.raises(ValidationError) as bad_date:
        _open(desk, custom_fields={"due": "31/12/2026"})
    assert bad_date.value.field == "custom.due" and "YYYY-MM-DD" in bad_date.value.message
    with desk.tx() as tx:
        assert queries.count(tx, queries.TicketQuery(archived=None)) == 0
    d = _open(desk, custom_fields={"po": "4711", "due": "2026-12-31", "asset": "LT-7"})
    assert d.custom_fields == {"po": 4711, "due": "2026-12-31", "asset": "LT-7"}  # undefined keys stay free text


def test_a_field_applies_to_its_topic_only_and_is_required_there_at_create(desk, fields):
    _open(desk)  # not the Orders topic: "kind" does not apply, nothing is required
    with pytest.raises(ValidationError) as missing:
        _open(desk, topic=fields.id)
    assert missing.value.field == "custom.kind" and "Order kind is required" in missing.value.message
    with pytest.raises(ValidationError) as wrong:
        _open(desk, topic=fields.id, custom_fields={"kind": "wholesale"})
    assert "Retail, Trade" in wrong.value.message
    d = _open(desk, topic=fields.id, custom_fields={"kind": "trade"})
    assert d.custom_fields == {"kind": "Trade"}
    with desk.tx() as tx:
        names = [f.name for f in custom_fields.for_ticket(tx.session, fields.id, None)]
        assert names == ["po", "due", "kind"]
        assert [f.name for f in custom_fields.for_ticket(tx.session, None, None)] == ["po", "due"]


def test_closing_needs_the_fields_required_at_close(desk, fields):
    d = _open(desk)
    with desk.tx() as tx, pytest.raises(ValidationError) as refused:
        tickets.set_status(tx, d.number, "Closed")
    assert refused.value.field == "custom.po" and f"to close {d.number}" in refused.value.message
    with desk.tx() as tx:
        assert tickets.view(tx, d.number).status != "Closed"
        tickets.update_fields(tx, d.number, {"custom": {"po": "77"}}, reason="customer sent it")
    with desk.tx() as tx:
        assert tickets.set_status(tx, d.number, "Closed").status == "Closed"


def test_cf_filters_match_equal_values_and_date_and_number_ranges(desk, fields):
    a = _open(desk, custom_fields={"po": 4711, "due": "2026-06-30"})
    b = _open(desk, custom_fields={"po": 99, "due": "2027-01-15"})
    _open(desk)

    def numbers(text: str) -> list[str]:
        with desk.tx() as tx:
            q = filter_query.resolve_text(tx.session, text, tx.actor.agent_id)
            return sorted(r.number for r in queries.fetch_page(tx, q).rows)

    assert numbers("cf.po:4711") == [a.number]
    assert numbers("cf.due:<2026-12-31") == [a.number]
    assert numbers("cf.due:>=2026-12-31") == [b.number]
    assert numbers("cf.po:<1000") == [b.number]  # numbers compare as numbers, not text
    with desk.tx() as tx:
        tickets.update_fields(tx, a.number, {"custom": {"po": None}}, reason="wrong PO")
    assert numbers("cf.po:4711") == []
    with pytest.raises(filter_query.FilterError, match="not a date"):
        numbers("cf.due:<soon")
    with pytest.raises(filter_query.FilterError, match="no custom field"):
        numbers("cf.nope:1")


def test_only_admins_define_fields_and_definitions_are_checked(desk):
    with desk.tx(desk.agent) as tx, pytest.raises(PermissionDenied):
        custom_fields.create_field(tx, name="po")
    with desk.tx() as tx:
        with pytest.raises(ValidationError, match="choices"):
            custom_fields.create_field(tx, name="kind", type="choice")
        with pytest.raises(ValidationError) as bad_name:
            custom_fields.create_field(tx, name="PO Number")
        assert bad_name.value.field == "name"
        row = custom_fields.create_field(tx, name="vip", type="checkbox", target="contact")
        assert row.label == "Vip" and row.where == "all contacts"
        with pytest.raises(ValidationError, match="every contact"):
            custom_fields.update_field(tx, "vip", required_at_close=True)


def test_export_columns_resolve_cf_names_a_page_at_a_time(desk, fields):
    a = _open(desk, custom_fields={"po": 4711, "due": "2026-06-30"})
    b = _open(desk)
    with desk.tx() as tx:
        found = custom_fields.export_columns(tx.session, ["number", "cf.po", "cf.asset"])
        assert found["cf.po"].label == "PO number" and found["cf.asset"] is None  # undefined: plain text
        values = custom_fields.page_values(tx.session, [a.id, b.id], ["number", "cf.po", "cf.due"])
    assert values == {a.id: {"cf.po": "4711", "cf.due": "2026-06-30"}, b.id: {"cf.po": "", "cf.due": ""}}


def test_canned_responses_fill_custom_field_variables(desk, fields):
    from tui_helpdesk.services import canned

    d = _open(desk, custom_fields={"po": 4711})
    body = "PO %{ticket.custom.po}, due %{ticket.custom.due}."
    assert canned.expand(body, canned.variables_for(d)) == "PO 4711, due ."
    assert canned.unknown_variables(body + " %{ticket.nope}") == ["ticket.nope"]


def test_ticket_export_writes_custom_field_columns(desk, fields):
    from tui_helpdesk.services import ticket_export

    a = _open(desk, custom_fields={"po": 4711, "due": "2026-06-30"})
    b = _open(desk)
    out = io.StringIO()
    with desk.tx() as tx:
        n = ticket_export.write(tx, out, query_text="sort:oldest", cols="number,cf.po,cf.due", fmt="csv",
                                page_size=1)  # one page each: the values are read a page at a time
    assert n == 2
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["number", "cf.po", "cf.due"], [a.number, "4711", "2026-06-30"], [b.number, "", ""]]
