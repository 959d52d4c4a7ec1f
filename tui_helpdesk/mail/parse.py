"""Raw RFC 5322 bytes to a plain, immutable :class:`ParsedMessage`.

:func:`parse_message` never raises. Mail from the internet is routinely broken (bad boundaries, lying
charsets, 8-bit headers, impossible dates); each problem becomes a string in ``defects`` and parsing
goes on with what can be read. If nothing can be read, the result has empty fields and a defect that
starts with ``"fatal:"``, and the caller quarantines the message (its raw bytes are kept elsewhere).

Conventions:

* Message-IDs are kept WITH angle brackets (``<id@host>``), whitespace removed, case kept: that is the
  form they have in In-Reply-To/References and the form ``email.utils.make_msgid`` produces, so
  outgoing and incoming ids compare as plain strings. :func:`normalize_msgid` is the shared helper.
* Addresses are lower-cased ``local@domain`` strings; display names are cleaned single lines.
* Every user-visible string (subject, names, body text, header values, file names) has been passed
  through :mod:`tui_helpdesk.untrusted`. ``html`` is the raw HTML and must never be shown as is.
"""

from __future__ import annotations

import binascii
import codecs
import hashlib
import re
import secrets
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.header import decode_header
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser, HeaderParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any

from tui_helpdesk.untrusted import clean, clean_line, safe_filename

# Headers dropped from ``ParsedMessage.headers``: bulky transport and signature headers that no filter
# or classifier reads. Everything else is kept so that ticket filters can match on any header.
_HEADER_SKIP = frozenset(
    {"received", "dkim-signature", "arc-seal", "arc-message-signature", "arc-authentication-results",
     "x-google-dkim-signature", "domainkey-signature", "x-ms-exchange-antispam-messagedata-0",
     "x-ms-exchange-antispam-messagedata-chunkcount", "x-microsoft-antispam-message-info"}
)  # fmt: skip
_HEADER_VALUE_MAX = 2000
_MAX_DEPTH = 40
_POLICY = policy.compat32
_MSGID = re.compile(r"<([^<>\s]+)>")
_BARE_ADDR = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*", re.UNICODE)
_MBOX_POSTMARK = re.compile(rb"\AFrom [^\r\n]*\r?\n")
# Labels that WHATWG (and real mail) treat as windows-1252: mail labelled Latin-1 or ASCII very often
# carries cp1252 punctuation (curly quotes, euro sign).
_CHARSET_ALIASES = {
    "us-ascii": "cp1252", "ascii": "cp1252", "iso-8859-1": "cp1252", "latin1": "cp1252",
    "latin-1": "cp1252", "iso8859-1": "cp1252", "gb2312": "gb18030", "gbk": "gb18030",
    "x-gbk": "gb18030", "iso-8859-8-i": "iso-8859-8", "windows-874": "cp874", "x-sjis": "shift_jis",
    "ks_c_5601-1987": "cp949", "euc-kr": "cp949", "unicode-1-1-utf-7": "utf-7",
}  # fmt: skip


@dataclass(frozen=True)
class Attachment:
    filename: str  # safe to show and to use as a file name (see untrusted.safe_filename)
    content_type: str
    payload: bytes
    size: int
    inline: bool
    content_id: str | None  # without angle brackets, as cid: URLs use it
    # A big base64 part is decoded straight into this file (payload is then b""), with its sha256: a
    # 50 MB message must not be held three times over. The caller moves or deletes the file.
    spool: Path | None = None
    sha256: str = ""


@dataclass(frozen=True)
class ParsedMessage:
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    subject: str = ""
    from_addr: str | None = None
    from_name: str = ""
    reply_to: tuple[str, ...] = ()
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    date: datetime | None = None
    text: str = ""
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    # All headers but bulky transport ones: lower-cased name -> decoded, cleaned value; repeated headers
    # are joined with "\n" (in order of appearance).
    headers: dict[str, str] = field(default_factory=dict)
    is_multipart_report: bool = False
    report_type: str | None = None  # e.g. "delivery-status", "feedback-report", "disposition-notification"
    # message/delivery-status field groups: the per-message group first, then one per recipient.
    delivery_status: tuple[dict[str, str], ...] = ()
    # Headers of the first enclosed message (message/rfc822 or text/rfc822-headers part): in a bounce,
    # the message that bounced.
    enclosed_headers: dict[str, str] | None = None
    defects: tuple[str, ...] = ()
    size: int = 0
    # The whole body as a UTF-8 file (a spooled Attachment named message.txt) when it is longer than the
    # ``text_limit`` given to parse_message; ``text`` then holds only its first ``text_limit`` bytes.
    full_text: Attachment | None = None

    @property
    def auto_submitted(self) -> str | None:
        return self.headers.get("auto-submitted")

    @property
    def return_path(self) -> str | None:
        return self.headers.get("return-path")

    @property
    def fatal(self) -> bool:
        return any(d.startswith("fatal:") for d in self.defects)


