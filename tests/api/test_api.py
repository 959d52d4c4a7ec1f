"""The HTTP API over a real uvicorn server: the door's rules hold there too (issue 13).

Each test asks what an integration would notice: the status, the error body naming the field, and the
state left behind (read back over HTTP or from the database).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tui_helpdesk import clock
from tui_helpdesk.db import session_scope
from tui_helpdesk.models import AuditLog, OutboundMessage, Ticket

Desk = Any  # tests/api/conftest.py



def _audit_count(api: Desk, action: str) -> int:
    with session_scope(api.engine, write=False) as s:
        return int(s.execute(select(func.count()).select_from(AuditLog).where(AuditLog.action == action))
                   .scalar_one())


def test_no_key_or_a_bad_key_is_401_and_audited(api: Desk) -> None:
    api.reset_throttle()
    before = _audit_count(api, "auth.api_key_refused")
    with api.client(None) as anonymous:
        missing = anonymous.get("/tickets")
        wrong = anonymous.get("/tickets", headers={"Authorization": "Bearer hd_000000000000_nope"})
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "API key" in wrong.json()["error"]
    assert _audit_count(api, "auth.api_key_refused") == before + 2
    with api.client("root") as root:
        assert root.get("/tickets").status_code == 200


def test_failed_authentication_is_rate_limited_per_address(api: Desk) -> None:
    api.reset_throttle()
    try:
        with api.client(None, Authorization="Bearer hd_bad_key") as bad:
            codes = [bad.get("/tickets").status_code for _ in range(api.rate_limit + 1)]
        assert codes == [401] * api.rate_limit + [429]
        with api.client("root") as root:
            limited = root.get("/tickets")  # the address is locked out, whatever key it now sends
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
    finally:
        api.reset_throttle()
    with api.client("root") as root:
        assert root.get("/tickets").status_code == 200


def test_an_agent_outside_the_department_gets_404(api: Desk) -> None:
    with api.client("olly") as olly:
        one = olly.get(f"/tickets/{api.support}")
        replies = olly.get(f"/tickets/{api.support}/replies")
        reply = olly.post(f"/tickets/{api.support}/replies", json={"message": "hi"})
        listed = olly.get("/tickets", params={"limit": 50}).json()
        own = olly.get(f"/tickets/{api.billing}")
    assert (one.status_code, replies.status_code, reply.status_code) == (404, 404, 404)
    assert api.support not in one.text  # not even the refusal names the ticket
    numbers = [t["number"] for t in listed["tickets"]]
    assert api.support not in numbers and api.billing in numbers
    assert listed["total"] == len(numbers)
    assert own.status_code == 200


def test_a_plain_agent_cannot_delete_and_a_delete_archives_then_the_purge_keeps_the_audit(api: Desk) -> None:
    from tui_helpdesk.services import ticket_delete

    number = api.new_ticket()
    with api.client("root") as root, api.client("sam") as sam:
        refused = sam.delete(f"/tickets/{number}")
        assert refused.status_code == 403
        assert "ticket.delete" in refused.json()["error"]
        assert sam.get(f"/tickets/{number}").status_code == 200
        assert root.delete(f"/tickets/{number}").json() == {"deleted": number}
        assert root.get(f"/tickets/{number}").json()["active_state"] == "archived"  # restorable until purged
        assert root.delete(f"/tickets/{number}").status_code == 409
        ticket_delete.purge_due(api.engine, None, now=clock.now() + timedelta(days=400))
        assert root.get(f"/tickets/{number}").status_code == 404
    with session_scope(api.engine, write=False) as s:
        kept = s.execute(select(AuditLog.data).where(AuditLog.action == "ticket.purged")).scalars().all()
    assert any(d["number"] == number and d["ticket"]["subject"] == "A ticket" for d in kept)


def test_a_stale_patch_gets_412_and_changes_nothing(api: Desk) -> None:
    number = api.new_ticket()
    with api.client("sam") as sam:
        version = sam.get(f"/tickets/{number}").json()["version"]
        ok = sam.patch(f"/tickets/{number}", json={"subject": "First edit"}, headers={"If-Match": str(version)})
        assert ok.status_code == 200 and ok.json()["version"] > version
        stale = sam.patch(f"/tickets/{number}", json={"subject": "Second edit"},
                          headers={"If-Match": f'"{version}"'})
        assert stale.status_code == 412
        assert "reload it and try again" in stale.json()["error"]
        assert sam.get(f"/tickets/{number}").json()["subject"] == "First edit"


def test_the_public_view_never_shows_a_note(api: Desk) -> None:
    key = api.client_key(api.support)
    with api.client(None) as customer:
        seen = customer.get(f"/public/tickets/{api.support}", params={"c": key})
        # a key ending in "x" made `key[:-1] + "x"` the right key (a 1-in-64 flake): change it for sure
        wrong = customer.get(f"/public/tickets/{api.support}", params={"c": key[:-1] + ("y" if key.endswith("x") else "x")})
        unknown = customer.get("/public/tickets/TCK-99999", params={"c": key})
    assert seen.status_code == 200
    body = seen.json()
    assert [r["type"] for r in body["replies"]] == ["message", "reply"]
    assert "toner" not in seen.text  # the note's words
    assert not {"assignee", "version", "tags", "custom_fields", "notes"} & set(body)
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json()


def test_invalid_input_is_422_naming_the_field(api: Desk) -> None:
    with api.client("root") as root:
        missing = root.post("/tickets", json={"message": "x", "contact_email": "a@b.example"})
        bad_dept = root.post("/tickets", json={"subject": "s", "message": "m", "contact_email": "a@b.example",
                                               "department": "Nowhere"})
        misspelt = root.patch(f"/tickets/{api.support}", json={"subjcet": "x"})
        bad_status = root.get("/tickets", params={"status": "bogus"})
        bad_version = root.patch(f"/tickets/{api.support}", json={"subject": "x"}, headers={"If-Match": "v1"})
        huge_ticket = root.get("/tickets/" + "9" * 30)  # overflowed SQLite's INTEGER: a 500 before
        huge_contact = root.get("/contacts/" + "9" * 30)
    assert missing.status_code == 422 and missing.json()["field"] == "subject"
    assert bad_dept.status_code == 422 and bad_dept.json()["field"] == "department"
    assert misspelt.status_code == 422 and misspelt.json()["field"] == "subjcet"
    assert bad_status.status_code == 422 and bad_status.json()["field"] == "status"
    assert bad_version.status_code == 422 and bad_version.json()["field"] == "If-Match"
    assert huge_ticket.status_code == 404
    assert huge_contact.status_code == 422 and huge_contact.json()["field"] == "contact_id"


def test_a_body_over_the_limit_is_413(api: Desk) -> None:
    with api.client("root") as root:
        big = root.post(f"/tickets/{api.support}/replies", json={"message": "x" * (api.max_body + 1)})
    assert big.status_code == 413
    assert "larger than" in big.json()["error"]


def test_create_reply_and_status_with_and_without_mail(api: Desk) -> None:
    def outbox(ticket_id: int) -> int:
        with session_scope(api.engine, write=False) as s:
            return int(s.execute(select(func.count()).select_from(OutboundMessage)
                                 .where(OutboundMessage.ticket_id == ticket_id)).scalar_one())

    with api.client("sam") as sam:
        made = sam.post("/tickets", params={"notify": "false"},
                        json={"subject": "VPN down", "message": "No VPN since 9.", "contact_email":
                              "bob@acme.example", "department": "Support", "tags": ["vpn"]})
        assert made.status_code == 201
        ticket = made.json()
        assert (ticket["source"], ticket["tags"], ticket["creator"]) == ("api", ["vpn"], "sam")
        assert outbox(ticket["id"]) == 0
        silent = sam.post(f"/tickets/{ticket['number']}/replies", params={"notify": "false"},
                          json={"message": "Recorded only."})
        assert silent.status_code == 201 and silent.json()["type"] == "reply"
        assert outbox(ticket["id"]) == 0
        sam.post(f"/tickets/{ticket['number']}/replies", json={"message": "Mailed."})
        assert outbox(ticket["id"]) == 1
        closed = sam.put(f"/tickets/{ticket['id']}/status", json={"status": 2}, params={"notify": "false"})
        assert closed.status_code == 200
        assert closed.json()["status"]["state"] == "closed"  # seed 002's 2 is Closed
        note = sam.post(f"/tickets/{ticket['number']}/replies", json={"message": "n", "type": "note"}).json()
        gone = sam.delete(f"/tickets/{ticket['number']}/replies/{note['id']}")
        assert gone.status_code == 200
        again = sam.get(f"/tickets/{ticket['number']}").json()
        assert [n["deleted"] for n in again["notes"]] == [True]
        assert sam.delete(f"/tickets/{ticket['number']}/replies/{api.note_id}").status_code == 404


def test_the_list_pages_by_page_and_by_cursor(api: Desk) -> None:
    made = [api.new_ticket(subject=f"Paging {i}") for i in range(5)]
    with api.client("root") as root:
        first = root.get("/tickets", params={"search": "Paging", "limit": 2, "sort": "created"}).json()
        assert first["total"] == 5 and len(first["tickets"]) == 2
        by_cursor = [t["number"] for t in first["tickets"]]
        cursor = first["next_cursor"]
        while cursor:
            page = root.get("/tickets", params={"search": "Paging", "limit": 2, "sort": "created",
                                                "cursor": cursor}).json()
            by_cursor += [t["number"] for t in page["tickets"]]
            cursor = page["next_cursor"]
        third = root.get("/tickets", params={"search": "Paging", "limit": 2, "sort": "created", "page": 3}).json()
        asc = root.get("/tickets", params={"search": "Paging", "sort": "created", "order": "asc"}).json()
    assert by_cursor == list(reversed(made))
    assert [t["number"] for t in third["tickets"]] == [made[0]]
    assert [t["number"] for t in asc["tickets"]] == made
    with session_scope(api.engine, write=False) as s:
        assert s.execute(select(func.count()).select_from(Ticket)).scalar_one() >= 5


def test_the_client_key_reaches_the_customers_notice(api: Desk) -> None:
    from tui_helpdesk.services import mail_admin
    from tui_helpdesk.services.context import transaction

    with transaction(api.engine, api.actors["root"]) as tx:
        mail_admin.save_template(tx, "notice.created", "%{ticket.subject}",
                                 "Follow it at /api/public/tickets/%{ticket.number}?c=%{ticket.client_key}")
    with api.client("root") as root:
        made = root.post("/tickets", json={"subject": "Notice me", "message": "Hello.",
                                           "contact_email": "zoe@acme.example", "department": "Support"}).json()
    with session_scope(api.engine, write=False) as s:
        bodies = s.execute(select(OutboundMessage.body).where(OutboundMessage.ticket_id == made["id"])).scalars()
        key = s.execute(select(Ticket.client_key).where(Ticket.id == made["id"])).scalar_one()
        notices = [b for b in bodies if "/api/public/tickets/" in b]
    assert len(notices) == 1
    assert notices[0].startswith(f"Follow it at /api/public/tickets/{made['number']}?c={key}\n")
    with api.client(None) as customer:
        assert customer.get(f"/public/tickets/{made['number']}", params={"c": key}).status_code == 200


def test_a_bug_is_a_plain_500_without_internals(api: Desk) -> None:
    def boom() -> None:
        raise RuntimeError("secret internals at /srv/helpdesk/db.py line 42")

    if not any(getattr(r, "path", "") == "/api/test-boom" for r in api.app.router.routes):
        api.app.add_api_route("/api/test-boom", boom, include_in_schema=False)
    with api.client("root") as root:
        answer = root.get("/test-boom")
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal error (logged on the server)", "field": None}
    assert "secret" not in answer.text and "Traceback" not in answer.text


def test_seed_002_status_ids_follow_the_setting(api: Desk) -> None:
    from tui_helpdesk.services.admin import desk as admin_desk
    from tui_helpdesk.services.context import transaction
    from tui_helpdesk.services.errors import ValidationError

    number = api.new_ticket()
    with pytest.raises(ValidationError) as bad, transaction(api.engine, api.actors["root"]) as tx:
        admin_desk.set_setting(tx, "api_status_ids", "2 closed")
    assert bad.value.field == "api_status_ids"
    with transaction(api.engine, api.actors["root"]) as tx:
        admin_desk.set_setting(tx, "api_status_ids", "2=Resolved, 3=On Hold")
    try:
        with api.client("root") as root:
            two = root.put(f"/tickets/{number}/status", json={"status": 2, "notes": "done"}).json()
            named = root.put(f"/tickets/{number}/status", json={"status": "Open"}).json()
            unmapped = root.put(f"/tickets/{number}/status", json={"status": 9999})
        assert (two["status"]["title"], named["status"]["title"]) == ("Resolved", "Open")
        assert unmapped.status_code == 422 and unmapped.json()["field"] == "status"
    finally:
        with transaction(api.engine, api.actors["root"]) as tx:
            admin_desk.reset_setting(tx, "api_status_ids")


def test_published_articles_are_read_without_a_key_internal_ones_are_404(api: Desk, tmp_path: Path) -> None:
    from tui_helpdesk.services import kb
    from tui_helpdesk.services.context import Actor, transaction

    src = tmp_path / "steps.txt"
    src.write_text("1. forgot 2. mail")
    api.app.state.attachments_dir = tmp_path / "store"
    with transaction(api.engine, Actor.system("cli")) as tx:
        kb.create(tx, "Reset your password", "Use the *forgot* link.", "Accounts", published=True,
                  new_category=True)
        kb.create(tx, "Internal escalation", "Call the on-call lead.", "Accounts")
        file_id = kb.attach(tx, "reset-your-password", src, tmp_path / "store").id
        secret_id = kb.attach(tx, "internal-escalation", src, tmp_path / "store").id
    with api.client(None) as anyone:
        attached = anyone.get(f"/public/kb/reset-your-password/attachments/{file_id}")
        hidden = anyone.get(f"/public/kb/internal-escalation/attachments/{secret_id}")
        text = anyone.get("/public/kb/reset-your-password")
        listed = anyone.get("/public/kb", params={"q": "password"}).json()
        internal = anyone.get("/public/kb/internal-escalation")
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/markdown")
    assert text.text == (
        "# Reset your password\n\nUse the *forgot* link.\n\n## Attachments\n\n"
        f"- [steps.txt](/api/public/kb/reset-your-password/attachments/{file_id})\n"
    )
    assert [a["slug"] for a in listed["articles"]] == ["reset-your-password"]
    assert internal.status_code == 404 and "Call the on-call" not in internal.text
    assert attached.status_code == 200 and attached.content == b"1. forgot 2. mail"
    assert hidden.status_code == 404
