"""classify: bounce / auto-reply / normal, measured on sisimai's set of emails."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from support.corpus import CORPUS, needs_corpus

from tui_helpdesk.mail.classify import classify
from tui_helpdesk.mail.parse import parse_message

SISIMAI = CORPUS / "bounces" / "sisimai"

# Measured 573/584 (98.1%): misses are AWS SNS JSON notifications, two mailing-list managers' rejections
# and one "not a bounce" sent by postmaster@.
ACCURACY_FLOOR = 0.96


def _expected() -> dict[str, list[list[str]]]:
    rows: dict[str, list[list[str]]] = {}
    with (SISIMAI / "EXPECTED_derived_from_go-sisimai_tests.tsv").open(encoding="utf-8") as fh:
        for row in csv.reader((line for line in fh if not line.startswith("#")), delimiter="\t"):
            if row[0] == "file" or row[8] != "True":
                continue
            rows.setdefault(row[0], []).append(row)
    return rows


def _kind(path: Path):
    return classify(parse_message(path.read_bytes()))


@needs_corpus
def test_sisimai_accuracy_floor() -> None:
    expected = _expected()
    cases = [
        (SISIMAI / f, "auto_reply" if rows[0][4] == "vacation" else "bounce") for f, rows in expected.items()
    ]
    cases += [(p, "normal") for p in sorted((SISIMAI / "maildir" / "not").iterdir())]
    wrong = [(p.name, want, _kind(p).kind) for p, want in cases if _kind(p).kind != want]
    accuracy = 1 - len(wrong) / len(cases)
    print(f"sisimai: {len(cases) - len(wrong)}/{len(cases)} = {accuracy:.1%}")
    assert len(cases) > 500
    assert accuracy >= ACCURACY_FLOOR, wrong


@needs_corpus
def test_rfc3834_auto_replies() -> None:
    for path in sorted((SISIMAI / "maildir" / "bsd").glob("rfc3834-*.eml")):
        assert _kind(path).kind == "auto_reply", path.name


@needs_corpus
def test_dsn_details_for_threading_the_bounce() -> None:
    result = _kind(SISIMAI / "maildir" / "bsd" / "lhost-amazonses-05.eml")
    assert result.kind == "bounce"
    assert result.status == "5.1.1"
    assert result.action == "failed"
    assert result.recipient and "@" in result.recipient
    assert result.original_message_id and result.original_message_id.startswith("<")


@needs_corpus
def test_dsn_status_matches_expected_for_most_multipart_reports() -> None:
    expected = _expected()
    checked = matched = 0
    for name, rows in expected.items():
        parsed = parse_message((SISIMAI / name).read_bytes())
        if not parsed.delivery_status or not rows[0][2]:
            continue
        checked += 1
        matched += classify(parsed).status in {r[2] for r in rows}
    print(f"DSN status: {matched}/{checked}")
    assert checked > 200 and matched / checked >= 0.6


def _raw(headers: str, body: str = "hello") -> bytes:
    return (headers.strip() + "\n\n" + body + "\n").encode()


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        ("From: a@x.org\nAuto-Submitted: auto-replied\nSubject: Re: hi", "auto_reply"),
        ("From: a@x.org\nAuto-Submitted: no\nSubject: Re: hi", "normal"),
        ("From: a@x.org\nX-Autoreply: yes\nSubject: hi", "auto_reply"),
        ("From: a@x.org\nX-Autorespond: yes\nSubject: hi", "auto_reply"),
        ("From: a@x.org\nX-Auto-Response-Suppress: All\nSubject: hi", "auto_reply"),
        ("From: a@x.org\nPrecedence: bulk\nSubject: hi", "bulk"),
        ("From: a@x.org\nPrecedence: junk\nSubject: hi", "bulk"),
        ("From: a@x.org\nList-Id: <list.x.org>\nSubject: hi", "bulk"),
        ("From: a@x.org\nList-Unsubscribe: <mailto:u@x.org>\nSubject: hi", "bulk"),
        ("From: MAILER-DAEMON@x.org\nSubject: hi", "bounce"),
        ("From: postmaster@x.org\nSubject: hi", "normal"),
        ("From: a@x.org\nReturn-Path: <>\nSubject: Undeliverable: hi", "bounce"),
        ("From: a@x.org\nReturn-Path: <>\nSubject: hi", "auto_reply"),
        ("From: a@x.org\nSubject: Out of Office: back Monday", "normal"),
        ("From: a@x.org\nSubject: Automatic reply: hi", "normal"),
        ("From: a@x.org\nSubject: Delivery Status Notification (Failure)", "normal"),
        ("From: a@x.org\nSubject: Printer is out of paper again", "normal"),
    ],
)
def test_header_signals(headers: str, kind: str) -> None:
    assert classify(parse_message(_raw(headers))).kind == kind


def test_multipart_report_bounce_carries_original_ids() -> None:
    raw = _raw(
        "From: Mail Delivery System <x@mx.example>\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="R"\nSubject: failed',
        "--R\nContent-Type: text/plain\n\nCould not deliver.\n"
        "--R\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\n"
        "Final-Recipient: rfc822; Gone@Example.COM\nAction: failed\nStatus: 5.1.1\n\n"
        "--R\nContent-Type: message/rfc822\n\nMessage-ID: <TCK-42.1@helpdesk.example>\n"
        "To: gone@example.com\nSubject: Re: [TCK-42]\n\nour reply\n--R--",
    )
    result = classify(parse_message(raw))
    assert (result.kind, result.status, result.action, result.recipient, result.original_message_id) == (
        "bounce",
        "5.1.1",
        "failed",
        "gone@example.com",
        "<TCK-42.1@helpdesk.example>",
    )


FLANKER = CORPUS / "flanker" / "messages"


@needs_corpus
@pytest.mark.parametrize(
    ("path", "want"),
    [
        # Exim: no MIME report; the failed address is a header, the original's headers are quoted in the text
        (SISIMAI / "maildir" / "bsd" / "lhost-exim-02.eml",
         ("bounce", "kijitora@example.jp", "5.1.1", None, "<E1X58pB-0004bW-2s@marutamachi.example.org>")),
        # a delay warning, not a failure: the ticket must not read as "address gone"
        (SISIMAI / "maildir" / "bsd" / "rfc3464-07.eml",
         ("bounce", "kijitora@example.net", "4.4.0", "delayed", "<000000000000000@list.example.jp>")),
        # the status part inside multipart/mixed rather than multipart/report
        (SISIMAI / "maildir" / "bsd" / "rfc3464-09.eml",
         ("bounce", "kijitora-cat@mx4.gr3.example.jp", "4.3.0", "delayed",
          "<00000000000000000000000000000000000000000@example.org>")),
        # an abuse complaint (ARF) about one of our messages
        (FLANKER / "complaints" / "yahoo.eml",
         ("bounce", "user@yahoo.com", None, None, "<20120711015015.4A8BE2E088E@www.example.com>")),
        (FLANKER / "disposition-notification.eml", ("auto_reply", None, None, None, None)),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else "",
)
def test_real_bounces_name_the_message_and_recipient_that_failed(path: Path, want: tuple) -> None:
    result = _kind(path)
    assert (result.kind, result.recipient, result.status, result.action, result.original_message_id) == want
