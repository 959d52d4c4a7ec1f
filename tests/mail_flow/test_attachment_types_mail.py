"""The mail ingest applies the attachments' one rule: an executable named .pdf is refused and noted."""

from __future__ import annotations

from email.message import EmailMessage

from mailflow_support import SUPPORT, MailDesk
from sqlalchemy import select

from tui_helpdesk.db import session_scope
from tui_helpdesk.models import Attachment

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 120


def test_a_mailed_executable_named_pdf_is_refused_and_the_rest_kept(desk: MailDesk) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "carol@customer.test", SUPPORT, "Invoice"
    msg["Message-ID"] = "<elf-pdf@customer.test>"
    msg.set_content("Please see the invoice.")
    msg.add_attachment(ELF, maintype="application", subtype="pdf", filename="invoice.pdf")
    msg.add_attachment(b"plain words", maintype="text", subtype="plain", filename="notes.txt")
    r = desk.ingest(msg.as_bytes())
    assert r.outcome == "new_ticket"
    bodies = " ".join(e.body for e in desk.entries(r.ticket_id))
    assert "'invoice.pdf' was refused: its content is a Linux program" in bodies
    with session_scope(desk.engine, write=False) as s:
        names = s.execute(select(Attachment.filename).where(Attachment.ticket_id == r.ticket_id)).scalars().all()
    assert names == ["notes.txt"]