def normalize_msgid(value: str | None) -> str | None:
    """``<id@host>`` from a Message-ID-ish header value; None when there is nothing usable."""
    if not value:
        return None
    found = _MSGID.search(value)
    if found:
        return f"<{found.group(1)}>"
    bare = "".join(value.split()).strip("<>")
    if not bare or len(bare) > 900:
        return None
    return f"<{bare}>"


def parse_references(value: str | None) -> tuple[str, ...]:
    """Every message id in a References/In-Reply-To value, in order, without duplicates."""
    if not value:
        return ()
    seen: dict[str, None] = {}
    for match in _MSGID.finditer(value):
        seen.setdefault(f"<{match.group(1)}>", None)
    return tuple(seen)


def parse_message(raw: bytes, *, spool_dir: Path | None = None, text_limit: int | None = None) -> ParsedMessage:
    """Parse one message. Never raises: problems are reported in ``defects``.

    Base64 parts and text parts of ``LIFT_MIN`` bytes or more are decoded into files in ``spool_dir``
    (the system's temporary folder when None) before the email package sees the message: see
    ``Attachment.spool``. With a ``text_limit`` (bytes of UTF-8), a longer body is never held whole:
    ``text`` is its start and ``full_text`` the whole of it, written to a file as it is decoded.
    """
    lifted: list[_Lifted] = []
    try:
        return _parse(raw, spool_dir, lifted, text_limit)
    except Exception as exc:  # noqa: BLE001 - the contract is "never raise"; the caller quarantines
        for part in lifted:
            part.path.unlink(missing_ok=True)
        return ParsedMessage(defects=(f"fatal: {type(exc).__name__}: {exc}"[:500],), size=len(raw or b""))


# -- the parse ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SpooledText:
    """A big text body part, decoded from its transfer encoding into a file but not from its charset."""

    part: _Lifted
    charset: str | None


_Piece = str | _SpooledText


@dataclass
class _Collected:
    text_parts: list[_Piece] = field(default_factory=list)
    html_parts: list[_Piece] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    delivery_status: list[dict[str, str]] = field(default_factory=list)
    enclosed_headers: dict[str, str] | None = None
    defects: list[str] = field(default_factory=list)
    lifted: dict[str, _Lifted] = field(default_factory=dict)  # marker header value -> decoded part
    marker: str = ""


