"""Issue 10 item 11: a body over max_body_bytes becomes an entry holding its start and a note, the
whole text an attachment of that entry; the search index holds only what the entry holds."""

from __future__ import annotations

import hashlib

import pytest
from mailflow_support import MailDesk, message
from sqlalchemy import select

from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Attachment
from tui_helpdesk.services import attachments, queries
from tui_helpdesk.services.context import reading
from tui_helpdesk.services.queries import TicketQuery

LIMIT = 4_000


def _found(desk: MailDesk, word: str) -> list[int]:
    with reading(desk.engine, desk.admin) as tx:
        return [r.id for r in queries.fetch_page(tx, TicketQuery(text=word, sort="newest"), limit=10).rows]


# 20 kB stays in memory through the parse; 300 kB is over mail/parse.LIFT_MIN, so it is decoded to a file
@pytest.mark.parametrize("size", [20_000, 300_000])
def test_a_body_over_the_limit_is_capped_and_the_full_text_attached(desk: MailDesk, tmp_path, size: int) -> None:
    desk.set("max_body_bytes", LIMIT)
    line = "Grüße: the kiosk printer jams again, see the log below.\n"
    body = "Opening words about a kumquat.\n" + line * (size // len(line)) + "Closing words: zanzibar.\n"
    r = desk.ingest(message(subject="Long log", body=body))
    assert (r.state, r.outcome) == ("done", "new_ticket"), r.reason
    [entry] = [e for e in desk.entries(r.ticket_id) if e.kind == "message"]
    text, _, note = entry.body.rpartition("\n\n")
    assert text.startswith("Opening words about a kumquat.") and body.startswith(text)
    assert LIMIT - 600 < len(text.encode()) and len(entry.body.encode()) <= LIMIT  # the note fits within
    total = len(body.encode())
    assert note == (f"[The message was longer than {LIMIT:,} bytes ({total:,} bytes): this is its start; "
                    "the full text is attached as message.txt.]")  # fmt: skip
    assert "zanzibar" not in entry.body and len((entry.full_body or "").encode()) <= LIMIT
    with session_scope(desk.engine, write=False) as s:
        [att] = s.execute(select(Attachment).where(Attachment.ticket_id == r.ticket_id)).scalars().all()
    assert (att.entry_id, att.filename, att.content_type, att.size) == (entry.id, "message.txt", "text/plain", total)
    # every byte, reachable through the door an agent uses to save an attachment
    with reading(desk.engine, desk.admin) as tx:
        saved = attachments.save(tx, att.id, tmp_path / "out.txt", desk.attachments)
    assert saved.read_bytes() == body.encode() and att.sha256 == hashlib.sha256(body.encode()).hexdigest()
    assert _found(desk, "kumquat") == [r.ticket_id]
    assert _found(desk, "zanzibar") == []  # the index got the capped body only
    assert not list((desk.attachments / "incoming").glob("*"))  # no spool file left behind


def test_a_body_within_the_limit_is_whole_and_has_no_file(desk: MailDesk) -> None:
    desk.set("max_body_bytes", LIMIT)
    body = "Short and sweet: kumquat.\n" + "x" * (LIMIT - 100) + "\n"
    r = desk.ingest(message(body=body))
    [entry] = [e for e in desk.entries(r.ticket_id) if e.kind == "message"]
    assert entry.body == body.strip() and "longer than" not in entry.body
    assert desk.count(Attachment, Attachment.ticket_id == r.ticket_id) == 0


def test_a_long_reply_is_capped_on_its_ticket_too(desk: MailDesk) -> None:
    desk.set("max_body_bytes", LIMIT)
    first = desk.ingest(message(body="The first message.\n"))
    number = desk.ticket(first.ticket_id).number
    again = desk.ingest(message(subject=f"Re: [{number}] Printer on fire", body="More: " + "y " * 10_000))
    assert (again.outcome, again.ticket_id) == ("reply", first.ticket_id)
    reply = desk.entries(first.ticket_id)[-1]
    assert reply.body.startswith("More: y y") and reply.body.endswith("attached as message.txt.]")
    with session_scope(desk.engine, write=False) as s:
        [att] = s.execute(select(Attachment).where(Attachment.entry_id == reply.id)).scalars().all()
    assert att.size == len(("More: " + "y " * 10_000).encode())


def test_a_long_html_only_body_keeps_the_whole_html_as_a_file(desk: MailDesk) -> None:
    desk.set("max_body_bytes", LIMIT)
    html = "<p>Opening words about a kumquat.</p>\n" + "<p>the kiosk printer jams again</p>\n" * 2_000
    raw = message(body=html).replace(b"Content-Type: text/plain", b"Content-Type: text/html")
    r = desk.ingest(raw)
    [entry] = [e for e in desk.entries(r.ticket_id) if e.kind == "message"]
    assert entry.body.startswith("Opening words about a kumquat.") and "<p>" not in entry.body
    assert entry.body.endswith("the full text is attached as message.html.]")
    with session_scope(desk.engine, write=False) as s:
        [att] = s.execute(select(Attachment).where(Attachment.entry_id == entry.id)).scalars().all()
    assert (att.filename, att.content_type, att.size) == ("message.html", "text/html", len(html.encode()))


def test_an_agents_long_mail_is_a_capped_note_not_a_quarantine(desk: MailDesk) -> None:
    desk.set("max_body_bytes", LIMIT)
    first = desk.ingest(message(body="The first message.\n"))
    number = desk.ticket(first.ticket_id).number
    long = "Looking at it now.\n" + "the log says: paper jam\n" * 1_000
    r = desk.ingest(message(sender="Sam Agent <sam@helpdesk.test>", subject=f"Re: [{number}]", body=long))
    assert (r.state, r.outcome, r.ticket_id) == ("done", "agent_note", first.ticket_id), r.reason
    note = desk.entries(first.ticket_id)[-1]
    assert note.body.startswith("Looking at it now.") and len(note.body.encode()) <= LIMIT
    with session_scope(desk.engine, write=False) as s:
        [att] = s.execute(select(Attachment).where(Attachment.entry_id == note.id)).scalars().all()
    assert (att.filename, att.size) == ("message.txt", len(long.encode()))
