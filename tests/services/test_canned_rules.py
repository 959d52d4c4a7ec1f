"""Canned responses: a body with an unknown variable is refused when saved; an insertion is spaced."""

from __future__ import annotations

import pytest

from tui_helpdesk.services import canned
from tui_helpdesk.services.admin import desk as admin_desk
from tui_helpdesk.services.errors import ValidationError


def test_saving_a_canned_response_refuses_an_unknown_variable_and_keeps_the_old_body(desk) -> None:
    with desk.tx() as tx:
        row = admin_desk.create_canned(tx, title="Hello", body="Hi %{recipient.name}")
    with pytest.raises(ValidationError, match=r"body: unknown variable %\{ticket.numbr\}"), desk.tx() as tx:
        admin_desk.update_canned(tx, row.id, body="About %{ticket.numbr}")
    with pytest.raises(ValidationError, match="recipient.nmae"), desk.tx() as tx:
        admin_desk.create_canned(tx, title="Other", body="Dear %{recipient.nmae}")
    assert [c.body for c in canned.list_for(desk.engine, None, None) if c.id == row.id] == ["Hi %{recipient.name}"]


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ("", "", "Snippet"),  # an empty body: no blank line at either edge
        ("Hello Bob,", "", "\n\nSnippet"),  # right after a line: a blank line between
        ("Hello Bob,\n", "", "\nSnippet"),  # on the next line already: one more newline, not two
        ("Hello Bob,\n\n", "\nRegards", "Snippet\n"),  # a blank line there already: never doubled
        ("", "Regards", "Snippet\n\n"),
    ],
)
def test_a_canned_insertion_is_set_apart_by_one_blank_line(before: str, after: str, expected: str) -> None:
    assert canned.spaced(before, "\nSnippet\n\n", after) == expected