def _parse(raw: bytes, spool_dir: Path | None, lifted: list[_Lifted], text_limit: int | None) -> ParsedMessage:
    if not isinstance(raw, bytes | bytearray | memoryview):
        return ParsedMessage(defects=(f"fatal: expected bytes, got {type(raw).__name__}",))
    raw = bytes(raw)
    defects: list[str] = []
    if not raw or raw.isspace():  # (strip() would copy a big message)
        return ParsedMessage(defects=("fatal: empty message",), size=len(raw))
    body_bytes = raw
    postmark = _MBOX_POSTMARK.match(raw)
    if postmark:
        # An mbox "From " line is not a header; left in, it hides every header after it.
        body_bytes = raw[postmark.end() :]
        defects.append("mbox postmark line removed")
    marker = f"x-helpdesk-lifted-{secrets.token_hex(8)}"
    body_bytes = _lift_big_parts(body_bytes, marker, spool_dir, lifted)
    msg = BytesParser(policy=_POLICY).parsebytes(body_bytes)
    del body_bytes
    headers = _header_map(msg)
    headers.pop(marker, None)  # our own, on a whole message that is one big part

    collected = _Collected(lifted={str(i): part for i, part in enumerate(lifted)}, marker=marker)
    _collect(msg, collected, depth=0)
    defects.extend(_defect_names(msg))
    defects.extend(collected.defects)

    text, full = _assemble([t for t in collected.text_parts if _has_text(t)], "\n\n", text_limit, spool_dir,
                           defects)  # fmt: skip
    html_text, full_html = _assemble(collected.html_parts, "\n", text_limit, spool_dir, defects)
    html = html_text or None
    full_name = "message.txt"
    if not text.strip() and html:
        from tui_helpdesk.mail.html_text import html_to_text  # only HTML-only mail pays for it

        text = html_to_text(html)
        full, full_html, full_name = full_html, full, "message.html"
    if full_html is not None:
        full_html.path.unlink(missing_ok=True)  # the HTML only said what the text says
    used = {a.spool for a in collected.attachments}
    for part in lifted:  # text parts read, alternatives not taken
        if part.path not in used:
            part.path.unlink(missing_ok=True)
    text = clean(text).strip("\n")
    if not text.strip() and not collected.attachments:
        defects.append("no readable body")

    from_list = _addresses(msg, "from")
    from_name, from_addr = from_list[0] if from_list else ("", None)
    if from_addr is None:
        defects.append("no From address")
    ctype = _safe(lambda: msg.get_content_type(), "text/plain")
    report_type = _safe(lambda: msg.get_param("report-type"), None) if ctype == "multipart/report" else None
    return ParsedMessage(
        message_id=normalize_msgid(headers.get("message-id")),
        in_reply_to=normalize_msgid(headers.get("in-reply-to")),
        references=parse_references(headers.get("references")),
        subject=headers.get("subject", ""),
        from_addr=from_addr,
        from_name=from_name,
        reply_to=tuple(a for _, a in _addresses(msg, "reply-to") if a),
        to=tuple(a for _, a in _addresses(msg, "to") if a),
        cc=tuple(a for _, a in _addresses(msg, "cc") if a),
        date=_parse_date(headers.get("date")),
        text=text,
        html=html,
        attachments=tuple(collected.attachments),
        headers=headers,
        is_multipart_report=ctype == "multipart/report",
        report_type=clean_line(str(report_type)).lower() if isinstance(report_type, str) else None,
        delivery_status=tuple(collected.delivery_status),
        enclosed_headers=collected.enclosed_headers,
        defects=tuple(dict.fromkeys(defects)),
        size=len(raw),
        full_text=None if full is None else Attachment(
            filename=full_name, content_type="text/html" if full_name.endswith(".html") else "text/plain",
            payload=b"", size=full.size, inline=False, content_id=None, spool=full.path, sha256=full.sha256,
        ),
    )


def _collect(part: Message, out: _Collected, depth: int) -> None:
    if depth > _MAX_DEPTH:
        out.defects.append(f"MIME nesting deeper than {_MAX_DEPTH}; inner parts skipped")
        return
    if depth:
        out.defects.extend(_defect_names(part))
    ctype = _safe(lambda: part.get_content_type(), "application/octet-stream")
    if ctype in ("message/rfc822", "message/global"):
        _collect_enclosed(part, out, depth)
        return
    if ctype in ("message/delivery-status", "message/global-delivery-status"):
        out.delivery_status.extend(_delivery_status(part))
        return
    if part.is_multipart():
        children = _safe(lambda: part.get_payload(), [])
        if not isinstance(children, list):
            children = []
        if ctype == "multipart/alternative":
            _collect_alternative(children, out, depth)
        else:
            for child in children:
                _collect(child, out, depth + 1)
        return
    if ctype in ("text/rfc822-headers", "text/global-headers"):
        if out.enclosed_headers is None:
            out.enclosed_headers = _header_block(_decode_part(part, out))
        return
    disposition = _safe(lambda: part.get_content_disposition(), None)
    raw_name = _safe(lambda: part.get_filename(), None)
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not raw_name:
        spooled = out.lifted.get(str(part.get(out.marker, "")).strip()) if out.marker in part else None
        charset = _safe(lambda: part.get_content_charset(), None) if spooled else None
        body = _SpooledText(spooled, charset if isinstance(charset, str) else None) if spooled else None
        (out.text_parts if ctype == "text/plain" else out.html_parts).append(body or _decode_part(part, out))
        return
    out.attachments.append(_attachment(part, ctype, disposition, raw_name, out))


def _collect_alternative(children: list[Message], out: _Collected, depth: int) -> None:
    # Alternatives say the same thing: keep one text/plain rendering and one HTML rendering (the last,
    # which RFC 2046 makes the richest), but every attachment found in any branch.
    branches = []
    for child in children:
        branch = _Collected(lifted=out.lifted, marker=out.marker)
        _collect(child, branch, depth + 1)
        branches.append(branch)
        out.attachments.extend(branch.attachments)
        out.delivery_status.extend(branch.delivery_status)
        out.defects.extend(branch.defects)
        if out.enclosed_headers is None:
            out.enclosed_headers = branch.enclosed_headers
    plain = next((b.text_parts for b in branches if any(_has_text(t) for t in b.text_parts)), [])
    rich = next((b.html_parts for b in reversed(branches) if b.html_parts), [])
    out.text_parts.extend(plain)
    out.html_parts.extend(rich)


