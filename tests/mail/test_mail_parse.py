"""parse_message on hand-made messages: each test is a property a user would notice."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from tui_helpdesk.mail.parse import decode_bytes, normalize_msgid, parse_message, parse_references


def _msg(headers: str, body: bytes = b"Hello\n") -> bytes:
    return headers.strip().encode("utf-8", "surrogateescape").replace(b"\n", b"\r\n") + b"\r\n\r\n" + body


def test_basic_fields() -> None:
    raw = _msg(
        """
From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <Juergen@Example.ORG>
To: support@example.com, "Doe, Jane" <jane@example.com>
Cc: other@example.com
Reply-To: replies@example.org
Subject: =?utf-8?b?UHJvYmxlbSBtaXQgZGVyIFLDvGNrZ2FiZQ==?=
Message-ID:   <ABC.123@mail.example.org>
In-Reply-To: <parent@example.com> (comment)
References: <root@example.com>
 <parent@example.com> <root@example.com>
Date: Tue, 02 Jan 2024 10:30:00 +0100
"""
    )
    m = parse_message(raw)
    assert m.from_addr == "juergen@example.org"
    assert m.from_name == "Jürgen Müller"
    assert m.to == ("support@example.com", "jane@example.com")
    assert m.cc == ("other@example.com",)
    assert m.reply_to == ("replies@example.org",)
    assert m.subject == "Problem mit der Rückgabe"
    assert m.message_id == "<ABC.123@mail.example.org>"
    assert m.in_reply_to == "<parent@example.com>"
    assert m.references == ("<root@example.com>", "<parent@example.com>")
    assert m.date == datetime(2024, 1, 2, 9, 30, tzinfo=UTC)
    assert m.text == "Hello"
    assert not m.defects


def test_msgid_helpers() -> None:
    assert normalize_msgid("  <a@b>  ") == "<a@b>"
    assert normalize_msgid("a@b") == "<a@b>"
    assert normalize_msgid("") is None
    assert parse_references("<a@b> junk <c@d>") == ("<a@b>", "<c@d>")


def test_terminal_escapes_in_headers_and_body_are_removed() -> None:
    raw = _msg(
        "From: \x1b]0;pwn\x07Evil <e@x.org>\nSubject: hi \x1b[2J there\x9b31m",
        b"body \x1b]8;;http://x\x1b\\link\n",
    )
    m = parse_message(raw)
    assert m.subject == "hi there"
    assert m.from_name == "Evil"
    assert "\x1b" not in m.text and m.text == "body link"


def test_plain_preferred_over_html_and_html_only_converted() -> None:
    alt = _msg(
        'From: a@b.c\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="B"',
        b"--B\r\nContent-Type: text/plain\r\n\r\nplain version\r\n--B\r\nContent-Type: text/html\r\n\r\n"
        b"<p>html <b>version</b></p>\r\n--B--\r\n",
    )
    m = parse_message(alt)
    assert m.text == "plain version"
    assert m.html is not None and "<b>version</b>" in m.html
    html_only = _msg(
        "From: a@b.c\nContent-Type: text/html; charset=utf-8", b"<style>x{}</style><p>only <i>html</i></p>"
    )
    assert parse_message(html_only).text == "only html"


def test_charsets_declared_wrong_or_unknown() -> None:
    # Declared latin-1 but really cp1252 curly quotes: mail clients show the quotes.
    m = parse_message(
        _msg("From: a@b.c\nContent-Type: text/plain; charset=iso-8859-1", b"\x93quoted\x94 \x80\n")
    )
    assert m.text == "\u201cquoted\u201d \u20ac"
    # Unknown charset: UTF-8 bytes still read as UTF-8 and the problem is reported.
    m = parse_message(_msg("From: a@b.c\nContent-Type: text/plain; charset=x-no-such", "naïve\n".encode()))
    assert m.text == "naïve"
    assert any("unknown charset" in d for d in m.defects)
    # Declared UTF-8 but Latin-1 bytes: no crash, readable text.
    m = parse_message(_msg("From: a@b.c\nContent-Type: text/plain; charset=utf-8", b"caf\xe9\n"))
    assert m.text == "café"
    assert decode_bytes(b"\xff\xfe", "utf-8")[0]  # never raises, never empty


def test_raw_8bit_header_is_decoded() -> None:
    raw = b"From: =?iso-8859-1?q?Ren=E9?= <r@x.org>\r\nSubject: Gr\xc3\xbc\xc3\x9fe\r\n\r\nhi\r\n"
    m = parse_message(raw)
    assert m.subject == "Grüße"
    assert m.from_name == "René"


def test_attachments_names_inline_and_cid() -> None:
    raw = _msg(
        'From: a@b.c\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="B"',
        b"--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        b"--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
        b"filename*=UTF-8''..%2F..%2Fr%C3%A9sum%C3%A9.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n"
        b'--B\r\nContent-Type: image/png; name="=?utf-8?q?logo=2Epng?="\r\nContent-ID: <img1@x>\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw==\r\n--B--\r\n",
    )
    m = parse_message(raw)
    assert m.text == "see attached"
    pdf, png = m.attachments
    assert (pdf.filename, pdf.content_type, pdf.payload, pdf.size, pdf.inline) == (
        "résumé.pdf",
        "application/pdf",
        b"%PDF-",
        5,
        False,
    )
    assert (png.filename, png.inline, png.content_id) == ("logo.png", True, "img1@x")


def test_missing_and_broken_headers() -> None:
    m = parse_message(b"Subject: no from\r\nDate: not a date\r\nMessage-ID: \r\n\r\nbody\r\n")
    assert m.from_addr is None and "no From address" in m.defects
    assert m.date is None and m.message_id is None
    assert m.text == "body"
    naive = parse_message(b"From: a@b.c\r\nDate: Tue, 2 Jan 2024 10:00:00 -0000\r\n\r\nx")
    assert naive.date == datetime(2024, 1, 2, 10, tzinfo=UTC)


def test_bad_inputs_never_raise() -> None:
    assert parse_message(b"").fatal
    assert parse_message(b"   \r\n").fatal
    assert parse_message("not bytes").fatal  # type: ignore[arg-type]
    rng = random.Random(1234)
    for _ in range(200):
        blob = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 600)))
        result = parse_message(b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n" + blob)
        assert result.text or result.attachments or result.defects


def test_deep_nesting_is_bounded() -> None:
    body = b""
    for depth in range(200):
        body += f'--b{depth}\r\nContent-Type: multipart/mixed; boundary="b{depth + 1}"\r\n\r\n'.encode()
    body += b"--b200\r\nContent-Type: text/plain\r\n\r\ndeep\r\n"
    m = parse_message(b'From: a@b.c\r\nContent-Type: multipart/mixed; boundary="b0"\r\n\r\n' + body)
    assert any("nesting" in d for d in m.defects)


def test_mbox_postmark_line_is_not_a_header() -> None:
    m = parse_message(b"From someone@x Mon Jan  1 00:00:00 2024\nFrom: a@b.c\nSubject: s\n\nbody\n")
    assert m.from_addr == "a@b.c" and m.subject == "s" and m.text == "body"
