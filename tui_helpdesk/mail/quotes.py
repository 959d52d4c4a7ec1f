"""The new part of a reply: quoted history, forwarded mail and signatures removed.

:func:`strip_reply` works on lines. It looks for the first place where older mail begins (an
"On <date>, <name> wrote:" line in any of about 20 languages, possibly wrapped over three lines; an
Outlook "-----Original Message-----" or "From:/Sent:/To:/Subject:" header block; a forward marker; a
signature delimiter) and keeps what is above it, then drops trailing quoted lines and "Sent from my
phone" style lines. A quote header followed by a ``>`` block and then more unquoted text is an inline
or bottom-posted reply: the quoted block goes, the text after it stays.

Measured on the corpus (tests/mail/test_quotes.py prints the figures): this module matches the
Discourse trimmer's expected output on far more files than the mail-parser-reply package, which was
tried and is not used (see the report in benchmarks/mail_parse.py --quotes).

The caller keeps the full original; this only decides what an agent sees first. It never returns an
empty string for a message that had text: if everything looks like history, the input comes back.
"""

from __future__ import annotations

import re

_MAX_LINE = 500  # longer lines are never headers; bounding them keeps every regex cheap

_WROTE = (
    r"(?:wrote|writes|schrieb|schreef|geschreven|a [ée]crit|escribi[óo]|escreveu|ha scritto|scrisse|"
    r"skrev|skriver|napisa[łl](?:\(a\)|a)?|napsal|написал[аи]?|написав|пише|kirjoitti|[íi]rta|yazd[ıi]|"
    r"写道|寫道|書きました|작성)"
)
# A whole quote header (lines joined with spaces) ends with the "wrote" word and a colon, or the
# "wrote" word is followed by a date ("... schrieb am Fr., 28. Apr. 2017 um 11:53 Uhr:") or by the
# author's address ("Am 03.02.2016 schrieb Max <max@example.org>:").
_QUOTE_HEADER = re.compile(
    rf"^(?!>)\W{{0,5}}\S.{{0,350}}?{_WROTE}(?:\s*\(a\))?(?:\s+am\b.{{0,80}}|\s+\S.{{0,200}}@.{{0,200}})?\s*[:：]\s*$",
    re.IGNORECASE,
)
# The first line of a header that a mail client wrapped: not the end of a sentence, and it carries a
# date, an address or one of the usual openers.
_HEADER_START = re.compile(
    r"^(?!.*(?:[^\W\d]{2}|\.)[.!?;…]$)(?:.*[\d@<]|(?:on|am|le|el|il|em|op|den|dnia|w dniu|at)\b)",
    re.IGNORECASE,
)
# A wrapped "<address\n>:" leaves the closing bracket at the start of a line, where it looks quoted.
_ADDRESS_CLOSE = re.compile(rf"^>\s*(?:{_WROTE})?\s*[:：]\s*$", re.IGNORECASE)
_DASHED_HEADER = re.compile(rf"^-{{2,}}\s*\S.{{0,300}}\b{_WROTE}\s*-{{2,}}\s*$", re.IGNORECASE)
# Gmail in some locales: "2016-03-03 17:21 GMT+01:00 Some One <a@b.c>:" (sometimes without colon).
_DATE_HEADER = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b.{0,250}$")
_SEPARATOR = re.compile(
    r"^\W{0,3}-{2,}\s*(?:original message|original meddelelse|urspr[üu]ngliche nachricht|message d'origine|"
    r"mensaje original|messaggio originale|oorspronkelijk bericht|opprinnelig melding|ursprungligt meddelande|"
    r"oryginalna wiadomo[śs][ćc]|исходное сообщение|p[ůu]vodn[íi] zpr[áa]va|alkuper[äa]inen viesti|"
    r"mensagem original|forwarded message|weitergeleitete nachricht|message transf[ée]r[ée]|mensaje reenviado)"
    r"\s*-{2,}\W{0,3}$|"
    r"^\W{0,3}(?:begin forwarded message|anfang der weitergeleiteten nachricht|d[ée]but du message r[ée]exp[ée]di[ée]|"
    r"inicio del mensaje reenviado)\s*:?\s*$",
    re.IGNORECASE,
)
_FROM_FIELD = re.compile(
    r"^\s*[*_]{0,2}(?:from|von|de|van|da|fr[åa]n|fra|od|от|від|kimden|l[äa]hett[äa]j[äa]|felad[óo]|"
    r"发件人|寄件者|差出人|보낸 사람)\s*[*_]{0,2}\s*[:：]",
    re.IGNORECASE,
)
_OTHER_FIELD = re.compile(
    r"^\s*[*_]{0,2}(?:sent|date|to|subject|cc|reply-to|gesendet|datum|an|betreff|envoy[ée]|[àa]|objet|"
    r"enviado|fecha|para|asunto|inviato|data|oggetto|risposta|verzonden|aan|onderwerp|skickat|till|[äa]mne|"
    r"sendt|til|emne|wys[łl]ano|do|temat|отправлено|кому|тема|дата|надіслано|收件人|主题|日期|发送时间)"
    r"\s*[*_]{0,2}\s*[:：]",
    re.IGNORECASE,
)
_SIG_DELIMITER = re.compile(r"^--\s?$|^\s*_{5,}\s*$")
# A line of punctuation only: a visual break that in mail almost always starts a footer.
_RULE = re.compile(r"^\s*(?:[-=*#~+]{2,}|ᐧ|[-=*#~+](?:\s*[-=*#~+]){2,})\s*$")
_RULE_TAIL_MAX = 12
_APOLOGY = r"(?:please|pls|excuse|sorry|apolog|bitte|d[ée]sol[ée]|perd[óo]n|scusa)"
_SIGNATURE_LINES = [
    re.compile(
        r"^\W*(?:sent|sendt|envoy[ée]|enviado|inviato|verzonden|skickat|wys[łl]ane|gesendet|отправлено)\s+"
        r"(?:from|with|via|by|using|depuis|desde|da|met|vanaf|fra|fr[åa]n|von|z|с|из|de)\b"
        rf"(?:[^,.!\n]|[.,!](?!\s))*(?:[,.!]\s+{_APOLOGY}.*)?\W*$",
        re.IGNORECASE,
    ),
    re.compile(r"^\W*(?:diese nachricht wurde )?von meine[mr]? .{1,60}gesendet\W*$", re.IGNORECASE),
    re.compile(r"^\W*get (?:the )?\[?outlook for\b", re.IGNORECASE),
    re.compile(
        r"^\W*(?:[\w ]{0,30}\b)?from (?:my |a )?(?:i?phone|ipad|ipod|android|mobile|cell|blackberry|"
        r"samsung|galaxy|smartphone|tablet)\b[\w .-]{0,20}\W*$",
        re.IGNORECASE,
    ),
    re.compile(r"^\W*sent by \w+\W*$", re.IGNORECASE),
    re.compile(r"(?:從|从)我的.{1,30}(?:傳送|发送)"),
]
_PROSE_WORDS = frozenset({"i", "we", "you", "he", "she", "they", "what", "that", "this", "it", "as", "here"})
_FENCE = re.compile(r"^\s*(?:```|~~~)")


