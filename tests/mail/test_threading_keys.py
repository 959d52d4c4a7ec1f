"""The threading keys: signed Message-IDs and body tokens, ticket numbers in subjects (pure, no database)."""

from __future__ import annotations

from tui_helpdesk.mail import threading as keys
from tui_helpdesk.mail.parse import parse_message
from tui_helpdesk.mail.templates import excerpt

KEY = b"k" * 32


def test_signed_message_id_round_trips_and_refuses_a_forgery() -> None:
    mid = keys.make_message_id(KEY, 42, "support@helpdesk.test")
    assert mid.startswith("<tck.42.") and mid.endswith("@helpdesk.test>")
    assert keys.ticket_from_message_id(KEY, mid) == 42
    assert keys.ticket_from_message_id(b"other" * 8, mid) is None
    forged = mid.replace("<tck.42.", "<tck.43.")
    assert keys.ticket_from_message_id(KEY, forged) is None
    assert keys.ticket_from_message_id(KEY, None) is None
    assert keys.ticket_from_message_id(KEY, "<plain@customer.test>") is None


def test_reply_token_found_in_quoted_text_only_with_its_signature() -> None:
    token = keys.reply_token(KEY, 7)
    assert keys.ticket_from_token(KEY, None, f"> earlier\n> {token}\n") == 7
    assert keys.ticket_from_token(KEY, "[ref:7-0123456789abcdef]") is None
    assert keys.ticket_from_token(b"x" * 32, token) is None


def test_subject_numbers_under_any_prefix_in_order_without_repeats() -> None:
    subject = "Re: [TCK-1307] again [ itf-1308 ] [TCK-1307] [no-number] [TCK1309] (TCK-1310)"
    assert keys.subject_numbers(subject) == ["TCK-1307", "ITF-1308"]
    assert keys.subject_numbers(None) == []


def test_without_numbers_takes_out_only_the_named_ones() -> None:
    subject = "Re: [TCK-1307]  Printer [tck-1308] on fire [TCK-1307]"
    assert keys.without_numbers(subject, {"TCK-1307"}) == "Re: Printer [tck-1308] on fire"
    assert keys.without_numbers("[TCK-1]", {"tck-1"}) == ""


def test_subject_with_number_adds_the_tag_once() -> None:
    assert keys.subject_with_number("Printer", "TCK-1") == "Printer [TCK-1]"
    assert keys.subject_with_number("Re: Printer [TCK-1]", "TCK-1") == "Re: Printer [TCK-1]"


def test_header_ids_nearest_first() -> None:
    raw = (
        b"From: a@b.test\r\nSubject: x\r\nIn-Reply-To: <p@x>\r\n"
        b"References: <root@x> <mid@x> <p@x>\r\n\r\nbody\r\n"
    )
    assert keys.header_ids(parse_message(raw)) == ["<p@x>", "<mid@x>", "<root@x>"]


def test_excerpt_keeps_short_text_and_cuts_long_text_at_a_word() -> None:
    assert excerpt("short") == "short"
    text = ("word " * 1000).strip()
    cut = excerpt(text, limit=100)
    assert cut.startswith("word word") and "…" in cut and len(cut) < 160
    assert cut.split(" …")[0].endswith("word")  # never half a word
    assert "more characters" in cut
