"""`helpdesk kb ...` and `helpdesk audit list`: one behaviour each through the real parser and database."""

from __future__ import annotations

import csv
import io


def test_kb_add_from_stdin_edit_publish_and_search(desk) -> None:
    assert desk("kb", "categories", "--add", "Printers").code == 0
    made = desk("--json", "kb", "add", "Paper jam", "--category", "Printers", "--tags", "printer",
                "--body-file", "-", stdin="Open **tray 2**.\n")
    assert made.code == 0, made.err
    slug = made.data["slug"]
    refused = desk("kb", "add", "Mine", "--category", "Printers", "--body-file", "-", "--as", "sam", stdin="x")
    assert refused.code == 4 and "kb.edit" in refused.err
    stale = desk("kb", "edit", slug, "--title", "Old copy", "--if-version", "0")
    assert stale.code == 5 and "reload it" in stale.err
    assert desk("kb", "edit", slug, "--title", "Clearing a paper jam").code == 0
    published = desk("kb", "publish", slug)
    assert published.code == 0 and "published" in published.out
    found = desk("--json", "kb", "list", "--search", "tray", "--state", "published", "--as", "sam")
    assert [a["title"] for a in found.data["articles"]] == ["Clearing a paper jam"]
    shown = desk("kb", "show", slug)
    assert "Open **tray 2**." in shown.out and "published" in shown.out


def test_audit_list_filters_and_exports_csv(desk, make) -> None:
    number = make("Audit me")["number"]
    table = desk("audit", "list", "--object", number, "--who", "root")
    assert table.code == 0 and "ticket.created" in table.out
    exported = desk("audit", "list", "--object", number, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(exported.out)))
    assert rows and {r["object_type"] for r in rows} == {"ticket"} and "ticket.created" in {r["action"] for r in rows}
    bad = desk("audit", "list", "--since", "yesterday-ish")
    assert bad.code != 0 and "since" in bad.err
    assert desk("audit", "list", "--as", "sam").code == 4


def test_ticket_delete_needs_the_permission_and_archives(desk, make) -> None:
    number = make("Delete me")["number"]
    refused = desk("ticket", "delete", number, "--as", "sam")
    assert refused.code == 4 and "ticket.delete" in refused.err
    done = desk("--json", "ticket", "delete", number)
    assert done.code == 0 and done.data["deleted"] == number and done.data["purge_after"].startswith("2026-04-01")
    assert desk("--json", "ticket", "show", number).data["archived"] is True
    assert desk("ticket", "delete", number).code == 5  # already deleted
