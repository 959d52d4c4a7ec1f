"""Undeclared charsets on the mail corpus: what the parser read before (Windows-1252, then Latin-1) and
after (charset-normalizer first), for every piece of undeclared, non-UTF-8 text.

    python benchmarks/charsets.py [--corpus DIR] [--show N]

Prints how many files and text pieces take the undeclared path, the charsets chosen after, and the
pieces whose text changed (before -> after) so a reader can judge them.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tui_helpdesk.mail import parse  # noqa: E402


def corpus_files(root: Path) -> list[Path]:
    skip = {".tsv", ".md", ".txt", ".go"}
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() not in skip and p.name != "LICENSE")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "mail-corpus")
    ap.add_argument("--show", type=int, default=25)
    args = ap.parse_args()
    pieces: list[tuple[Path, bytes]] = []
    current: list[Path] = []
    real_decode = parse.decode_bytes

    def spy(data: bytes, charset: str | None):
        if not (charset or "").strip():
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                pieces.append((current[0], bytes(data)))
        return real_decode(data, charset)

    parse.decode_bytes = spy  # type: ignore[assignment]
    files = corpus_files(args.corpus)
    for path in files:
        current[:] = [path]
        parse.parse_message(path.read_bytes())
    parse.decode_bytes = real_decode  # type: ignore[assignment]

    def old(data: bytes) -> str:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")

    chosen: Counter[str] = Counter()
    changed = []
    for path, data in pieces:
        encoding = parse.detect_charset(data) or "latin-1 (fallback)"
        chosen[encoding] += 1
        after = real_decode(data, None)[0]
        if after != old(data):
            changed.append((path, old(data), after, encoding))
    print(f"{len(files)} files; {len({p for p, _ in pieces})} files with undeclared non-UTF-8 text "
          f"({len(pieces)} pieces: headers and bodies)")
    print("before: every piece read as Windows-1252 (Latin-1 where it has no such byte)")
    print("after:  " + ", ".join(f"{enc} {n}" for enc, n in chosen.most_common()))
    print(f"pieces whose text changed: {len(changed)}")
    for path, before, after, encoding in changed[: args.show]:
        rel = path.relative_to(args.corpus)
        print(f"- {rel} [{encoding}]\n    before: {before[:90]!r}\n    after:  {after[:90]!r}")


if __name__ == "__main__":
    main()
