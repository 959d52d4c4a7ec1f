"""Threading keys: what in a message can name a ticket, and how we sign what we send.

Our Message-IDs are signed (``<tck.{ticket_id}.{random}.{hmac}@host>``) and our bodies carry a
signed token (``[ref:{ticket_id}-{hmac}]``), so a reply can be threaded by what we wrote and nobody can
steer mail onto a ticket by forging an id that looks like ours. The key is the caller's (the
``mail_secret`` setting); nothing here reads the database. Which ticket a message belongs to, in
order of evidence, is decided by services/inbound_match.py with these keys.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from tui_helpdesk.untrusted import clean_line

from .parse import ParsedMessage

SIGNED_ID = re.compile(r"^<tck\.(\d+)\.([A-Za-z0-9]{6,32})\.([0-9a-f]{20})@[^<>\s]+>$")
TOKEN = re.compile(r"\[ref:(\d+)-([0-9a-f]{16})\]")
# Synthetic ids the ingest gives mail that arrived without a Message-ID: never put in References.
SYNTHETIC_SUFFIX = "@no-message-id.invalid>"
MAX_HEADER_IDS = 50
# A ticket number in brackets under any prefix (`[TCK-1042]`, `[ITF-1042]`): the desk's prefix can
# change and a ticket keeps its number, so which prefixes are ours is the ticket lookup's question.
SUBJECT_NUMBER = re.compile(r"\[\s*([A-Za-z0-9_]{1,20}-\d{1,12})\s*\]")


def _sign(key: bytes, text: str, length: int) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:length]


def make_message_id(key: bytes, ticket_id: int, from_addr: str) -> str:
    host = from_addr.rpartition("@")[2] or "localhost"
    nonce = secrets.token_hex(6)
    return f"<tck.{ticket_id}.{nonce}.{_sign(key, f'{ticket_id}.{nonce}', 20)}@{host}>"


def ticket_from_message_id(key: bytes, message_id: str | None) -> int | None:
    """The ticket id a Message-ID of ours names, if its signature holds."""
    if not message_id:
        return None
    m = SIGNED_ID.match(message_id)
    if not m:
        return None
    ticket_id, nonce, sig = m.groups()
    expected = _sign(key, f"{ticket_id}.{nonce}", 20)
    return int(ticket_id) if hmac.compare_digest(sig, expected) else None


def reply_token(key: bytes, ticket_id: int) -> str:
    return f"[ref:{ticket_id}-{_sign(key, f'token.{ticket_id}', 16)}]"


def ticket_from_token(key: bytes, *texts: str | None) -> int | None:
    """The ticket named by a valid token found anywhere in the texts (quoted history included)."""
    for text in texts:
        for m in TOKEN.finditer(text or ""):
            ticket_id = int(m.group(1))
            if hmac.compare_digest(m.group(2), _sign(key, f"token.{ticket_id}", 16)):
                return ticket_id
    return None


def header_ids(parsed: ParsedMessage) -> list[str]:
    """The Message-IDs a reply points at, nearest first: In-Reply-To, then References newest first."""
    ids = [parsed.in_reply_to] if parsed.in_reply_to else []
    ids += [r for r in reversed(parsed.references) if r != parsed.in_reply_to]
    return ids[:MAX_HEADER_IDS]


def subject_numbers(subject: str | None) -> list[str]:
    """Every bracketed ticket number in a subject, in order, upper-cased, without repeats."""
    return list(dict.fromkeys(m.upper() for m in SUBJECT_NUMBER.findall(subject or "")))


def without_numbers(subject: str, numbers: set[str]) -> str:
    """The subject with these bracketed numbers taken out (a late reply's new ticket must not go on
    carrying the old number: the customer's next reply would be threaded by it)."""
    wanted = {n.upper() for n in numbers}
    kept = SUBJECT_NUMBER.sub(lambda m: "" if m.group(1).upper() in wanted else m.group(0), subject)
    return " ".join(kept.split())


def subject_with_number(subject: str, number: str) -> str:
    subject = clean_line(subject)
    tag = f"[{number}]"
    return subject if tag in subject else f"{subject} {tag}".strip()
