"""Issue 10 item 11: a big text body is decoded from the raw bytes once (into a spool file, in chunks);
with a text_limit only its start is held as text and the whole is a UTF-8 file; the rest parses as before."""

from __future__ import annotations

import base64
import hashlib
import quopri
import tracemalloc
from pathlib import Path

import pytest
from support.corpus import CORPUS, needs_corpus

from tui_helpdesk.mail.parse import parse_message

LINE = "Grüße aus Köln: the kiosk printer jams again.\r\n"
BODY = "kumquat first. " + LINE * 8_000 + "zanzibar last.\r\n"  # ~380 kB: over LIFT_MIN


def _message(charset: str | None, encoding: str, body: str = BODY, *, multipart: bool = False) -> bytes:
    data = body.encode(charset or "utf-8")
    payload = {"base64": base64.encodebytes, "quoted-printable": quopri.encodestring}.get(encoding, bytes)(data)
    ctype = f"text/plain; charset={charset}" if charset else "text/plain"
    part = f"Content-Type: {ctype}\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n".encode() + payload
    head = b"From: Carol <carol@customer.test>\r\nTo: support@helpdesk.test\r\nSubject: the log\r\nMIME-Version: 1.0\r\n"
    if not multipart:
        return head + part
    return (head + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n' + part
            + b'\r\n--b\r\nContent-Type: text/plain; name="notes.txt"\r\n\r\nsmall file\r\n--b--\r\n')  # fmt: skip


CASES = [("utf-8", "8bit"), ("utf-8", "quoted-printable"), ("utf-8", "base64"), ("iso-8859-1", "8bit"),
         (None, "8bit"), ("koi8-r", "quoted-printable")]  # fmt: skip


@pytest.mark.parametrize(("charset", "encoding"), CASES)
@pytest.mark.parametrize("multipart", [False, True])
def test_a_long_body_is_capped_and_its_whole_text_spooled(tmp_path: Path, charset, encoding, multipart) -> None:
    body = BODY if charset != "koi8-r" else BODY.replace("Grüße aus Köln", "Привет из Москвы")
    raw = _message(charset, encoding, body, multipart=multipart)
    whole = body.replace("\r\n", "\n").strip("\n")
    assert parse_message(raw, spool_dir=tmp_path).text == whole  # no limit: as the email package gives it
    parsed = parse_message(raw, spool_dir=tmp_path, text_limit=5_000)
    assert parsed.text.startswith(whole.split("\n")[0]) and whole.startswith(parsed.text)
    assert 4_000 < len(parsed.text.encode()) <= 5_000
    full = parsed.full_text
    assert full is not None and (full.filename, full.content_type) == ("message.txt", "text/plain")
    data = full.spool.read_bytes()
    assert data.decode("utf-8") == body and (full.size, full.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert [a.filename for a in parsed.attachments] == (["notes.txt"] if multipart else [])
    assert not any("x-helpdesk-lifted" in k for k in parsed.headers)
    full.spool.unlink()
    assert not list(tmp_path.iterdir())  # the part's own spool is gone once read


def test_parsing_a_long_body_with_a_limit_holds_no_copy_of_it(tmp_path: Path) -> None:
    raw = _message("utf-8", "8bit", "kumquat\r\n" + LINE * 250_000)  # 12 MB
    tracemalloc.start()
    try:
        parsed = parse_message(raw, spool_dir=tmp_path, text_limit=1_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert parsed.full_text is not None and parsed.full_text.size > 11_000_000
    # before: the email package's lines, its string, the decoded bytes, the text, its cleaned copy (~5x the
    # message); now a few copies of the 1 MB start and of one 1 MB chunk, whatever the message's size
    assert peak < 8_000_000, f"peak {peak / 1e6:.1f} MB for a {len(raw) / 1e6:.1f} MB message"


@needs_corpus
def test_lifting_every_text_part_of_the_corpus_changes_nothing(tmp_path: Path, monkeypatch) -> None:
    """With the threshold at 64 bytes every text part of real mail is decoded through a spool file: the
    parse must be the one the email package gives on its own (including broken header blocks)."""
    from tui_helpdesk.mail import parse

    def summary(parsed: parse.ParsedMessage) -> tuple:
        files = [(a.filename, hashlib.sha256(a.spool.read_bytes() if a.spool else a.payload).hexdigest())
                 for a in parsed.attachments]  # fmt: skip
        return (parsed.text, parsed.html, parsed.headers, tuple(files), parsed.delivery_status,
                parsed.enclosed_headers, parsed.fatal)  # fmt: skip

    checked = 0
    for path in sorted(CORPUS.rglob("*.eml"))[::2]:  # half of it: the whole takes 4 s on a loaded machine
        raw = path.read_bytes()
        if len(raw) > 40_000:
            continue
        checked += 1
        monkeypatch.setattr(parse, "LIFT_MIN", 10**12)
        plain = summary(parse_message(raw))
        monkeypatch.setattr(parse, "LIFT_MIN", 64)
        assert summary(parse_message(raw, spool_dir=tmp_path)) == plain, path
    assert checked >= 400, checked


@pytest.mark.parametrize(
    "raw",
    [
        # the first delimiter right after the blank line that ends the headers (a part was read from
        # the delimiter on, and the whole multipart/related taken for one text part)
        b'From: a@x.test\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n\r\n--b\r\n'
        b'Content-Type: multipart/related; boundary="c"\r\n\r\n\r\n--c\r\nContent-Type: text/plain\r\n\r\n'
        + b"kumquat " * 2_000 + b"\r\n--c--\r\n--b--\r\n",
        # a part with no headers at all: its first line is blank
        b'From: a@x.test\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n\r\n'
        + b"kumquat " * 2_000 + b"\r\n--b--\r\n",
        # a line the email package does not take for a header ends the headers early: the rest is body
        b"From: a@x.test\r\nTo    : b@x.test\r\nSubject: hello\r\n\r\n" + b"kumquat " * 2_000 + b"\r\n",
    ],
    ids=["delimiter-after-blank", "headerless-part", "broken-header-block"],
)
def test_odd_shapes_parse_as_the_email_package_reads_them(tmp_path: Path, monkeypatch, raw: bytes) -> None:
    from tui_helpdesk.mail import parse

    monkeypatch.setattr(parse, "LIFT_MIN", 10**12)
    plain = parse_message(raw)
    monkeypatch.setattr(parse, "LIFT_MIN", 64)
    lifted = parse_message(raw, spool_dir=tmp_path, text_limit=1_000)
    assert "kumquat kumquat" in plain.text
    assert lifted.text == plain.text[: len(lifted.text)] and len(lifted.text) > 900
    assert lifted.full_text is not None and lifted.full_text.spool.read_text().strip() in plain.text
