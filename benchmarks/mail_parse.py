"""Throughput of the pure mail path (parse + classify + strip_reply) over the shared mail corpus.

    python benchmarks/mail_parse.py            # messages/second over every corpus file
    python benchmarks/mail_parse.py --html     # our HTML converter vs html2text on the corpus's HTML parts
    python benchmarks/mail_parse.py --quotes   # strip_reply vs mail-parser-reply on the trimmer corpus

Never part of the test run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tui_helpdesk.mail.classify import classify
from tui_helpdesk.mail.html_text import html_to_text
from tui_helpdesk.mail.parse import parse_message
from tui_helpdesk.mail.quotes import strip_reply

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "mail-corpus"
_METADATA_SUFFIXES = {".tsv", ".md"}
_METADATA_NAMES = {"SOURCE.txt", "LICENSE", ".gitattributes"}


def corpus_blobs() -> list[bytes]:
    paths = sorted(
        p
        for p in CORPUS.rglob("*")
        if p.is_file() and p.suffix not in _METADATA_SUFFIXES and p.name not in _METADATA_NAMES
    )
    return [p.read_bytes() for p in paths]


def throughput(rounds: int) -> None:
    blobs = corpus_blobs()
    total_bytes = sum(len(b) for b in blobs)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for raw in blobs:
            parsed = parse_message(raw)
            classify(parsed)
            strip_reply(parsed.text)
        best = min(best, time.perf_counter() - started)
    print(f"{len(blobs)} messages, {total_bytes / 1e6:.1f} MB, best of {rounds}: {best:.2f} s")
    print(f"throughput: {len(blobs) / best:.0f} messages/s, {total_bytes / 1e6 / best:.1f} MB/s")


def compare_html() -> None:
    import html2text

    docs = [m.html for m in (parse_message(raw) for raw in corpus_blobs()) if m.html]
    docs += [p.read_text(encoding="utf-8", errors="replace") for p in CORPUS.rglob("*.html")]

    def via_html2text(markup: str) -> str:
        converter = html2text.HTML2Text()
        converter.body_width = 0
        return converter.handle(markup)

    for name, func in (("ours (HTMLParser)", html_to_text), ("html2text", via_html2text)):
        started = time.perf_counter()
        outputs = [func(d) for d in docs]
        elapsed = time.perf_counter() - started
        markup = sum(1 for o in outputs if "**" in o or "](" in o or "\\-" in o or "<" in o and ">" in o)
        print(f"{name:20s} {len(docs)} docs in {elapsed:.3f} s; outputs with markup-like text: {markup}")


def compare_quotes() -> None:
    trimmer = CORPUS / "email_reply_trimmer"
    cases = sorted((trimmer / "emails").glob("*.txt"))

    def score(func) -> int:  # type: ignore[no-untyped-def]
        ok = 0
        for path in cases:
            expected = (trimmer / "trimmed" / path.name).read_text(encoding="utf-8").strip()
            ok += (func(path.read_text(encoding="utf-8")) or "").strip() == expected
        return ok

    print(f"strip_reply:       {score(strip_reply)}/{len(cases)}")
    try:
        from mailparser_reply import EmailReplyParser
        from mailparser_reply.constants import MAIL_LANGUAGES
    except ImportError:
        print("mail-parser-reply: not installed (pip install mail-parser-reply to compare)")
        return
    parser = EmailReplyParser(languages=list(MAIL_LANGUAGES))
    print(f"mail-parser-reply: {score(parser.parse_reply)}/{len(cases)}")


def main(argv: list[str]) -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--html", action="store_true")
    args.add_argument("--quotes", action="store_true")
    args.add_argument("--rounds", type=int, default=3)
    opts = args.parse_args(argv)
    if not CORPUS.is_dir():
        sys.exit(f"corpus not found at {CORPUS}")
    if opts.html:
        compare_html()
    elif opts.quotes:
        compare_quotes()
    else:
        throughput(opts.rounds)


if __name__ == "__main__":
    main(sys.argv[1:])
