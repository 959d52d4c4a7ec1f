"""Bounce recognition and failed-recipient accuracy, before (our own detector) and after (flufl.bounce).

    python benchmarks/bounces.py [--corpus DIR] [--flufl-data DIR]

1. The corpus's bounces/ (sisimai's set-of-emails). File names carry the kind: lhost-/rhost-/rfc3464-
   are bounces, rfc3834- auto-replies, arf- feedback reports, not/ no bounce. The corpus names no
   recipient addresses (go-sisimai's tables give only how many recipients each bounce has, from
   EXPECTED_derived_from_go-sisimai_tests.tsv), so for it the figures are: recognised as a bounce, a
   bounce note naming at least one recipient, and naming as many as sisimai expects.
2. flufl.bounce's own samples, when given (--flufl-data: the .txt files and detectors.py of its test
   data, e.g. from a checkout of its repository): its tests name the expected recipients of each.

"Before" is the recipients the bounce note named until now: the message/delivery-status groups, else
the classifier's one recipient. "After" is mail/bounces.failures. Recognised before: classify() says
bounce; after, as services/inbound decides: that, or automatic/bulk mail in which flufl.bounce finds a
permanent failure.
"""

from __future__ import annotations

import argparse
import ast
import csv
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tui_helpdesk.mail import bounces, classify  # noqa: E402
from tui_helpdesk.mail.parse import parse_message  # noqa: E402

BOUNCE_PREFIXES = ("lhost-", "rhost-", "rfc3464-")


def before(parsed) -> set[str]:
    """The recipients the bounce note named before flufl.bounce (services/inbound._bounce as it was)."""
    found = set()
    for group in parsed.delivery_status:
        recipient = group.get("final-recipient") or group.get("original-recipient")
        if recipient:
            found.add(recipient.split(";")[-1].strip().strip("<>").lower())
    if not found:
        verdict = classify.classify(parsed)
        if verdict.recipient:
            found.add(verdict.recipient.lower())
    return found


def after(raw: bytes, parsed) -> set[str]:
    verdict = classify.classify(parsed)
    return {f.address for f in bounces.failures(raw, parsed, verdict.recipient, verdict.status)}


def recognised_after(raw: bytes, parsed) -> bool:
    kind = classify.classify(parsed).kind
    return kind == "bounce" or (kind in ("auto_reply", "bulk") and bool(bounces.failed_recipients(raw).permanent))


def label(path: Path) -> str:
    name = path.name
    if "/not/" in path.as_posix():
        return "not"
    if name.startswith(BOUNCE_PREFIXES):
        return "bounce"
    if name.startswith("rfc3834-"):
        return "auto_reply"
    if name.startswith("arf-"):
        return "feedback"
    return "other"


def corpus(root: Path) -> None:
    base = root / "bounces" / "sisimai"
    expected_count: Counter[str] = Counter()
    with (base / "EXPECTED_derived_from_go-sisimai_tests.tsv").open() as fh:
        rows = csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t")
        for row in rows:
            if row["file_exists"] == "True" and row["reason"] not in ("delivered", "vacation", "feedback"):
                expected_count[row["file"]] += 1
    files = sorted(p for p in (base / "maildir").rglob("*.eml") if p.is_file())
    by_label: Counter[str] = Counter()
    recognised: Counter[str] = Counter()
    recognised_new: Counter[str] = Counter()
    named = {"before": 0, "after": 0}
    exact = {"before": 0, "after": 0}
    with_count = 0
    for path in files:
        raw = path.read_bytes()
        parsed = parse_message(raw)
        kind = label(path)
        by_label[kind] += 1
        is_bounce = classify.classify(parsed).kind == "bounce"
        recognised[kind] += is_bounce
        recognised_new[kind] += recognised_after(raw, parsed)
        if kind != "bounce" or not is_bounce:
            continue
        rel = path.relative_to(base).as_posix()
        want = expected_count.get(rel)
        with_count += want is not None
        for name, found in (("before", before(parsed)), ("after", after(raw, parsed))):
            named[name] += bool(found)
            exact[name] += want is not None and len(found) == want
    total = by_label["bounce"]
    print(f"corpus bounces/sisimai/maildir: {len(files)} samples: " + ", ".join(f"{k} {v}" for k, v in sorted(by_label.items())))
    for name, counts in (("before", recognised), ("after", recognised_new)):
        print(f"  {name:6s}: recognised as a bounce: {counts['bounce']} of {total} bounces; "
              f"also (wrongly) {counts['not']} of {by_label['not']} non-bounces, "
              f"{counts['auto_reply']} of {by_label['auto_reply']} auto-replies, "
              f"{counts['feedback']} of {by_label['feedback']} feedback reports")
    for name in ("before", "after"):
        print(f"  {name:6s}: the note names a recipient for {named[name]} of {recognised['bounce']} recognised bounces; "
              f"as many recipients as go-sisimai expects for {exact[name]} of {with_count} with an expectation")


def flufl(data: Path) -> None:
    tree = ast.parse((data / "detectors.py").read_text())
    table = next(n.value for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "DATA")
    expected: dict[str, set[str]] = {}
    for entry in table.elts:
        filename, want = entry.elts[1], entry.elts[2]  # (detector, sample, recipients or Stop, ...)
        values = [e.value for e in want.elts] if isinstance(want, ast.List) else []
        addresses = {(v.decode() if isinstance(v, bytes) else v).lower() for v in values}
        expected.setdefault(filename.value, set()).update(addresses)
    samples = sorted(p for p in data.glob("*.txt"))
    with_expected = [p for p in samples if expected.get(p.name)]
    recognised = 0
    recognised_new = 0
    hits = {"before": 0, "after": 0}
    only = {"before": 0, "after": 0}
    for path in with_expected:
        raw = path.read_bytes()
        parsed = parse_message(raw)
        recognised += classify.classify(parsed).kind == "bounce"
        recognised_new += recognised_after(raw, parsed)
        want = expected[path.name]
        for name, found in (("before", before(parsed)), ("after", after(raw, parsed))):
            hits[name] += bool(found & want)
            only[name] += bool(found) and found <= want
    print(f"flufl.bounce samples: {len(samples)}, {len(with_expected)} with expected recipients; "
          f"recognised as a bounce {recognised} (before), {recognised_new} (after) of {len(with_expected)}")
    for name in ("before", "after"):
        print(f"  {name:6s}: an expected recipient named for {hits[name]} of {len(with_expected)}; "
              f"only expected recipients for {only[name]}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "mail-corpus")
    ap.add_argument("--flufl-data", type=Path)
    args = ap.parse_args()
    corpus(args.corpus)
    if args.flufl_data:
        flufl(args.flufl_data)


if __name__ == "__main__":
    main()
