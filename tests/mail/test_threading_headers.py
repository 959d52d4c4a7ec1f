"""The headers we write and read for threading: the host of our Message-IDs, the ids a reply points at."""

from __future__ import annotations

import pytest

from tui_helpdesk.mail import threading as keys
from tui_helpdesk.mail.parse import normalize_msgid, parse_message

KEY = b"k" * 32


@pytest.mark.parametrize(
    ("from_addr", "host"),
    [
        ("support@helpdesk.test", "helpdesk.test"),
        # a quoted local part may hold an "@": the host is what follows the last one
        ('"help@desk"@helpdesk.test', "helpdesk.test"),
        # no mailbox address configured yet: still a well-formed id that threads
        ("", "localhost"),
    ],
)
def test_our_message_id_is_one_well_formed_id_at_the_senders_host(from_addr: str, host: str) -> None:
    mid = keys.make_message_id(KEY, 42, from_addr)
    # one "@" only: an id like <tck...@support@helpdesk.test> is malformed and may be rewritten on the way
    assert mid.count("@") == 1 and mid.endswith(f"@{host}>")
    assert normalize_msgid(mid) == mid
    assert keys.ticket_from_message_id(KEY, mid) == 42


def test_a_reply_without_in_reply_to_points_at_its_references_newest_first() -> None:
    raw = b"From: a@b.test\r\nSubject: x\r\nReferences: <root@x> <mid@x>\r\n\r\nbody\r\n"
    assert keys.header_ids(parse_message(raw)) == ["<mid@x>", "<root@x>"]


def test_a_message_that_points_nowhere_has_no_header_ids() -> None:
    assert keys.header_ids(parse_message(b"From: a@b.test\r\nSubject: x\r\n\r\nbody\r\n")) == []
