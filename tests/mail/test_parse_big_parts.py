"""Issue 10 item 11: a big base64 part is decoded from the raw bytes into a spool file, not held by the
email package as lines, a string and a decoded copy; the rest of the message parses as before."""

from __future__ import annotations

import base64
import hashlib
import os
import tracemalloc
from pathlib import Path

from support.corpus import CORPUS, needs_corpus

from tui_helpdesk.mail.parse import LIFT_MIN, parse_message


def _message(payload: bytes) -> bytes:
    b64 = base64.encodebytes(payload).replace(b"\n", b"\r\n")
    return (
        b"From: Carol <carol@customer.test>\r\nTo: support@helpdesk.test\r\nSubject: the scan\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="outer"\r\n\r\npreamble\r\n'
        b'--outer\r\nContent-Type: multipart/alternative; boundary="alt"\r\n\r\n'
        b"--alt\r\nContent-Type: text/plain\r\n\r\nThe scan is attached.\r\n"
        b"--alt\r\nContent-Type: text/html\r\n\r\n<p>The scan is attached.</p>\r\n--alt--\r\n"
        b'--outer\r\nContent-Type: application/pdf; name="scan.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + b64
        + b'\r\n--outer\r\nContent-Type: image/png; name="logo.png"\r\nContent-Transfer-Encoding: base64\r\n'
        b"Content-ID: <logo@x>\r\n\r\naGVsbG8=\r\n--outer--\r\nepilogue\r\n"
    )


def test_a_big_part_is_spooled_whole_and_the_rest_parses_as_before(tmp_path: Path) -> None:
    payload = os.urandom(LIFT_MIN * 3 + 7)
    parsed = parse_message(_message(payload), spool_dir=tmp_path)
    assert parsed.text == "The scan is attached." and parsed.from_addr == "carol@customer.test"
    big, small = parsed.attachments
    assert (big.filename, big.size, big.payload) == ("scan.pdf", len(payload), b"")
    assert big.spool is not None and big.spool.parent == tmp_path and big.spool.read_bytes() == payload
    assert big.sha256 == hashlib.sha256(payload).hexdigest()
    assert (small.filename, small.payload, small.spool, small.content_id) == ("logo.png", b"hello", None, "logo@x")
    # a forged marker header in the mail itself names no spool file
    assert all("x-helpdesk-lifted" not in k for k in parsed.headers)


def test_parsing_a_big_part_holds_no_copy_of_it(tmp_path: Path) -> None:
    raw = _message(os.urandom(8 * 1024 * 1024))  # 11 MB of base64
    tracemalloc.start()
    try:
        parse_message(raw, spool_dir=tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # before: the email package's lines, joined string and decoded bytes, several times the message
    assert peak < len(raw) // 2, f"peak {peak / 1e6:.1f} MB for a {len(raw) / 1e6:.1f} MB message"


@needs_corpus
def test_lifting_every_base64_part_of_the_corpus_changes_nothing(tmp_path: Path, monkeypatch) -> None:
    """With the threshold at 64 bytes every base64 part of real mail is lifted: the parse must be the one
    the email package gives on its own (text, attachments byte for byte, reports, enclosed headers)."""
    from tui_helpdesk.mail import parse

    def summary(parsed: parse.ParsedMessage) -> tuple:
        files = []
        for a in parsed.attachments:
            data = a.spool.read_bytes() if a.spool else a.payload
            files.append((a.filename, a.content_type, hashlib.sha256(data).hexdigest(), a.inline, a.content_id))
        return (parsed.text, parsed.html, parsed.subject, tuple(files), parsed.delivery_status,
                parsed.enclosed_headers, parsed.fatal)  # fmt: skip

    lifted = checked = 0
    for path in sorted(CORPUS.rglob("*.eml")):
        raw = path.read_bytes()
        if b"transfer-encoding: base64" not in raw.lower() or len(raw) > 200_000 or checked >= 80:
            continue
        checked += 1
        monkeypatch.setattr(parse, "LIFT_MIN", 10**12)
        plain = summary(parse_message(raw))
        monkeypatch.setattr(parse, "LIFT_MIN", 64)
        got = parse_message(raw, spool_dir=tmp_path)
        lifted += any(a.spool for a in got.attachments)
        assert summary(got) == plain, path
    assert lifted >= 30, lifted