def _collect_enclosed(part: Message, out: _Collected, depth: int) -> None:
    inner = _safe(lambda: part.get_payload(0), None)
    payload = b""
    if isinstance(inner, Message):
        if depth == 0:
            # The whole message is an enclosed one (a bare forward): its body is the only text there is.
            _collect(inner, out, depth + 1)
        if out.enclosed_headers is None:
            out.enclosed_headers = _header_map(inner)
        payload = _as_bytes(inner)
    else:
        payload = _safe(lambda: part.get_payload(decode=True), None) or b""
    name = _safe(lambda: part.get_filename(), None)
    if not name and isinstance(inner, Message):
        subject = _header_map(inner).get("subject", "")
        name = f"{subject[:60]}.eml" if subject else "message.eml"
    out.attachments.append(
        Attachment(
            filename=safe_filename(name or "message.eml"),
            content_type="message/rfc822",
            payload=payload,
            size=len(payload),
            inline=False,
            content_id=None,
        )
    )


def _attachment(
    part: Message, ctype: str, disposition: str | None, raw_name: str | None, out: _Collected
) -> Attachment:
    spooled = out.lifted.get(str(part.get(out.marker, "")).strip()) if out.marker in part else None
    payload = b"" if spooled else _safe(lambda: part.get_payload(decode=True), None)
    if not isinstance(payload, bytes):
        payload = b""
    name = _decode_words(raw_name) if raw_name else None
    if not name:
        name = _safe(lambda: part.get_param("name"), None)
        name = _decode_words(name) if isinstance(name, str) else None
    content_id = part.get("content-id") if "content-id" in part else None
    cid = normalize_msgid(_safe(lambda: str(content_id), None)) if content_id else None
    return Attachment(
        filename=safe_filename(name or _default_name(ctype)),
        content_type=clean_line(ctype),
        payload=payload,
        size=spooled.size if spooled else len(payload),
        inline=disposition == "inline" or (disposition is None and cid is not None),
        content_id=cid[1:-1] if cid else None,
        spool=spooled.path if spooled else None,
        sha256=spooled.sha256 if spooled else "",
    )


def _default_name(ctype: str) -> str:
    subtype = ctype.partition("/")[2] or "bin"
    return f"attachment.{re.sub(r'[^a-z0-9]+', '', subtype.lower())[:10] or 'bin'}"


def _as_bytes(message: Message) -> bytes:
    # The default policy's generator refolds headers and can raise on the broken ones; compat32
    # writes them back as they came.
    for pol in (policy.compat32, policy.default):
        try:
            return message.as_bytes(policy=pol)
        except Exception:  # noqa: BLE001,S112 - try the next policy
            continue
    return b""


# -- big parts ------------------------------------------------------------------------------------

LIFT_MIN = 256 * 1024  # a base64 part this big is decoded into a file, not parsed in memory
_LIFT_CHUNK = 1024 * 1024  # three copies of a chunk are alive while it is decoded
_LIFT_MAX_DEPTH = 20
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_LINE_BREAK = re.compile(rb"\r?\n")
# what the email package's feedparser takes for a header line; at any other line it ends the headers early
_HEADER_LINE = re.compile(rb"[\041-\071\073-\176]+:|[\t ]")


def _clean_head(data: bytes, start: int, blank: re.Match[bytes]) -> bool:
    """Whether the email package will read the lines before ``blank`` as headers, every one of them (if
    not, a header added after them would land in the body, and the part's text with it)."""
    lines = data[start : blank.start()].split(b"\n")
    return all(_HEADER_LINE.match(line) for line in lines if line not in (b"", b"\r")) or start == blank.start()


@dataclass(frozen=True)
class _Lifted:
    path: Path
    size: int
    sha256: str


def _lift_big_parts(data: bytes, marker: str, spool_dir: Path | None, lifted: list[_Lifted]) -> bytes:
    """The message with each big base64 leaf part's body cut out and decoded into a spool file.

    The email package holds a part's body as a list of lines, then as one string, then decodes it: about
    ten times the part's size at its peak. Here the body is decoded from the raw bytes in chunks, and the
    part stays in the message with its headers, an empty body and a ``marker`` header naming its file.
    Anything this scanner is unsure of (no boundary, a part without a blank line) is left as it is.
    """
    if len(data) < LIFT_MIN:
        return data
    pieces: list[bytes] = []
    _lift_entity(data, 0, len(data), pieces, marker, spool_dir, lifted, 0)
    return b"".join(pieces) if lifted else data


