"""Markdown (the seed's subset) to Rich Text, for thread entries and the composer's preview.

Supported: headings, paragraphs, bold, italic, inline code, code blocks, bullet and numbered lists,
links (shown as the text followed by the address, so a link can never hide where it goes),
blockquotes and rules. HTML is never interpreted: markdown-it runs with `html` off, so a tag stays
literal text. Everything passes through `untrusted.clean` first, and the result is a `Text` object
built span by span, never a markup string, so `[bold]` in a body is shown as typed.
"""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from rich.style import Style
from rich.text import Text

from tui_helpdesk.untrusted import clean

HEADING = Style(bold=True, underline=True)
CODE = Style(color="bright_cyan", bgcolor="grey15")
LINK = Style(color="bright_blue", underline=True)
URL = Style(color="grey62")
QUOTE = Style(color="grey70", italic=True)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # commonmark without raw HTML: "<b>" and friends become plain text tokens
    return MarkdownIt("commonmark", {"html": False}).disable("image")


def render_plain(text: str) -> Text:
    """A body that is plain text (mail without Markdown): cleaned, shown as is."""
    return Text(clean(text).rstrip("\n"))


def render(text: str, body_format: str = "markdown") -> Text:
    """Markdown (or plain text when body_format is "text") as Rich Text, safe for a terminal."""
    if body_format != "markdown":
        return render_plain(text)
    source = clean(text)
    tokens = _parser().parse(source)
    return _Renderer().run(tokens)


class _Renderer:
    def __init__(self) -> None:
        self.out = Text()
        # one entry per open list: None for bullets, the next number for ordered lists
        self.lists: list[int | None] = []
        self.quote_depth = 0
        self.heading = False
        self.item_started = False

    def run(self, tokens: list[Token]) -> Text:
        for tok in tokens:
            handler = getattr(self, f"_{tok.type}", None)
            if handler is not None:
                handler(tok)
        self.out.rstrip()
        return self.out

    # --- blocks ---------------------------------------------------------------------------------

    def _prefix(self) -> str:
        return "│ " * self.quote_depth + "  " * max(len(self.lists) - 1, 0)

    def _block_gap(self) -> None:
        # one blank line between blocks, none inside a tight list item
        if self.out.plain and not self.out.plain.endswith("\n\n") and not self.lists:
            self.out.append("\n" if self.out.plain.endswith("\n") else "\n\n")

    def _line_start(self) -> None:
        if self.item_started:
            self.item_started = False
            return
        if self.out.plain and not self.out.plain.endswith("\n"):
            self.out.append("\n")
        prefix = self._prefix()
        if self.lists:
            prefix += "  "
        if prefix:
            self.out.append(prefix, QUOTE if self.quote_depth else "")

    def _heading_open(self, tok: Token) -> None:
        self._block_gap()
        self._line_start()
        self.heading = True

    def _heading_close(self, tok: Token) -> None:
        self.heading = False
        self.out.append("\n")

    def _paragraph_open(self, tok: Token) -> None:
        if not self.lists:
            self._block_gap()
        self._line_start()

    def _paragraph_close(self, tok: Token) -> None:
        self.out.append("\n")

    def _bullet_list_open(self, tok: Token) -> None:
        if not self.lists:
            self._block_gap()
        self.lists.append(None)

    def _ordered_list_open(self, tok: Token) -> None:
        if not self.lists:
            self._block_gap()
        start = tok.attrGet("start")
        self.lists.append(int(start) if start is not None else 1)

    def _bullet_list_close(self, tok: Token) -> None:
        self.lists.pop()
        if not self.lists:
            self.out.append("\n")

    _ordered_list_close = _bullet_list_close

    def _list_item_open(self, tok: Token) -> None:
        if self.out.plain and not self.out.plain.endswith("\n"):
            self.out.append("\n")
        kind = self.lists[-1]
        if kind is None:
            marker = "• "
        else:
            marker = f"{kind}. "
            self.lists[-1] = kind + 1
        self.out.append(self._prefix(), QUOTE if self.quote_depth else "")
        self.out.append(marker, "bold")
        self.item_started = True

    def _list_item_close(self, tok: Token) -> None:
        self.item_started = False

    def _blockquote_open(self, tok: Token) -> None:
        self._block_gap()
        self.quote_depth += 1

    def _blockquote_close(self, tok: Token) -> None:
        self.quote_depth -= 1

    def _fence(self, tok: Token) -> None:
        self._block_gap()
        for line in tok.content.rstrip("\n").split("\n"):
            self._line_start()
            self.out.append(" " + line + " ", CODE)
        self.out.append("\n")

    _code_block = _fence

    def _hr(self, tok: Token) -> None:
        self._block_gap()
        self.out.append("─" * 20 + "\n", "grey50")

    def _inline(self, tok: Token) -> None:
        styles: list[Style | str] = []
        if self.heading:
            styles.append(HEADING)
        if self.quote_depth:
            styles.append(QUOTE)
        href_stack: list[tuple[str, int]] = []
        for child in tok.children or []:
            t = child.type
            style = Style.combine(
                [Style.null(), *(s if isinstance(s, Style) else Style.parse(s) for s in styles)]
            )
            if t == "text":
                self.out.append(child.content, style)
            elif t == "code_inline":
                self.out.append(child.content, style + CODE)
            elif t in ("softbreak", "hardbreak"):
                # line breaks typed in a reply are meant (as in GitHub comments), so keep them
                self.out.append("\n")
                self._line_start()
            elif t == "strong_open":
                styles.append("bold")
            elif t == "em_open":
                styles.append("italic")
            elif t in ("strong_close", "em_close"):
                if styles:
                    styles.pop()
            elif t == "link_open":
                href_stack.append((str(child.attrGet("href") or ""), len(self.out.plain)))
                styles.append(LINK)
            elif t == "link_close":
                if styles:
                    styles.pop()
                if href_stack:
                    href, start = href_stack.pop()
                    shown = self.out.plain[start:]
                    # the address is always shown unless the text already is the address
                    if href and shown.strip() != href and f"mailto:{shown.strip()}" != href:
                        self.out.append(f" <{href}>", URL)
            elif t == "html_inline":  # not produced with html off; kept literal if ever enabled
                self.out.append(child.content, style)

    def _html_block(self, tok: Token) -> None:
        self._block_gap()
        self.out.append(tok.content.rstrip("\n") + "\n")
