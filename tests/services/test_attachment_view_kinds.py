"""attachment_view: what kind each file is shown as, and a PDF's text read with pypdf."""

from __future__ import annotations

from pathlib import Path

from tui_helpdesk.services import attachment_view, drafts, tickets
from tui_helpdesk.services.context import reading


def tiny_pdf(text: str) -> bytes:
    """A one-page PDF that says `text` (offsets computed, so the xref table is right)."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_kinds_and_a_pdfs_text(desk, tmp_path: Path) -> None:
    files = {"report.pdf": tiny_pdf("Invoice total 42 EUR"), "readme.md": b"# Title\n\n*hi*",
             "tool.exe": b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256))}
    for name, body in files.items():
        (tmp_path / name).write_bytes(body)
    with desk.tx() as tx:
        ref = tickets.create(tx, subject="Files", body="see", contact_email="bob@acme.example",
                             department="Support").number
    attachments_dir = tmp_path / "store"
    drafts.send(desk.engine, desk.admin, ref, "note", "files", expected_version=None, attachments_dir=attachments_dir,
                files=[tmp_path / "report.pdf", tmp_path / "readme.md"])
    with reading(desk.engine, desk.admin) as tx:
        shown = {a.filename: attachment_view.view(tx, a.id, attachments_dir)
                 for item in tickets.view(tx, ref).thread for a in item.attachments}
    assert shown["report.pdf"].kind == "pdf" and "Invoice total 42 EUR" in shown["report.pdf"].text
    assert ("Pages", "1") in shown["report.pdf"].meta
    assert shown["readme.md"].kind == "markdown" and shown["readme.md"].text.startswith("# Title")
    assert attachment_view.kind_of("tool.exe", "application/octet-stream", files["tool.exe"][:64]) == "binary"
