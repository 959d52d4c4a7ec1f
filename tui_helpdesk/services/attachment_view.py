"""Reading an attachment to look at it inside the app, or to hand to a pager or viewer on request.

The one door to an attachment's bytes for viewing: the actor must see the ticket (visibility). What
comes back is data, never something to run: text (cleaned of terminal controls by the face, through
untrusted.py), a CSV as rows, a PDF's text (pypdf), or an image's type and dimensions read from its
header. `private_copy` writes the content to a file only the user can read, under a fresh private
directory, with a harmless name, for `$PAGER` or `xdg-open`; nothing here executes it.
"""

from __future__ import annotations

import csv
import io
import os
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tui_helpdesk.untrusted import safe_filename

from . import attachments
from .context import Tx

MAX_BYTES = 2 * 1024 * 1024  # what is read for viewing; the rest is said to be cut
MAX_ROWS = 500
TEXT_SUFFIXES = {".txt", ".log", ".text", ".json", ".xml", ".yaml", ".yml", ".ini", ".cfg", ".conf", ".eml"}


@dataclass(frozen=True)
class AttachmentContent:
    """What a viewer shows. `kind`: text | markdown | csv | pdf | image | binary."""

    id: int
    filename: str
    content_type: str
    size: int
    kind: str
    text: str = ""
    rows: tuple[tuple[str, ...], ...] = ()
    meta: tuple[tuple[str, str], ...] = ()
    cut: bool = False  # only the first MAX_BYTES (or MAX_ROWS) are shown
    notes: tuple[str, ...] = field(default_factory=tuple)


def kind_of(filename: str, content_type: str, head: bytes) -> str:
    suffix = Path(filename.lower()).suffix
    if suffix in (".md", ".markdown") or content_type == "text/markdown":
        return "markdown"
    if suffix == ".csv" or content_type == "text/csv":
        return "csv"
    if head.startswith(b"%PDF") or suffix == ".pdf":
        return "pdf"
    if image_size(head) is not None or content_type.startswith("image/"):
        return "image"
    if suffix in TEXT_SUFFIXES or content_type.startswith("text/") or _looks_like_text(head):
        return "text"
    return "binary"


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head[:4096]:
        return False
    try:
        head[:4096].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > 4000  # a character cut at the end of the sample
    return True


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        return str(best) if best is not None else data.decode("latin-1")


def view(tx: Tx, attachment_id: int, attachments_dir: Path) -> AttachmentContent:
    """The attachment as a viewer shows it (see the module docstring)."""
    row, source = attachments.stored_file(tx, attachment_id, attachments_dir)
    with source.open("rb") as fh:
        data = fh.read(MAX_BYTES + 1)
    cut = len(data) > MAX_BYTES
    data = data[:MAX_BYTES]
    kind = kind_of(row.filename, row.content_type or "", data[:64])
    base = {"id": row.id or 0, "filename": row.filename, "content_type": row.content_type or "", "size": row.size}
    meta = [("Type", row.content_type or "unknown"), ("Size", f"{row.size:,} bytes")]
    if kind in ("text", "markdown"):
        return AttachmentContent(**base, kind=kind, text=_decode(data), cut=cut, meta=tuple(meta))
    if kind == "csv":
        text = _decode(data)
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel  # type: ignore[assignment]
        rows = []
        for n, r in enumerate(csv.reader(io.StringIO(text), dialect)):
            if n >= MAX_ROWS:
                cut = True
                break
            rows.append(tuple(r))
        return AttachmentContent(**base, kind="csv", rows=tuple(rows), cut=cut, meta=tuple(meta))
    if kind == "pdf":
        return _pdf(base, source, meta)
    if kind == "image":
        size = image_size(data[:65536] if len(data) > 65536 else data) or image_size(data)
        if size is not None:
            fmt, width, height = size
            meta += [("Format", fmt), ("Dimensions", f"{width} × {height} pixels")]
        return AttachmentContent(**base, kind="image", meta=tuple(meta),
                                 notes=("an image: o opens it in your viewer",))
    return AttachmentContent(**base, kind="binary", meta=tuple(meta),
                             notes=("not text: s saves it; it is never run from here",))


def _pdf(base: dict, source: Path, meta: list[tuple[str, str]]) -> AttachmentContent:
    try:
        from pypdf import PdfReader  # imported when a PDF is first opened: start-up never pays it

        reader = PdfReader(str(source))
        pages = len(reader.pages)
        texts = []
        for page in reader.pages[:50]:
            texts.append(page.extract_text() or "")
        meta.append(("Pages", str(pages)))
        text = "\n\n".join(t.strip() for t in texts)
        return AttachmentContent(**base, kind="pdf", text=text or "(no text in this PDF: o opens it)",
                                 meta=tuple(meta), cut=pages > 50)
    except Exception as exc:  # a damaged or encrypted PDF is shown as such, not as a crash
        return AttachmentContent(**base, kind="pdf", meta=tuple(meta),
                                 notes=(f"the PDF's text cannot be read ({type(exc).__name__})",))


def image_size(head: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) from a PNG, GIF, JPEG, BMP or WebP header; None if it is none of them."""
    if head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 24:
        w, h = struct.unpack(">II", head[16:24])
        return "PNG", w, h
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        w, h = struct.unpack("<HH", head[6:10])
        return "GIF", w, h
    if head.startswith(b"BM") and len(head) >= 26:
        w, h = struct.unpack("<ii", head[18:26])
        return "BMP", w, abs(h)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP" and len(head) >= 30:
        if head[12:16] == b"VP8X":
            w = int.from_bytes(head[24:27], "little") + 1
            h = int.from_bytes(head[27:30], "little") + 1
            return "WebP", w, h
        return "WebP", 0, 0
    if head.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(head):
            if head[i] != 0xFF:
                i += 1
                continue
            marker = head[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            length = struct.unpack(">H", head[i + 2 : i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                h, w = struct.unpack(">HH", head[i + 5 : i + 9])
                return "JPEG", w, h
            i += 2 + length
        return "JPEG", 0, 0
    return None


def private_copy(tx: Tx, attachment_id: int, attachments_dir: Path) -> Path:
    """The attachment's content in a fresh directory only the user can enter (0700), as a file only
    they can read (0600, never executable), named after the attachment with anything unsafe removed."""
    row, source = attachments.stored_file(tx, attachment_id, attachments_dir)
    folder = Path(tempfile.mkdtemp(prefix="helpdesk-view-"))
    os.chmod(folder, 0o700)
    target = folder / (safe_filename(row.filename) or "attachment")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as dst, source.open("rb") as src:
        while chunk := src.read(1 << 16):
            dst.write(chunk)
    return target
