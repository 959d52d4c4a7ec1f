"""`helpdesk field ...`, `helpdesk asset ...` and `ticket set-field|set-asset` (one walk through each)."""

from __future__ import annotations

from tui_helpdesk.cli import EXIT_ERROR, EXIT_OK


def test_fields_defined_set_on_tickets_refused_when_bad_and_shown_in_json(desk, make):
    added = desk("--json", "field", "add", "po", "--label", "PO number", "--type", "number", "--required", "close")
    assert added.code == EXIT_OK, added.err
    assert added.data["required_at_close"] is True and added.data["type"] == "number"
    assert desk("field", "add", "due", "--type", "date").code == EXIT_OK
    listed = desk("--json", "field", "list")
    assert [f["name"] for f in listed.data] == ["po", "due"]
    assert "PO number" in desk("field", "list").out

    t = make(field=["po=4711"])
    assert t["custom_fields"] == {"po": 4711}
    bad = desk("--json", "ticket", "set-field", t["number"], "due=tomorrow")
    assert bad.code == EXIT_ERROR and bad.error["field"] == "custom.due" and "YYYY-MM-DD" in bad.error["error"]
    ok = desk("--json", "ticket", "set-field", t["number"], "due=2026-12-31", "po=")
    assert ok.code == EXIT_OK and ok.data["custom_fields"] == {"due": "2026-12-31"}
    closing = desk("--json", "ticket", "status", t["number"], "Closed")
    assert closing.code == EXIT_ERROR and closing.error["field"] == "custom.po"
    found = desk("--json", "ticket", "list", "--query", "cf.due:<2027-01-01")
    assert [r["number"] for r in found.data["tickets"]] == [t["number"]], found.out

    assert desk("field", "edit", "po", "--required", "no").code == EXIT_OK
    assert desk("--json", "ticket", "status", t["number"], "Closed").code == EXIT_OK
    assert desk("field", "remove", "due").code == EXIT_OK
    assert [f["name"] for f in desk("--json", "field", "list").data] == ["po"]


def test_assets_of_an_organization_and_a_tickets_asset(desk, make):
    assert desk("admin", "orgs", "add", "Acme", "--domains", "acme.example").code == EXIT_OK
    added = desk("--json", "asset", "add", "--org", "Acme", "--name", "Laptop 7", "--type", "laptop",
                 "--serial", "SN-77")
    assert added.code == EXIT_OK, added.err
    asset_id = added.data["id"]
    t = make()  # bob@acme.example: Acme by its domain
    picked = desk("--json", "ticket", "set-asset", t["number"], "sn-77")
    assert picked.code == EXIT_OK, picked.err
    assert picked.data["name"] == "Laptop 7"
    listed = desk("--json", "asset", "list", "--org", "Acme")
    assert listed.data[0]["tickets"] == 1
    refused = desk("--json", "asset", "remove", str(asset_id))
    assert refused.code != EXIT_OK and "named by 1 ticket" in refused.error["error"]
    assert desk("ticket", "set-asset", t["number"], "").code == EXIT_OK
    assert desk("asset", "remove", str(asset_id)).code == EXIT_OK

    assert desk("field", "add", "tier", "--target", "organization", "--type", "choice", "--choices", "A,B").code == 0
    bad = desk("--json", "field", "set", "--org", "Acme", "tier=C")
    assert bad.code == EXIT_ERROR and bad.error["field"] == "custom.tier"
    ok = desk("--json", "field", "set", "--org", "Acme", "tier=b")
    assert ok.code == EXIT_OK and ok.data["custom_fields"] == {"tier": "B"}
