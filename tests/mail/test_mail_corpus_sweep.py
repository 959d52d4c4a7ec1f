"""Every file of the shared mail corpus goes through parse + classify + strip without raising or hanging."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from support.corpus import CORPUS, needs_corpus

from tui_helpdesk.mail.classify import classify
from tui_helpdesk.mail.parse import parse_message
from tui_helpdesk.mail.quotes import strip_reply

# A hang detector (runaway backtracking takes minutes), not a speed test: a loaded machine took 2.5 s
# over a 1 MB file, so the bound leaves room for a slow machine.
PER_FILE_SECONDS = 10.0
_METADATA_SUFFIXES = {".tsv", ".md"}
_METADATA_NAMES = {"SOURCE.txt", "LICENSE", ".gitattributes"}


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        p
        for p in CORPUS.rglob("*")
        if p.is_file() and p.suffix not in _METADATA_SUFFIXES and p.name not in _METADATA_NAMES
    )


class _TimedOut(Exception):
    pass


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    # SIGALRM interrupts a regex or loop that would otherwise hang the test run; the elapsed-time
    # check below also catches a file that is merely slow.
    def _raise(signum: int, frame: object) -> None:
        raise _TimedOut

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds * 2)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@needs_corpus
def test_every_corpus_file_is_read_without_raising_or_hanging() -> None:
    files = corpus_files()
    assert len(files) > 1000
    problems: list[str] = []
    for path in files:
        raw = path.read_bytes()
        started = time.perf_counter()
        try:
            with _deadline(PER_FILE_SECONDS):
                parsed = parse_message(raw)
                kind = classify(parsed)
                reply = strip_reply(parsed.text)
        except _TimedOut:
            problems.append(f"{path}: hung")
            continue
        except Exception as exc:  # noqa: BLE001 - collect every failure, not just the first
            problems.append(f"{path}: raised {exc!r}")
            continue
        elapsed = time.perf_counter() - started
        if elapsed > PER_FILE_SECONDS:
            problems.append(f"{path}: took {elapsed:.2f}s")
        if not (parsed.text.strip() or parsed.attachments or parsed.defects):
            problems.append(f"{path}: neither text, attachments nor defects")
        if parsed.text.strip() and not reply.strip():
            problems.append(f"{path}: strip_reply emptied a non-empty body")
        if kind.kind not in ("normal", "auto_reply", "bounce", "bulk"):  # bulk: issue 10
            problems.append(f"{path}: kind {kind.kind!r}")
        if any(ch in parsed.text + parsed.subject + parsed.from_name for ch in "\x1b\x9b\x9d\u202e"):
            problems.append(f"{path}: control characters reached the text")
    assert not problems, "\n".join(problems[:50])
