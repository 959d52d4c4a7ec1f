"""strip_reply, rule by rule: what an agent sees first of a reply (built messages; the corpus is in test_quotes.py)."""

from __future__ import annotations

import pytest

from tui_helpdesk.mail.quotes import strip_reply

HEADER = "On Mon, 1 Jan 2024, Bob <b@x.org> wrote:"
OUTLOOK = "From: Bob Smith <b@x.org>\nSent: Monday, 1 January 2024 10:00\nTo: Support <s@helpdesk.example>"
LONG = "The printer on the second floor " * 6  # one unwrapped paragraph, as phones send it (192 characters)
LONGER = "The printer on the second floor " * 9  # 288: two of them are longer than any header


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # --- line endings and the edges of the text
        ("Hi,\r\nit works now.\r\n\r\n" + HEADER + "\r\n> old\r\n", "Hi,\nit works now."),
        ("    $ make install\nfails with error 2\n", "    $ make install\nfails with error 2"),
        ("X-ray results attached.\n\n" + HEADER + "\n> old", "X-ray results attached."),
        ("Fixed.\n> Is it fixed?", "Fixed."),
        (LONG.strip() + "\n", LONG.strip()),
        # --- quote headers: one line, wrapped, at the very end, with nothing quoted after them
        ("Thanks!\n\nBob wrote:\n> old", "Thanks!"),
        ("Thanks!\n\nBob Smith wrote:\n> old", "Thanks!"),
        ("Thanks!\n\nMary Ann Smith Jones wrote:\n> old", "Thanks!"),
        ("Thanks!\n\nMARY ANN SMITH JONES WROTE:\n> old", "Thanks!"),
        ("Thanks!\n\nDr Mary Ann Smith Jones wrote:\n> old", "Thanks!\n\nDr Mary Ann Smith Jones wrote:"),
        ("Thanks!\n\n" + HEADER, "Thanks!"),
        ("Thanks!\n\n" + HEADER + "\n\n", "Thanks!"),
        ("Thanks!\n\nOn Mon, 1 Jan 2024, Bob Smith\n<b@x.org> wrote:\n", "Thanks!"),
        ("Thanks!\n\nOn Mon, 1 Jan 2024 at 10:00, Bob Smith <b@example.org\n> wrote:\n> old", "Thanks!"),
        # a header wrapped over four lines is prose (headers wrap over three at most)
        ("Thanks.\n\nOn Monday 1 Jan 2024 the meeting\nwas moved, and\nlater the minutes\nwere what Bob wrote:",
         "Thanks.\n\nOn Monday 1 Jan 2024 the meeting\nwas moved, and\nlater the minutes\nwere what Bob wrote:"),
        # a line with a date above a blank line is not the start of the header below the blank
        ("Let's meet on Monday 2 Dec at 10:00\n\nBob Smith wrote:\n> Can we meet?",
         "Let's meet on Monday 2 Dec at 10:00"),
        # an answer right above a quoted header: the quote is not a second line of a header
        ("I agree, 2 weeks is fine\n> On Mon, Bob wrote:\n> old", "I agree, 2 weeks is fine"),
        # two long paragraph lines are never joined into a header
        (LONG + "\n" + LONG + "\n" + HEADER + "\n> old", LONG + "\n" + LONG),
        (LONGER + "\n" + LONGER + "\n" + HEADER + "\n> old", LONGER + "\n" + LONGER),
        # --- Gmail's dated headers: a date, then an address, a GMT offset or a colon
        ("Thanks!\n\n2016-03-03 17:21 Some One <a@b.c>\n> old", "Thanks!"),
        ("Thanks!\n\n2016-03-03 17:21 GMT+01:00 Some One\n> old", "Thanks!"),
        ("Thanks!\n\n2016-03-03 17:21 Some One:\n> old", "Thanks!"),
        ("Thanks!\n\n2016-03-03 was the release date\n> old", "Thanks!\n\n2016-03-03 was the release date"),
        # --- inline and bottom-posted replies
        ("Hi Bob,\n\n" + HEADER + "\n\n> Is it fixed?\n\nYes, since this morning.",
         "Hi Bob,\n\n\n> Is it fixed?\n\nYes, since this morning."),
        ("Hi,\n\n" + HEADER + "\n  > Is it fixed?\n  > And the fax?\n\nYes, both.",
         "Hi,\n\n  > Is it fixed?\n  > And the fax?\n\nYes, both."),
        (HEADER + "\n  > Is it fixed?\n\nYes.", "Yes."),
        (HEADER + "\n> Is it fixed?\n> And the fax?\nYes, both.", "Yes, both."),
        (HEADER + "\nThe reply text", "The reply text"),
        # a header after a code block: the code was the reply
        ("```\n$ lpstat -p\n```\n" + HEADER + "\nolder unquoted text", "```\n$ lpstat -p\n```"),
        # history after the quote (a signature, a rule, an older message) makes it history, not an inline reply
        ("Thanks\n\n" + HEADER + "\n> old\n__________\nBob's signature", "Thanks"),
        ("Thanks\n\n" + HEADER + "\n> old\n=====\nACME Corp", "Thanks"),
        ("Thanks\n\n" + HEADER + "\n> old\n=====\n" + "old footer\n" * 13, "Thanks"),
        ("Thanks\n\n" + HEADER + "\n> old\n-----Original Message-----\nolder", "Thanks"),
        ("Thanks\n\n" + HEADER + "\n> old question\nSent from my iPhone\nBob Smith", "Thanks"),
        # --- forwards at the top: the forwarded text without its header block
        ("---------- Forwarded message ---------\nFrom: Bob <b@x.org>\n\nPlease see below.", "Please see below."),
        ("Begin forwarded message:\n\nFrom: Bob <b@x.org>\n\nThe printer is on fire.", "The printer is on fire."),
        ("Begin forwarded message:\n\nFrom: Bob <b@x.org>\nSubject: fire\n\nThe printer is on fire.",
         "The printer is on fire."),
        # a forward with nothing forwarded comes back whole rather than empty
        ("---------- Forwarded message ---------\n\n", "---------- Forwarded message ---------"),
        ("---------- Forwarded message ---------\nFrom: a@x.org\nTo: b@x.org",
         "---------- Forwarded message ---------\nFrom: a@x.org\nTo: b@x.org"),
        # --- Outlook header blocks: From: and two more fields within six lines
        ("Thanks\n\n" + OUTLOOK + "\nSubject: x\n\nold", "Thanks"),
        ("Thanks\n\nFrom: Bob Smith\n\nSent: Monday\n\nTo: Alice\n\nSubject: x\n\nold", "Thanks"),
        ("Thanks\n\nFrom: Bob\nSent: Monday\nTo: Alice\n\nold", "Thanks"),
        ("Thanks\n\nFrom: Bob\nDate: Monday\n\nold", "Thanks\n\nFrom: Bob\nDate: Monday\n\nold"),
        ("To: the team\nFrom: Bob\nSent: Monday 10:00\n\nPlease read.",
         "To: the team\nFrom: Bob\nSent: Monday 10:00\n\nPlease read."),
        ("From: our side nothing changed.\nRegards, Ann", "From: our side nothing changed.\nRegards, Ann"),
        ("Thanks\n\nFrom: Bob Smith\n<b@x.org>\non behalf of\nACME\nSales\nSent: Monday\nTo: Alice\n\nold", "Thanks"),
        ("Thanks\n\nFrom: Bob Smith\n<b@x.org>\non behalf of\nACME\nSales\nEMEA\nSent: Monday\nTo: Alice",
         "Thanks\n\nFrom: Bob Smith\n<b@x.org>\non behalf of\nACME\nSales\nEMEA\nSent: Monday\nTo: Alice"),
        # the rule Outlook draws above its block goes with it
        ("Hi\n\nThanks\n----------\n\n" + OUTLOOK + "\nSubject: x\n\n" + "old line\n" * 12, "Hi\n\nThanks"),
        # --- a rule starts a footer only when little follows it
        ("Thanks\n\n-----\n" + "footer line\n" * 12, "Thanks"),
        ("Thanks\n\n-----\n" + "footer line\n" * 13, "Thanks\n\n-----\n" + "footer line\n" * 12 + "footer line"),
        ("Thanks\n\n-----\n" + "footer line\n" * 7, "Thanks"),
    ],
)
def test_what_the_agent_sees_first(text: str, expected: str) -> None:
    assert strip_reply(text) == expected


@pytest.mark.parametrize("text", ["-- \nMalcolm X\n", "  > only quoted\n"])
def test_nothing_left_gives_the_input_back(text: str) -> None:
    assert strip_reply(text) == text.strip("\n")


@pytest.mark.parametrize("text", ["\n\n", "   ", ""])
def test_a_blank_text_comes_back_as_it_was(text: str) -> None:
    assert strip_reply(text) == text
