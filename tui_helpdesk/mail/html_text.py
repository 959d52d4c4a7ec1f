"""HTML mail as readable plain text.

Measured against html2text on the corpus's HTML parts (see benchmarks/mail_parse.py --html): this
converter is several times faster and emits no Markdown (html2text writes ``**bold**``, ``[text](url)``
and backslash escapes, which an agent would then read as literal punctuation). html2text stays a
dependency for other uses; mail bodies go through this module.

The output is text for a terminal, never markup: callers still pass it through ``untrusted.clean``.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

# Elements whose content is never meant to be read.
_SKIP = frozenset({"style", "script", "head", "title", "template", "noscript", "svg", "object", "iframe"})
_BLOCK = frozenset(
    {
        "address", "article", "aside", "center", "dd", "div", "dl", "dt", "fieldset", "figcaption",
        "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "main", "nav",
        "ol", "p", "section", "table", "tbody", "thead", "tfoot", "tr", "ul", "body", "html", "caption",
    }
)  # fmt: skip
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl", "hr"})
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "wbr", "source"})
_WS = re.compile(r"[ \t\r\n\f\v]+")
_MANY_BLANK = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_LINK_SCHEMES = ("http://", "https://", "mailto:", "ftp://")


class _TextBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip_depth = 0
        self.pre_depth = 0
        self.quote_depth = 0
        self.list_stack: list[list[int]] = []  # per open list: [is_ordered, counter]
        self.link_href: str | None = None
        self.link_text_start = 0
        self.at_line_start = True

    # -- output helpers -------------------------------------------------------------------------
    def _prefix(self) -> str:
        return "> " * self.quote_depth

    def _newline(self, count: int = 1) -> None:
        if not self.out:
            return  # no blank lines before the first text
        have = 0
        for chunk in reversed(self.out):
            stripped = chunk.rstrip("\n")
            have += len(chunk) - len(stripped)
            if stripped:
                break
        for _ in range(max(0, count - have)):
            self.out.append("\n")
        self.at_line_start = True

    def _write(self, text: str) -> None:
        if not text:
            return
        if self.at_line_start:
            text = text.lstrip(" ")
            if not text:
                return
            self.out.append(self._prefix())
            self.at_line_start = False
        self.out.append(text)

    # -- parser callbacks -----------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            if tag not in _VOID:
                self.skip_depth += 1
            return
        if self.skip_depth:
            return
        if tag == "br":
            self.out.append("\n")
            self.at_line_start = True
        elif tag == "blockquote":
            self._newline(2)
            self.quote_depth += 1
        elif tag == "pre":
            self._newline(2)
            self.pre_depth += 1
        elif tag in ("ul", "ol"):
            self._newline(1 if self.list_stack else 2)
            self.list_stack.append([tag == "ol", 0])
        elif tag == "li":
            self._newline(1)
            indent = "  " * max(0, len(self.list_stack) - 1)
            if self.list_stack and self.list_stack[-1][0]:
                self.list_stack[-1][1] += 1
                self._write(f"{indent}{self.list_stack[-1][1]}. ")
            else:
                self._write(f"{indent}- ")
        elif tag in ("td", "th"):
            self._write(" ")
        elif tag == "img":
            alt = _attr(attrs, "alt")
            if alt and alt.strip():
                self._write(f"[{_WS.sub(' ', alt).strip()}]")
        elif tag == "a":
            self.link_href = _attr(attrs, "href")
            self.link_text_start = len(self.out)
        elif tag in _BLOCK:
            self._newline(2 if tag in _PARAGRAPH else 1)
        if tag == "hr":
            self._write("-" * 20)
            self._newline(2)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            if tag not in _VOID and self.skip_depth:
                self.skip_depth -= 1
            return
        if self.skip_depth:
            return
        if tag == "blockquote":
            self.quote_depth = max(0, self.quote_depth - 1)
            self._newline(2)
        elif tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
            self._newline(2)
        elif tag in ("ul", "ol"):
            if self.list_stack:
                self.list_stack.pop()
            self._newline(1 if self.list_stack else 2)
        elif tag == "a":
            self._close_link()
        elif tag in _BLOCK or tag == "li":
            self._newline(2 if tag in _PARAGRAPH else 1)

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            lines = data.replace("\r\n", "\n").split("\n")
            for i, line in enumerate(lines):
                if i:
                    self.out.append("\n")
                    self.at_line_start = True
                if line:
                    if self.at_line_start:
                        self.out.append(self._prefix())
                        self.at_line_start = False
                    self.out.append(line)
            return
        self._write(_WS.sub(" ", data))

    def _close_link(self) -> None:
        href, self.link_href = self.link_href, None
        if not href:
            return
        href = href.strip()
        if not href.lower().startswith(_LINK_SCHEMES):
            return
        shown = "".join(self.out[self.link_text_start :]).strip()
        target = href[7:] if href.lower().startswith("mailto:") else href
        # A link whose text already is its address needs no repeat; one whose text differs shows the
        # real target, which is also how a reader spots a phishing link.
        if target.rstrip("/") and target.rstrip("/") not in shown:
            self._write(f" <{target}>" if shown else target)


def _attr(attrs: list[tuple[str, str | None]], name: str) -> str | None:
    for key, value in attrs:
        if key == name:
            return value
    return None


def html_to_text(markup: str) -> str:
    """Readable text for an HTML document or fragment. Never raises; never returns markup."""
    if not markup:
        return ""
    builder = _TextBuilder()
    try:
        builder.feed(markup)
        builder.close()
    except Exception:  # noqa: BLE001 - HTMLParser is lenient, but a mail body must never crash ingest
        # Last resort: drop anything tag-shaped and unescape what is left.
        return _fallback(markup)
    text = "".join(builder.out)
    text = text.replace("\u00a0", " ")
    lines = [line.rstrip() for line in text.split("\n")]
    text = _MANY_BLANK.sub("\n\n", "\n".join(lines))
    return text.strip("\n")


def _fallback(markup: str) -> str:
    text = re.sub(r"(?is)<(style|script)\b.*?</\1\s*>", " ", markup)
    text = re.sub(r"(?s)<[^>]*>", " ", text)
    return _WS.sub(" ", html.unescape(text)).strip()
