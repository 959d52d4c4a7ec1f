"""html_to_text: readable text, never markup."""

from __future__ import annotations

from tui_helpdesk.mail.html_text import html_to_text


def test_paragraphs_lists_links_and_quotes() -> None:
    html = (
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<p>Hello <b>there</b>,</p><p>See <a href='https://example.org/a'>the docs</a>.</p>"
        "<ul><li>one</li><li>two</li></ul><blockquote>old<br>mail</blockquote>"
        "<script>alert('x')</script><p>Fish &amp; chips&nbsp;today</p></body></html>"
    )
    assert html_to_text(html) == (
        "Hello there,\n\nSee the docs <https://example.org/a>.\n\n- one\n- two\n\n> old\n> mail\n\nFish & chips today"
    )


def test_no_markup_or_hidden_content_survives() -> None:
    out = html_to_text(
        "<div style='display:none'>x</div><style>.a{}</style><script>var s='<b>';</script><i>ok</i>"
    )
    assert "<" not in out and "{" not in out and "var s" not in out
    assert out.endswith("ok")


def test_link_text_equal_to_target_is_not_repeated() -> None:
    assert html_to_text('<a href="https://x.org">https://x.org</a>') == "https://x.org"
    assert html_to_text('<a href="mailto:a@b.c">a@b.c</a>') == "a@b.c"


def test_pre_keeps_spacing_and_ordered_lists_number() -> None:
    out = html_to_text("<pre>  a\n    b</pre><ol><li>x</li><li>y</li></ol>")
    assert "  a\n    b" in out
    assert "1. x\n2. y" in out


def test_broken_html_does_not_raise() -> None:
    for html in ["<p>unclosed <b>bold", "<<<>>>", "<a href=", "</p></div>", "<!-- open comment", "\x00<p>x"]:
        assert isinstance(html_to_text(html), str)
