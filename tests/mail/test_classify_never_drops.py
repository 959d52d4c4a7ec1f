"""classify after issue 10: headers and MIME structure decide machine mail; words only raise flags."""

from __future__ import annotations

import pytest
from support.corpus import CORPUS, needs_corpus

from tui_helpdesk.mail.classify import Classification, classify
from tui_helpdesk.mail.parse import parse_message

SISIMAI = CORPUS / "bounces" / "sisimai"


def _msg(headers: str, body: str = "hello") -> Classification:
    return classify(parse_message((headers.strip() + "\n\n" + body + "\n").encode()))


@pytest.mark.parametrize(
    ("headers", "flags"),
    [
        ("From: ann@x.org\nSubject: Out of office calendar sync broken", ("auto-reply subject",)),
        ("From: ann@x.org\nSubject: Emails undelivered since yesterday", ("bounce subject",)),
        ("From: postmaster@x.org\nSubject: Our MX rejects your replies", ("role sender postmaster",)),
        ("From: post_master@x.org\nSubject: Re:Test", ("role sender post_master",)),
        ("From: no-reply@x.org\nSubject: hi", ("role sender no-reply",)),
        ("From: ann@x.org\nSubject: [AUTO GENERATED] nightly report", ("auto-reply subject",)),
        ("From: ann@x.org\nSubject: Printer is out of paper again", ()),
    ],
)
def test_words_and_role_senders_flag_a_person_s_mail_and_never_drop_it(headers: str, flags: tuple) -> None:
    result = _msg(headers)
    assert (result.kind, result.reason, result.flags) == ("normal", "no automatic-mail signal", flags)
    assert not result.machine
    assert result.answerable is (not flags)


def test_a_json_notification_body_is_flagged() -> None:
    result = _msg("From: SES <no-reply@sns.amazonaws.com>\nSubject: AWS Notification Message",
                  '{\n  "Type" : "Notification",\n  "MessageId" : "x"\n}')
    assert result.kind == "normal" and "JSON notification body" in result.flags


@pytest.mark.parametrize(
    ("headers", "kind", "reason"),
    [
        ("From: <>\nSubject: hi", "auto_reply", "null sender (From: <>)"),
        ("From: MAILER-DAEMON <>\nSubject: Mail delivery failed", "bounce",
         "null sender (From: <> (mailer-daemon))"),
        ("From: Mail Delivery Subsystem <MAILER-DAEMON>\nSubject: Returned mail", "bounce",
         "null sender (From: mailer-daemon)"),
        ("From: <>\nSubject: Undelivered Mail Returned to Sender", "bounce", "null sender (From: <>)"),
        ("From: Mail <mail.system@x.org>\nReturn-Path: <MAILER-DAEMON@x.org>\nSubject: hi", "bounce",
         "Return-Path is a mail daemon"),
        ("From: a@x.org\nX-Precedence: auto_reply\nSubject: hi", "auto_reply", "X-Precedence: auto_reply"),
        ("From: a@x.org\nX-Precedence: bulk\nSubject: hi", "bulk", "X-Precedence: bulk"),
        ("From: a@x.org\nPrecedence: list\nSubject: hi", "bulk", "Precedence: list"),
        ("From: a@x.org\nPrecedence: bulk\nX-Precedence: auto_reply\nSubject: hi", "bulk", "Precedence: bulk"),
        ("From: a@x.org\nX-MLServer: fml [fml 4.0.3]\nSubject: hi", "bulk",
         "mailing list (List-Id/List-Unsubscribe)"),
        ("From: a@x.org\nX-Apple-Action: VACATION\nSubject: Away", "auto_reply", "X-Apple-Action: vacation"),
    ],
)
def test_machine_mail_is_decided_by_headers(headers: str, kind: str, reason: str) -> None:
    result = _msg(headers)
    assert (result.kind, result.reason) == (kind, reason)
    assert result.machine is (kind in ("auto_reply", "bounce"))
    assert not result.answerable


def test_an_apple_action_other_than_vacation_is_a_person() -> None:
    assert _msg("From: a@x.org\nX-Apple-Action: FORWARD\nSubject: Hi").answerable


def test_bulk_mail_carries_its_word_flags_too() -> None:
    result = _msg("From: a@x.org\nPrecedence: bulk\nSubject: Out of office")
    assert (result.kind, result.flags) == ("bulk", ("auto-reply subject",))


