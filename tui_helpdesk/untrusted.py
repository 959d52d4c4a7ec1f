"""The one place where text that came from outside is made safe for a terminal.

Email subjects, bodies, sender names and attachment names are written by strangers. A terminal obeys
escape sequences embedded in text: it can retitle the window, clear the screen, plant clickable links
that lie about their target, or (with bidi overrides) show text in an order that differs from its bytes.
Everything untrusted goes through :func:`clean` or :func:`clean_line` before it reaches a widget, and
through :func:`safe_filename` before it names a file.
"""

from __future__ import annotations

import re
import unicodedata

# String-type sequences (OSC, DCS, SOS, PM, APC) in 7-bit (ESC x) and 8-bit (single C1 char) forms.
# They end at ST (ESC \ or 0x9C) or, for OSC in practice, BEL. The body is bounded so that a missing
# terminator cannot make the pattern consume a whole mail; whatever survives is plain text once the
# introducer and every control character are gone.
_STRING_SEQ = re.compile(
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]{0,4096}(?:\x07|\x1b\\|\x9c)",
)
# CSI: ESC [ or 0x9B, parameter bytes, intermediate bytes, one final byte.
_CSI = re.compile(r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?")
# Any other escape: ESC, optional intermediates, a final byte (ESC c, ESC ( B, ESC 7, ...).
_OTHER_ESC = re.compile(r"\x1b[\x20-\x2f]*[\x30-\x7e]?")
# Everything left that a terminal may act on or that reorders text: C0 except \t and \n, DEL, C1,
# bidi embeddings/overrides (U+202A-U+202E) and isolates (U+2066-U+2069).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_INTRODUCER = re.compile(r"[\x1b\x90-\x9f]")
_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029]")
_SPACES = re.compile(r"[\s\u00a0]+")

# Characters that would let a name escape a directory or that Windows refuses in file names.
_FILENAME_BAD = re.compile(r'[/\\:*?"<>|]')
_FILENAME_MAX_BYTES = 180
_FILENAME_FALLBACK = "attachment"


def clean(text: str) -> str:
    """Return ``text`` without terminal control sequences, with line endings normalised to ``\\n``.

    Newlines and tabs are kept: this is for multi-line text such as a message body.
    """
    if not text:
        return ""
    text = _NEWLINES.sub("\n", text)
    if _INTRODUCER.search(text):
        text = _STRING_SEQ.sub("", text)
        text = _CSI.sub("", text)
        text = _OTHER_ESC.sub("", text)
    return _CONTROL.sub("", text)


def clean_line(text: str) -> str:
    """Like :func:`clean`, for one-line values (subjects, names): whitespace runs fold to one space."""
    return _SPACES.sub(" ", clean(text)).strip()


def safe_filename(name: str | None) -> str:
    """A file name that is safe to show and to create: never empty, no directories, no hidden files."""
    cleaned = clean_line(name or "")
    # A sender-supplied path keeps only its last component, as mail clients do.
    cleaned = re.split(r"[/\\]", cleaned)[-1]
    cleaned = _FILENAME_BAD.sub("_", cleaned)
    cleaned = unicodedata.normalize("NFC", cleaned).strip(" .")
    cleaned = cleaned.lstrip(".").strip()
    if not cleaned:
        return _FILENAME_FALLBACK
    return _truncate_keeping_suffix(cleaned, _FILENAME_MAX_BYTES)


def _truncate_keeping_suffix(name: str, max_bytes: int) -> str:
    if len(name.encode("utf-8")) <= max_bytes:
        return name
    stem, dot, suffix = name.rpartition(".")
    # A short suffix is worth keeping: it tells the user (and their OS) what the file is.
    if not dot or not stem or len(suffix) > 16:
        stem, suffix = name, ""
    suffix_part = f".{suffix}" if suffix else ""
    budget = max_bytes - len(suffix_part.encode("utf-8"))
    kept = stem.encode("utf-8")[:budget].decode("utf-8", errors="ignore").rstrip(" .")
    return (kept or _FILENAME_FALLBACK) + suffix_part