def _lift_entity(
    data: bytes, start: int, end: int, out: list[bytes], marker: str, spool_dir: Path | None,
    lifted: list[_Lifted], depth: int, in_digest: bool = False,
) -> None:  # fmt: skip
    # a part with no headers at all starts with its blank line
    blank = _LINE_BREAK.match(data, start) or _BLANK_LINE.search(data, start, min(end, start + 256 * 1024))
    if blank is None or depth > _LIFT_MAX_DEPTH or end - start < LIFT_MIN or not _clean_head(data, start, blank):
        out.append(data[start:end])
        return
    head = BytesHeaderParser(policy=_POLICY).parsebytes(data[start : blank.end()])
    ctype = _safe(lambda: head.get_content_type(), "text/plain")
    body = blank.end()
    if in_digest and "content-type" not in head:  # a digest's parts are messages unless they say otherwise
        out.append(data[start:end])
        return
    if ctype.startswith("multipart/"):
        boundary = _safe(lambda: head.get_boundary(), None)
        if not boundary:
            out.append(data[start:end])
            return
        out.append(data[start:body])
        _lift_multipart(data, body, end, b"--" + boundary.encode("utf-8", "surrogateescape"), out, marker,
                        spool_dir, lifted, depth, ctype == "multipart/digest")  # fmt: skip
        return
    encoding = str(head.get("content-transfer-encoding", "")).strip().lower()
    if ctype.startswith("text/"):
        # a big body is decoded from the raw bytes once, never split into lines and joined by the parser
        liftable = encoding in _TEXT_ENCODINGS and ctype not in ("text/rfc822-headers", "text/global-headers")
    else:
        liftable = encoding == "base64" and not ctype.startswith("message/")
    if not liftable:
        out.append(data[start:end])
        return
    lifted.append(_decode_to_spool(data, body, end, spool_dir, encoding))
    newline = b"\r\n" if data[blank.start() : blank.start() + 1] == b"\r" else b"\n"
    named = f"{marker}: {len(lifted) - 1}".encode() + newline + newline
    out.append(data[start : blank.start()] + newline + named if blank.start() > start else named)


def _lift_multipart(
    data: bytes, start: int, end: int, delimiter: bytes, out: list[bytes], marker: str,
    spool_dir: Path | None, lifted: list[_Lifted], depth: int, digest: bool = False,
) -> None:  # fmt: skip
    # delimiter lines start a line: at the very start of the body, or after a line break
    after_break = data.find(b"\n" + delimiter, start, end)
    first = start if data.startswith(delimiter, start) else after_break + 1 if after_break >= 0 else -1
    if first < 0:
        out.append(data[start:end])
        return
    out.append(data[start:first])  # the preamble
    pos = first
    while True:
        line_end = data.find(b"\n", pos, end)
        line_end = end if line_end < 0 else line_end + 1
        out.append(data[pos:line_end])  # the delimiter line itself
        if data.startswith(delimiter + b"--", pos) or line_end >= end:
            out.append(data[line_end:end])  # the epilogue
            return
        following = data.find(b"\n" + delimiter, line_end, end)
        if following < 0:
            _lift_entity(data, line_end, end, out, marker, spool_dir, lifted, depth + 1, digest)
            return
        part_end = following - 1 if data[following - 1 : following] == b"\r" else following
        _lift_entity(data, line_end, part_end, out, marker, spool_dir, lifted, depth + 1, digest)
        out.append(data[part_end : following + 1])
        pos = following + 1


_TEXT_ENCODINGS = frozenset({"", "7bit", "8bit", "binary", "base64", "quoted-printable"})


def _spool_file(spool_dir: Path | None) -> Any:
    if spool_dir is not None:
        Path(spool_dir).mkdir(parents=True, exist_ok=True)
    return tempfile.NamedTemporaryFile(dir=spool_dir, prefix="part-", suffix=".spool", delete=False)