@needs_corpus
def test_no_sisimai_bounce_or_auto_reply_could_be_answered() -> None:
    # The samples that only words give away become tickets now, but flagged: none may get an autoresponse.
    names = sorted((SISIMAI / "maildir" / "bsd").glob("*.eml"))
    answerable = [p.name for p in names if classify(parse_message(p.read_bytes())).answerable]
    assert len(names) > 500
    assert answerable == []
    human = [classify(parse_message(p.read_bytes())) for p in sorted((SISIMAI / "maildir" / "not").iterdir())]
    assert [c.kind for c in human] == ["normal", "normal", "auto_reply"]  # the third is Auto-Submitted


@pytest.mark.parametrize(
    ("sender", "flagged"),
    [
        ("bounces@x.org", True),
        ("bounce+abc@x.org", True),
        ("bouncer@x.org", False),
        ("donotreply@x.org", True),
        ("do-not-reply@x.org", True),
        ("noreply+x@x.org", True),
        ("no_reply@x.org", True),
        ("mailer@x.org", True),
        ("daemon@x.org", True),
        ("postmasters@x.org", False),
        ("Postmaster@x.org", True),
    ],
)
def test_role_senders(sender: str, flagged: bool) -> None:
    result = _msg(f"From: {sender}\nSubject: hello")
    assert result.kind == "normal"
    assert result.flags == ((f"role sender {sender.partition('@')[0].lower()}",) if flagged else ())


@pytest.mark.parametrize(
    ("body", "flagged"),
    [
        ('{"notificationType":"Bounce","bounce":{}}', True),
        ('  {\n "eventType": "Complaint"}', True),
        ('{"type" : "Notification"}', True),
        ('{"name": "not a notification"}', False),
        ('Here is JSON: {"Type": "Notification"}', False),
    ],
)
def test_json_notification_bodies(body: str, flagged: bool) -> None:
    result = _msg("From: ops@x.org\nSubject: hi", body)
    assert ("JSON notification body" in result.flags) is flagged


@pytest.mark.parametrize(
    ("headers", "kind", "reason"),
    [
        ("From: a@x.org\nX-ML-Name: neko\nSubject: hi", "bulk", "mailing list (List-Id/List-Unsubscribe)"),
        ("From: a@x.org\nX-Precedence: junk\nSubject: hi", "bulk", "X-Precedence: junk"),
        ("From: a@x.org\nPrecedence: auto-reply\nSubject: hi", "auto_reply", "Precedence: auto-reply"),
        ("From: a@x.org\nPrecedence: bulk\nPrecedence: first-class\nSubject: hi", "bulk", "Precedence: bulk"),
        ("From: <>\nSubject: hi\nContent-Type: multipart/mixed; boundary=B", "bounce", "null sender (From: <>)"),
        ("From: MAILER-DAEMON\nSubject: hi", "bounce", "null sender (From: mailer-daemon)"),
        ("From: Bob\nSubject: hi", "normal", "no automatic-mail signal"),
        ("From: a@x.org\nReturn-Path: <bob@x.org>\nSubject: hi", "normal", "no automatic-mail signal"),
        ("From: a@x.org\nReturn-Path: <Mailer-Daemon@x.org>\nReturn-Path: <>\nSubject: hi", "bounce",
         "Return-Path is a mail daemon"),
        # the delivering MTA's Return-Path is the first; a daemon in an older one below it is history
        ("From: a@x.org\nReturn-Path: <a@x.org>\nReturn-Path: <MAILER-DAEMON@x.org>\nSubject: hi", "normal",
         "no automatic-mail signal"),
        ("From: a@x.org\nPrecedence: first-class\nPrecedence: bulk\nSubject: hi", "normal",
         "no automatic-mail signal"),
        ("From: <>\nFrom: MAILER-DAEMON\nSubject: hi", "auto_reply", "null sender (From: <>)"),
    ],
)
def test_more_header_rules(headers: str, kind: str, reason: str) -> None:
    body = "--B\nContent-Type: message/rfc822\n\nFrom: us@x.org\nSubject: ours\n\nhi\n--B--" if "boundary=B" in headers else "hi"
    result = _msg(headers, body)
    assert (result.kind, result.reason) == (kind, reason)


@pytest.mark.parametrize("subject", ["Loop Alert: Duplicated Message-ID", "An automated message", "auto-generated"])
def test_more_automatic_subject_words(subject: str) -> None:
    assert _msg(f"From: a@x.org\nSubject: {subject}").flags == ("auto-reply subject",)
