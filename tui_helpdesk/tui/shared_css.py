"""Parsed stylesheets, and the styles they give a node, shared by every app in one process.

Textual parses every stylesheet anew for each App: its parse cache belongs to one Stylesheet, and a
screen that brings a CSS_PATH re-parses every source into a fresh one. `SharedStylesheet` keeps the
parsed rules in one cache per process, so a later app in the process (a test worker starts ~190) parses
nothing an earlier one did; the app installs it in HelpdeskApp.__init__.

Styling a node (Stylesheet.apply: which rules match it and its ancestors, the most specific value of each
property) was then the largest part of a Pilot test's CPU (~25%): every widget of every screen, again
each time its focus or hover changes. What it works out depends only on the rules and, for the node and
each of its ancestors, on its type, id, classes and the pseudo classes the rules name; so it is kept per
process under exactly that, and a node styled like one before only gets the values set.
"""

from __future__ import annotations

import threading
from typing import Any

from textual.cache import LRUCache
from textual.css.model import RuleSet
from textual.css.styles import RulesMap
from textual.css.stylesheet import CSSLocation, Stylesheet
from textual.dom import DOMNode

# Parsed rules by (theme variables, CSS text, where it was read from, default or not, tie breaker, scope):
# the text itself is in the key, so an edited .tcss file is parsed again; 256 sources hold every sheet
# and widget DEFAULT_CSS the app has (~110) under a few themes.
_PARSED: LRUCache[tuple[Any, ...], list[RuleSet]] = LRUCache(256)
_PARSED_LOCK = threading.Lock()

# What apply() worked out, by (rules, path): the node flags it sets and the rules it gave (None: none
# matched, and Textual leaves the node's rules as they were). Styling happens on an app's thread; a process
# may run several apps' threads (tests), hence the lock. Bounded: the least recently used go first.
_APPLIED: LRUCache[tuple[Any, ...], tuple[tuple[bool, bool, bool, bool], RulesMap | None]] = LRUCache(16_384)
_APPLIED_LOCK = threading.Lock()

# One small token per distinct list of rule sets (the parsed rules are shared, so equal sheets have the
# same objects); the entry keeps the rule sets alive so their ids are not reused. Also the pseudo classes
# any of them names, in a fixed order: only those can change what matches.
_TOKENS: dict[tuple[int, ...], tuple[int, tuple[str, ...], list[RuleSet]]] = {}


class SharedStylesheet(Stylesheet):
    """Textual's Stylesheet, its parsed rules shared by every app in the process.

    The rule sets are only read after parsing (matched and their styles copied into each node), as
    Textual's own per-stylesheet cache already relies on; a different theme is a different key.
    """

    def __init__(self, *, variables: dict[str, str] | None = None) -> None:
        super().__init__(variables=variables)
        self._variables_key: tuple[tuple[str, str], ...] | None = None
        self._token_of: list[RuleSet] | None = None  # the rules list `_token` is for
        self._token: tuple[int, tuple[str, ...]] = (0, ())
        self._given: dict[int, RulesMap] = {}  # id(node) -> rules replace_rules was given in this apply

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

    def _rules_token(self) -> tuple[int, tuple[str, ...]]:
        rules = self.rules  # parses first if a source was added
        if self._token_of is not rules:
            ids = tuple(map(id, rules))
            with _PARSED_LOCK:
                entry = _TOKENS.get(ids)
                if entry is None:
                    pseudo = sorted(set().union(*(rule.pseudo_classes for rule in rules)))
                    entry = _TOKENS[ids] = (len(_TOKENS) + 1, tuple(pseudo), list(rules))
            self._token_of, self._token = rules, entry[:2]
        return self._token

    def apply(
        self, node: DOMNode, *, animate: bool = False, cache: dict[tuple[Any, ...], RulesMap] | None = None
    ) -> None:
        token, pseudo = self._rules_token()
        path: list[Any] = [token]
        walk: Any = node
        while isinstance(walk, DOMNode):
            has = walk.has_pseudo_class
            path.append((type(walk), walk._id, frozenset(walk._classes), tuple(p for p in pseudo if has(p))))
            walk = walk._parent
        key = tuple(path)
        with _APPLIED_LOCK:
            known = _APPLIED.get(key)
        if known is not None:
            flags, rules = known
            node._has_hover_style, node._has_focus_within, node._has_order_style, node._has_odd_or_even = flags
            if rules is not None:
                Stylesheet.replace_rules(node, rules, animate=animate)
            self._process_component_classes(node)
            return
        self._given.pop(id(node), None)
        super().apply(node, animate=animate, cache=cache)
        flags = (node._has_hover_style, node._has_focus_within, node._has_order_style, node._has_odd_or_even)
        with _APPLIED_LOCK:
            _APPLIED[key] = (flags, self._given.pop(id(node), None))

    def replace_rules(self, node: DOMNode, rules: RulesMap, animate: bool = False) -> None:  # type: ignore[override]
        # apply() calls it once for the node (before its component classes' virtual nodes): noted for the key
        self._given[id(node)] = rules
        Stylesheet.replace_rules(node, rules, animate=animate)

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