def _decode_to_spool(data: bytes, start: int, end: int, spool_dir: Path | None, encoding: str = "base64") -> _Lifted:
    digest = hashlib.sha256()
    size = 0
    view = memoryview(data)
    handle = _spool_file(spool_dir)
    with handle:
        if encoding != "base64":
            offset = start
            while offset < end:
                # quoted-printable is decoded a whole number of lines at a time (a soft break ends a line)
                cut = data.find(b"\n", min(end, offset + _LIFT_CHUNK), end)
                cut = end if cut < 0 else cut + 1
                chunk = bytes(view[offset:cut])
                decoded = binascii.a2b_qp(chunk) if encoding == "quoted-printable" else chunk
                handle.write(decoded)
                digest.update(decoded)
                size += len(decoded)
                offset = cut
            return _Lifted(Path(handle.name), size, digest.hexdigest())
        carry = b""
        for offset in range(start, end, _LIFT_CHUNK):
            chunk = carry + bytes(view[offset : min(end, offset + _LIFT_CHUNK)]).translate(None, b" \t\r\n")
            usable = len(chunk) - len(chunk) % 4
            carry = chunk[usable:]
            decoded = binascii.a2b_base64(chunk[:usable]) if usable else b""
            handle.write(decoded)
            digest.update(decoded)
            size += len(decoded)
        if carry.strip(b"="):
            decoded = binascii.a2b_base64(carry + b"=" * (-len(carry) % 4))
            handle.write(decoded)
            digest.update(decoded)
            size += len(decoded)
    return _Lifted(Path(handle.name), size, digest.hexdigest())


# -- bodies and charsets --------------------------------------------------------------------------


def _decode_part(part: Message, out: _Collected) -> str:
    payload = _safe(lambda: part.get_payload(decode=True), None)
    if payload is None:
        raw = _safe(lambda: part.get_payload(), "")
        return raw if isinstance(raw, str) else ""
    charset = _safe(lambda: part.get_content_charset(), None)
    text, note = decode_bytes(payload, charset if isinstance(charset, str) else None)
    if note:
        out.defects.append(note)
    return text


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, str | None]:
    """Decode body bytes: declared charset, else UTF-8, then (undeclared only) the charset
    charset-normalizer finds, then cp1252, then Latin-1. Never raises.

    Returns the text and a defect note when the declared charset was unknown or wrong.
    """
    found: list[str] = []

    def attempt(codec: str, errors: str) -> bool:
        try:
            found.append(data.decode(codec, errors))
        except (UnicodeDecodeError, LookupError):
            return False
        return True

    note = _pick_codec(charset, data, attempt)
    return found[0], note


def _pick_codec(charset: str | None, sample: bytes, attempt: Callable[[str, str], bool]) -> str | None:
    """Try codecs in the order decode_bytes documents until ``attempt(codec, errors)`` succeeds; the
    defect note. ``sample`` is the start of the bytes (charset-normalizer looks at it)."""
    name = (charset or "").strip().strip("\"'").lower()
    codec = _lookup(_CHARSET_ALIASES.get(name, name)) if name else None
    note = None
    if name and codec is None:
        note = f"unknown charset {clean_line(name)[:40]!r}"
    if codec is not None and codec not in ("cp1252",):
        try:
            if attempt(codec, "strict"):
                return None
            note = f"bytes do not match declared charset {name!r}"
        except Exception:  # noqa: BLE001 - some codecs (utf-7, iso-2022) raise odd errors
            note = f"decoder for {name!r} failed"
    if attempt("utf-8", "strict"):
        return note
    if not name:
        detected = detect_charset(sample)
        if detected is not None and attempt(detected, "strict"):  # (the sample fitted, a later byte may not)
            return note
    if attempt("cp1252", "strict"):
        return note
    if codec is not None and codec != "cp1252" and attempt(codec, "replace"):
        return note
    attempt("latin-1", "strict")
    return note


# Legacy charsets mail is still sent in without a label, most likely first: a tie goes to the earlier.
_UNDECLARED_CANDIDATES = (
    "cp1252", "koi8_r", "cp1251", "cp1250", "iso8859_2", "iso8859_15", "cp1253", "cp1254", "cp1257",
    "shift_jis", "euc_jp", "gb18030", "big5", "cp949",
)  # fmt: skip
_DETECT_SAMPLE = 65536
_CASE_FLIP = re.compile(r"(?<=[^\W\d_])[^\W\d_]")


