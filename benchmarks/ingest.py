"""End-to-end ingest throughput: raw bytes in, journal row, parse, thread, ticket or reply, commit.

    python benchmarks/ingest.py [--db URL] [--limit N] [--corpus DIR]

Feeds every file of the mail corpus (../shared/mail-corpus next to the repo), then a synthetic
conversation mix (new tickets and replies by header), into a fresh SQLite database by default, and
prints messages per second for each run and the outcome counts.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from email.utils import make_msgid
from pathlib import Path

from sqlalchemy import select

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tui_helpdesk.db import get_engine, session_scope  # noqa: E402
from tui_helpdesk.models import Department, Mailbox  # noqa: E402
from tui_helpdesk.services import inbound, setup  # noqa: E402


def corpus_files(root: Path) -> list[Path]:
    skip = {".tsv", ".md", ".txt"}
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() not in skip and p.name not in ("LICENSE", ".gitattributes")
    )


def synthetic(n: int) -> list[bytes]:
    out = []
    parents: list[str] = []
    for i in range(n):
        mid = make_msgid(domain="bench.test")
        head = [f"From: customer{i % 50}@bench.test", "To: support@bench.test", f"Message-ID: {mid}"]
        if i % 3 == 2 and parents:
            head += [f"Subject: Re: issue {i - 1}", f"In-Reply-To: {parents[-1]}"]
        else:
            head.append(f"Subject: issue {i}")
            parents.append(mid)
        out.append(
            ("\r\n".join(head) + "\r\n\r\nHello,\r\nthe thing broke again.\r\n\r\n> quoted\r\n").encode()
        )
    return out


def prepare(url: str):
    engine = get_engine(url)
    with session_scope(engine) as s:
        setup.create_first_admin(s, "bench", "Bench Admin", "bench@bench.test")
        dept = s.execute(select(Department)).scalars().first()
        s.add(Mailbox(address="support@bench.test", department_id=dept.id))
    return engine


def run(engine, messages: list[bytes], attachments: Path) -> tuple[float, Counter]:
    outcomes: Counter = Counter()
    start = time.perf_counter()
    for raw in messages:
        r = inbound.ingest_raw(engine, raw, attachments_dir=attachments)
        outcomes[f"{r.state}/{r.outcome}"] += 1
    return time.perf_counter() - start, outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file in a temp dir)")
    parser.add_argument("--limit", type=int, default=0, help="at most this many corpus files")
    parser.add_argument("--synthetic", type=int, default=1000, help="synthetic messages (default 1000)")
    parser.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "mail-corpus")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{tmp}/bench.db"
        engine = prepare(url)
        files = corpus_files(args.corpus) if args.corpus.is_dir() else []
        if args.limit:
            files = files[: args.limit]
        if files:
            raws = [p.read_bytes() for p in files]
            took, outcomes = run(engine, raws, Path(tmp) / "att")
            print(f"corpus: {len(raws)} messages in {took:.1f} s = {len(raws) / took:.1f} messages/s")
            print("  " + ", ".join(f"{k} {v}" for k, v in outcomes.most_common()))
        raws = synthetic(args.synthetic)
        took, outcomes = run(engine, raws, Path(tmp) / "att")
        print(f"synthetic: {len(raws)} messages in {took:.1f} s = {len(raws) / took:.1f} messages/s")
        print("  " + ", ".join(f"{k} {v}" for k, v in outcomes.most_common()))


if __name__ == "__main__":
    main()