def strip_reply(text: str) -> str:
    """The reply without quoted history and signature; the input itself when nothing would be left."""
    if not text or not text.strip():
        return text or ""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = normalised.split("\n")
    kept = _cut_history(lines)
    kept = _drop_trailing(kept)
    result = "\n".join(kept).strip("\n")
    if not result.strip():
        return normalised.strip("\n")
    return result


def _cut_history(lines: list[str]) -> list[str]:
    kept: list[str] = []
    in_fence = False
    has_text = False  # whether anything but blank lines has been kept: a header above it is a top header
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        if _FENCE.match(line):
            in_fence = not in_fence
        if in_fence:
            kept.append(line)
            has_text = has_text or bool(line.strip())
            i += 1
            continue
        at_top = not has_text
        header_len = _quote_header_at(lines, i)
        if header_len:
            resume = _after_inline_quote(lines, i + header_len)
            if resume is not None and not at_top:
                # An inline reply: the quoted lines are the questions being answered, keep them.
                resume = i + header_len
            if resume is None and at_top:
                resume = i + header_len  # a header above the reply (bottom-posting): drop the header
            if resume is None:
                return kept
            i = resume
            continue
        short = line[:_MAX_LINE]
        if _SEPARATOR.match(short) and at_top:
            # A bare forward: the forwarded text is all there is, so show it without its header block.
            i = _skip_header_block(lines, i + 1)
            continue
        if _SEPARATOR.match(short) or _SIG_DELIMITER.match(short) or _DASHED_HEADER.match(short):
            return kept
        if _FROM_FIELD.match(short) and _is_header_block(lines, i):
            return _drop_rule_before(kept)
        if _RULE.match(short) and _nonblank_count(lines, i + 1) <= _RULE_TAIL_MAX:
            return kept
        kept.append(line)
        has_text = has_text or bool(line.strip())
        i += 1
    return kept