def detect_charset(data: bytes) -> str | None:
    """The charset of undeclared, non-UTF-8 bytes, by charset-normalizer; None when nothing fits.

    charset-normalizer proposes the charsets the bytes are plausible in, and scores how messy each
    decoding is. On a short text (a subject) many tie at no mess at all; a wrong Cyrillic table then
    gives case flipped inside words ("мЕ ПЮАНРЮЕР" for KOI8-R read as Windows-1251), which decides,
    and after that the order of _UNDECLARED_CANDIDATES does (Windows-1252 first, as before).
    """
    from charset_normalizer import from_bytes
    from charset_normalizer.md import mess_ratio

    sample = data[:_DETECT_SAMPLE]
    try:
        proposed = {e for match in from_bytes(sample, cp_isolation=list(_UNDECLARED_CANDIDATES))
                    for e in match.could_be_from_charset}  # fmt: skip
    except Exception:  # noqa: BLE001 - a detector failure only means the old fallback
        return None
    options = [e for e in _UNDECLARED_CANDIDATES if e in proposed or e == "cp1252"]
    scored = []
    for rank, encoding in enumerate(options):
        try:
            text = sample.decode(encoding, errors="strict" if len(data) <= _DETECT_SAMPLE else "ignore")
        except UnicodeDecodeError:
            continue
        letters = sum(1 for c in text if c.isalpha()) or 1
        flips = sum(
            1 for m in _CASE_FLIP.finditer(text) if m.group().isupper() and not text[m.start() - 1].isupper()
        )
        scored.append((round(mess_ratio(text), 2), round(flips / letters, 2), rank, encoding))
    return min(scored)[3] if scored else None


def _has_text(piece: _Piece) -> bool:
    return isinstance(piece, _SpooledText) or bool(piece.strip())


def _assemble(
    pieces: list[_Piece], sep: str, limit: int | None, spool_dir: Path | None, defects: list[str]
) -> tuple[str, _Lifted | None]:
    """The body parts joined; with a ``limit``, only the first ``limit`` bytes of them, and the whole
    as a UTF-8 file when it is longer (each big part decoded straight from its spool to that file)."""
    if not any(isinstance(p, _SpooledText) for p in pieces):
        joined = sep.join(p for p in pieces if isinstance(p, str))
        if not limit or len(joined) <= limit // 4 or len(joined.encode("utf-8")) <= limit:
            return joined, None
    if not limit:  # nothing to cap: read each big part whole, as before it was spooled
        texts = []
        for p in pieces:
            if isinstance(p, _SpooledText):
                text, note = decode_bytes(p.part.path.read_bytes(), p.charset)
                defects.extend([note] if note else [])
                texts.append(text)
            else:
                texts.append(p)
        return sep.join(texts), None
    head = _Head(limit)
    digest = hashlib.sha256()
    size = 0
    handle = _spool_file(spool_dir)
    with handle:

        def write(text: str) -> None:
            nonlocal size
            head.take(text)
            data = text.encode("utf-8", "surrogatepass")
            handle.write(data)
            digest.update(data)
            size += len(data)

        for n, p in enumerate(pieces):
            if n:
                write(sep)
            if isinstance(p, str):
                write(p)
                continue
            codec, errors, note = _spooled_codec(p)
            defects.extend([note] if note else [])
            decoder = codecs.getincrementaldecoder(codec)(errors)
            with p.part.path.open("rb") as src:
                while chunk := src.read(_LIFT_CHUNK):
                    write(decoder.decode(chunk))
                write(decoder.decode(b"", final=True))
    path = Path(handle.name)
    if size <= limit:
        path.unlink(missing_ok=True)
        return head.text(), None
    return head.text(cut=True), _Lifted(path, size, digest.hexdigest())


