"""Parsed stylesheets shared by every app in one process.

Textual parses every stylesheet anew for each App: its parse cache belongs to one Stylesheet, and a
screen that brings a CSS_PATH re-parses every source into a fresh one. `SharedStylesheet` keeps the
parsed rules in one cache per process, so a later app in the process (a test worker starts ~190) parses
nothing an earlier one did; the app installs it in HelpdeskApp.__init__.
"""

from __future__ import annotations

import threading
from typing import Any

from textual.cache import LRUCache
from textual.css.model import RuleSet
from textual.css.stylesheet import CSSLocation, Stylesheet

# Parsed rules by (theme variables, CSS text, where it was read from, default or not, tie breaker, scope):
# the text itself is in the key, so an edited .tcss file is parsed again; 256 sources hold every sheet
# and widget DEFAULT_CSS the app has (~110) under a few themes.
_PARSED: LRUCache[tuple[Any, ...], list[RuleSet]] = LRUCache(256)
_PARSED_LOCK = threading.Lock()


class SharedStylesheet(Stylesheet):
    """Textual's Stylesheet, its parsed rules shared by every app in the process.

    The rule sets are only read after parsing (matched and their styles copied into each node), as
    Textual's own per-stylesheet cache already relies on; a different theme is a different key.
    """

    def __init__(self, *, variables: dict[str, str] | None = None) -> None:
        super().__init__(variables=variables)
        self._variables_key: tuple[tuple[str, str], ...] | None = None

    def set_variables(self, variables: dict[str, str]) -> None:
        super().set_variables(variables)
        self._variables_key = None

    def _parse_rules(
        self,
        css: str,
        read_from: CSSLocation,
        is_default_rules: bool = False,
        tie_breaker: int = 0,
        scope: str = "",
    ) -> list[RuleSet]:
        if self._variables_key is None:
            self._variables_key = tuple(sorted(self._variables.items()))
        key = (self._variables_key, css, read_from, is_default_rules, tie_breaker, scope)
        with _PARSED_LOCK:
            rules = _PARSED.get(key)
        if rules is None:
            rules = super()._parse_rules(css, read_from, is_default_rules, tie_breaker, scope)
            with _PARSED_LOCK:
                _PARSED[key] = rules
        return rules

    def reparse(self) -> None:
        # Textual re-parses into a fresh plain Stylesheet (when a screen brings its CSS_PATH, or the
        # theme changes); this is its reparse with the fresh one sharing the cache.
        fresh = SharedStylesheet(variables=self._variables)
        for read_from, (css, is_defaults, tie_breaker, scope) in self.source.items():
            fresh.add_source(
                css, read_from=read_from, is_default_css=is_defaults, tie_breaker=tie_breaker, scope=scope
            )
        try:
            fresh.parse()
        except Exception:
            self._invalid_css.update(fresh._invalid_css)
            raise
        self._rules = fresh.rules
        self._rules_map = None
        self.source = fresh.source
        self._require_parse = False

    def copy(self) -> Stylesheet:
        stylesheet = SharedStylesheet(variables=self._variables.copy())
        stylesheet.source = self.source.copy()
        return stylesheet
