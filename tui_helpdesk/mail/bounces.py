"""Who a bounce says could not be reached: flufl.bounce's detectors (GNU Mailman's), not ours.

flufl.bounce knows RFC 3464 DSNs and the home-made formats of about twenty MTAs (Exim, qmail, Postfix
before DSNs, Exchange, Yahoo, GroupWise, ...). It reads an ``email.message.Message``, so the raw bytes
are parsed once more here, only for a message already classified as a bounce.

Never raises: a detector that fails on broken mail means "no recipient found".
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from email import message_from_bytes
from email.policy import compat32

from tui_helpdesk.mail.parse import ParsedMessage
from tui_helpdesk.untrusted import clean_line

log = logging.getLogger(__name__)

_MBOX_POSTMARK = re.compile(rb"\AFrom [^\r\n]*\r?\n")
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")


@dataclass(frozen=True)
class FailedRecipients:
    permanent: tuple[str, ...] = ()  # lower-cased addresses, sorted
    temporary: tuple[str, ...] = ()  # delayed: the MTA keeps trying

    def __bool__(self) -> bool:
        return bool(self.permanent or self.temporary)


def failed_recipients(raw: bytes) -> FailedRecipients:
    """The recipients a bounce report names as failed (permanently, or only delayed so far)."""
    try:
        postmark = _MBOX_POSTMARK.match(raw)
        msg = message_from_bytes(raw[postmark.end() :] if postmark else raw, policy=compat32)
    except Exception as exc:  # noqa: BLE001 - see the module docstring
        log.info("bounce not readable: %s: %s", type(exc).__name__, exc)
        return FailedRecipients()
    temporary: set[object] = set()
    permanent: set[object] = set()
    # flufl.bounce's own loop (all_failures) stops at the first detector that raises, and some raise on
    # mail they do not know (Yale's on a From without an address); the same order, each one guarded.
    for detector in _detectors():
        try:
            soft, hard = detector().process(msg)
        except Exception as exc:  # noqa: BLE001, S112 - that detector does not know this mail
            log.debug("bounce detector %s failed: %s: %s", detector.__name__, type(exc).__name__, exc)
            continue
        temporary.update(soft if isinstance(soft, set | frozenset) else ())
        permanent.update(hard if isinstance(hard, set | frozenset) else ())
        if soft or hard:
            break
    hard_addresses = _addresses(permanent)
    return FailedRecipients(
        hard_addresses, tuple(a for a in _addresses(temporary) if a not in hard_addresses)
    )


def _detectors() -> list[type]:
    from flufl.bounce import _scan

    found = list(getattr(_scan, "_DETECTORS", ()))
    return found or [_AllFailures]  # a later flufl.bounce without the list: its whole loop, as one


class _AllFailures:
    def process(self, msg: object) -> tuple[frozenset, frozenset]:
        from flufl.bounce import all_failures

        return all_failures(msg)


def _addresses(found: object) -> tuple[str, ...]:
    out = set()
    for item in found or ():  # type: ignore[attr-defined]
        text = item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
        address = clean_line(text).strip().strip("<>").lower()
        if _ADDRESS.match(address):
            out.add(address)
    return tuple(sorted(out))


@dataclass(frozen=True)
class Failure:
    address: str
    detail: str  # the DSN status and diagnostic when the report has them, else "failed" / "delayed"
    permanent: bool


def failures(
    raw: bytes,
    parsed: ParsedMessage,
    fallback: str | None = None,
    fallback_status: str | None = None,
    found: FailedRecipients | None = None,
) -> list[Failure]:
    """Each failed recipient of a bounce, with what the report says about it.

    flufl.bounce decides who failed; the message/delivery-status groups only add their status and
    diagnostic. When flufl.bounce finds no one, the DSN groups are listed as they are, and last the
    classifier's ``fallback`` recipient (X-Failed-Recipients, the enclosed message's To).
    """
    details: dict[str, str] = {}
    for group in parsed.delivery_status:
        recipient = group.get("final-recipient") or group.get("original-recipient")
        if recipient:
            address = recipient.split(";")[-1].strip().strip("<>").lower()
            detail = f"{group.get('status', '')} {group.get('diagnostic-code', '')}".strip()
            details.setdefault(address, detail)
    found = failed_recipients(raw) if found is None else found
    if found:
        return [Failure(a, details.get(a) or "failed", True) for a in found.permanent] + [
            Failure(a, details.get(a) or "delayed", False) for a in found.temporary
        ]
    if details:
        return [Failure(a, d, True) for a, d in details.items()]
    if fallback:
        return [Failure(fallback.lower(), fallback_status or "failed", True)]
    return []
