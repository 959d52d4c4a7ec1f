"""The queue's `/` free words search the whole ticket, and the preview marks the words found."""

from __future__ import annotations

import test_queue_fixtures
from rich.text import Text
from test_queue_fixtures import Desk, command, listed, pilot_test
from waiting import until

from tui_helpdesk.services import tickets
from tui_helpdesk.services.context import transaction
from tui_helpdesk.tui.highlight import MATCH_STYLE, highlight_terms
from tui_helpdesk.tui.widgets.preview import Preview
from tui_helpdesk.tui.widgets.ticket_list import TicketList

desk = test_queue_fixtures.desk  # the fixture, under its own name
SIZE = (120, 36)


def marked(text: Text) -> list[str]:
    return [text.plain[s.start : s.end] for s in text.spans if s.style == MATCH_STYLE]


def test_highlight_marks_words_by_prefix_without_accents_or_case() -> None:
    text = highlight_terms("Café au lait at the CAFETERIA; a decaf", ("cafe",))
    assert marked(text) == ["Caf\u00e9", "CAFE"]
    assert highlight_terms("[bold]x[/bold]", ("bold",)).plain == "[bold]x[/bold]"  # never markup


@pilot_test
async def test_slash_free_words_find_a_body_word_and_the_preview_marks_it(desk: Desk) -> None:
    target = desk.numbers[3]
    with transaction(desk.engine, desk.admin) as tx:
        tickets.reply(tx, target, "The flux capacitor was replaced on site.")
    app = desk.app()
    async with app.run_test(size=SIZE) as pilot:
        await listed(pilot)
        await pilot.press("p")
        await command(pilot, "capacitor", "slash")
        rows = lambda: [r.number for r in app.screen.query_one("#tickets", TicketList).loaded_rows()]  # noqa: E731
        await until(pilot, lambda: rows() == [target], "only the ticket whose reply says capacitor")
        preview = app.screen.query_one("#preview", Preview)
        await until(pilot, lambda: "capacitor" in marked(preview.shown), "the preview marking the word")
        assert "The flux capacitor was replaced" in preview.shown.plain