def _spooled_codec(piece: _SpooledText) -> tuple[str, str, str | None]:
    """The codec (and error handling) decode_bytes would choose for a spooled part, found by decoding
    it in chunks (the text itself is thrown away: only the first codec that fits is kept)."""
    with piece.part.path.open("rb") as src:
        sample = src.read(_DETECT_SAMPLE + 1)  # one byte more: detect_charset then knows there is more

    chosen: list[tuple[str, str]] = []

    def attempt(codec: str, errors: str) -> bool:
        decoder = codecs.getincrementaldecoder(codec)(errors)
        try:
            with piece.part.path.open("rb") as src:
                while chunk := src.read(_LIFT_CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except (UnicodeDecodeError, LookupError):
            return False
        chosen.append((codec, errors))
        return True

    note = _pick_codec(piece.charset, sample, attempt)
    return chosen[0][0], chosen[0][1], note


class _Head:
    """The first ``limit`` bytes (as UTF-8) of a text written piece by piece, cut at a character."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.used = 0

    def take(self, text: str) -> None:
        room = self.limit - self.used
        if room <= 0 or not text:
            return
        if len(text) > room:
            text = text[:room]  # a character is at least one byte: no more than room characters fit
        data = text.encode("utf-8", "surrogatepass")
        if len(data) > room:
            text = data[:room].decode("utf-8", "ignore")
            data = text.encode("utf-8", "surrogatepass")
        self.parts.append(text)
        self.used += len(data)

    def text(self, *, cut: bool = False) -> str:
        text = "".join(self.parts)
        if cut:  # end at a line break, or a space, near the limit rather than inside a word
            at = max(text.rfind("\n", len(text) - 2000), text.rfind(" ", len(text) - 200))
            text = text[:at] if at > 0 else text
        return text


def _lookup(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


# -- headers ----------------------------------------------------------------------------------------


def _header_map(msg: Message) -> dict[str, str]:
    values: dict[str, list[str]] = {}
    for name, value in _safe(lambda: msg.raw_items(), []):
        key = clean_line(str(name)).lower()
        if not key or key in _HEADER_SKIP:
            continue
        values.setdefault(key, []).append(clean_line(_decode_words(str(value))))
    return {key: "\n".join(vals)[:_HEADER_VALUE_MAX] for key, vals in values.items()}


def _unescape_8bit(value: str) -> str:
    # The parser keeps raw 8-bit header bytes as surrogate escapes; decode them as a mail client
    # would (UTF-8 first, then Windows-1252).
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    data = value.encode("utf-8", errors="surrogateescape")
    return decode_bytes(data, None)[0]


def _decode_words(value: str) -> str:
    """A header value with RFC 2047 encoded words decoded; tolerant of every kind of breakage."""
    value = _unescape_8bit(value)
    if "=?" not in value:
        return value
    try:
        pieces = decode_header(value)
    except Exception:  # noqa: BLE001 - HeaderParseError and friends: show the value undecoded
        return value
    out: list[str] = []
    for chunk, charset in pieces:
        if isinstance(chunk, str):
            out.append(chunk)
        elif charset is None:
            out.append(chunk.decode("raw-unicode-escape", errors="replace"))
        else:
            out.append(decode_bytes(chunk, charset)[0])
    return "".join(out)


def _addresses(msg: Message, name: str) -> list[tuple[str, str | None]]:
    """(display name, lower-cased address) pairs from every occurrence of header ``name``."""
    raws = [
        clean(_unescape_8bit(str(v))) for k, v in _safe(lambda: msg.raw_items(), []) if str(k).lower() == name
    ]
    if not raws:
        return []
    result: list[tuple[str, str | None]] = []
    try:
        pairs = getaddresses(raws)
    except Exception:  # noqa: BLE001 - fall through to the regex below
        pairs = []
    for display, addr in pairs:
        addr = clean_line(addr).lower().strip("<>")
        if "@" not in addr:
            continue
        result.append((clean_line(_decode_words(display)).strip("\"' "), addr))
    if not result:
        # getaddresses gives up on some broken lists; any address-shaped token is better than none.
        for raw in raws:
            for found in _BARE_ADDR.findall(_decode_words(raw)):
                result.append(("", clean_line(found).lower()))
    return result


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value.split("\n")[0])
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    try:
        if parsed.tzinfo is None:
            # RFC 5322 "-0000": the zone is unknown; UTC is the least wrong reading.
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _header_block(text: str) -> dict[str, str]:
    try:
        block = HeaderParser(policy=policy.compat32).parsestr(text.lstrip("\r\n"), headersonly=True)
    except Exception:  # noqa: BLE001
        return {}
    return _header_map(block)


def _delivery_status(part: Message) -> list[dict[str, str]]:
    """The field groups of a message/delivery-status part, names lower-cased, values cleaned."""
    payload = _safe(lambda: part.get_payload(), None)
    groups: list[dict[str, str]] = []
    if isinstance(payload, list):
        for block in payload:
            if isinstance(block, Message):
                group = _header_map(block)
                if group:
                    groups.append(group)
        if groups:
            return groups
    # Unparsed (or mis-parsed) body: split the raw text on blank lines ourselves.
    data = _safe(lambda: part.get_payload(decode=True), None)
    text = (
        decode_bytes(data, None)[0]
        if isinstance(data, bytes)
        else (payload if isinstance(payload, str) else "")
    )
    for chunk in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").strip()):
        group = _header_block(chunk + "\n")
        if group:
            groups.append(group)
    return groups


def _defect_names(part: Message) -> Iterable[str]:
    return [type(d).__name__ for d in _safe(lambda: part.defects, [])]


def _safe(func: Callable[[], Any], default: Any) -> Any:
    try:
        return func()
    except Exception:  # noqa: BLE001 - see the module docstring: broken mail must not stop the parse
        return default