def _quote_header_at(lines: list[str], i: int) -> int:
    """How many lines (1-3) form an "On ... wrote:" header starting at line ``i``; 0 if none."""
    first = lines[i].strip()
    if not first or len(first) > _MAX_LINE or first.startswith(">"):
        return 0
    joined = first
    for count in range(1, 4):
        if count > 1:
            nxt = lines[i + count - 1].strip() if i + count - 1 < len(lines) else ""
            if not nxt or (nxt.startswith(">") and not _ADDRESS_CLOSE.match(nxt)):
                return 0
            joined = f"{joined} {nxt}"
            if len(joined) > _MAX_LINE:
                return 0
            if not _HEADER_START.match(first):
                return 0  # prose above a header, not the first line of a wrapped header
        # the regex ends in a colon, and trying it on every line of a long body was most of the time
        if joined.rstrip().endswith((":", "：")) and _QUOTE_HEADER.match(joined) and (
            any(ch.isdigit() for ch in joined) or "@" in joined or _is_bare_name_header(joined)
        ):
            return count
        if _DATE_HEADER.match(joined) and ("@" in joined or "GMT" in joined or joined.endswith(":")):
            return count
    return 0


def _skip_header_block(lines: list[str], j: int) -> int:
    n = len(lines)
    while j < n and not lines[j].strip():
        j += 1
    while j < n and lines[j].strip():
        j += 1
    return j


def _is_bare_name_header(joined: str) -> bool:
    # "Bob Smith wrote:" carries no date or address; accept it only when it reads like a name,
    # not like a sentence ("Here is what I wrote:").
    before = re.split(_WROTE, joined, maxsplit=1, flags=re.IGNORECASE)[0].split()
    return 0 < len(before) <= 4 and not _PROSE_WORDS.intersection(w.lower() for w in before)


def _after_inline_quote(lines: list[str], j: int) -> int | None:
    """Where the reply resumes after a header and its ``>`` block, or None if it does not resume."""
    n = len(lines)
    while j < n and not lines[j].strip():
        j += 1
    if j >= n or not lines[j].lstrip().startswith(">"):
        return None
    while j < n and (not lines[j].strip() or lines[j].lstrip().startswith(">")):
        j += 1
    if j >= n:
        return None
    nxt = lines[j][:_MAX_LINE]
    if (
        _SIG_DELIMITER.match(nxt)
        or _RULE.match(nxt)
        or _SEPARATOR.match(nxt)
        or _is_signature_line(nxt)
        or _quote_header_at(lines, j)
    ):
        return None
    return j


def _is_header_block(lines: list[str], i: int) -> bool:
    fields = 0
    seen = 0
    for line in lines[i + 1 : i + 12]:
        if not line.strip():
            continue
        seen += 1
        if _OTHER_FIELD.match(line[:_MAX_LINE]):
            fields += 1
            if fields >= 2:
                return True
        if seen >= 6:
            break
    return False


def _drop_rule_before(kept: list[str]) -> list[str]:
    # Outlook puts a rule line (dashes or underscores) right above its header block.
    end = len(kept)
    while end and not kept[end - 1].strip():
        end -= 1
    if end and _RULE.match(kept[end - 1][:_MAX_LINE]):
        end -= 1
    return kept[:end]


def _nonblank_count(lines: list[str], start: int) -> int:
    return sum(1 for line in lines[start:] if line.strip())


def _is_signature_line(line: str) -> bool:
    if len(line) > 160:
        return False
    return any(p.search(line) for p in _SIGNATURE_LINES)


def _drop_trailing(lines: list[str]) -> list[str]:
    """Remove trailing blank, quoted and "Sent from my ..." lines."""
    end = len(lines)
    while end:
        line = lines[end - 1]
        stripped = line.strip()
        if not stripped or stripped.startswith(">") or _is_signature_line(stripped):
            end -= 1
            continue
        break
    return lines[:end]
