"""Matched search words, shown in the text that matched them (the preview, the ticket screen)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text

from tui_helpdesk.services.search import spans

MATCH_STYLE = "bold black on yellow"


def highlight_terms(text: str | Text, terms: Iterable[str], style: str = MATCH_STYLE) -> Text:
    """`text` as rich Text with each word that starts with one of `terms` styled, accents and case
    ignored as the search ignores them ("cafe" marks "Café"). A str is taken as plain text, never
    markup; a Text keeps its own styles under the marks."""
    out = text.copy() if isinstance(text, Text) else Text(text)
    for start, end in spans(out.plain, tuple(terms)):
        out.stylize(style, start, end)
    return out
