"""untrusted.clean / clean_line / safe_filename against hostile input."""

from __future__ import annotations

import pytest

from tui_helpdesk.untrusted import clean, clean_line, safe_filename

ESC = "\x1b"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (f"before{ESC}]0;owned title\x07after", "beforeafter"),  # OSC window title, BEL-terminated
        (f"x{ESC}]2;title{ESC}\\y", "xy"),  # OSC with ST terminator
        (f"{ESC}[2J{ESC}[Hcleared", "cleared"),  # clear screen, cursor home
        (f"{ESC}]8;;https://evil.example/{ESC}\\click me{ESC}]8;;{ESC}\\", "click me"),  # OSC 8 link
        ("\x9b31mred\x9b0m", "red"),  # 8-bit CSI
        ("\x9d0;title\x9cok", "ok"),  # 8-bit OSC with 8-bit ST
        (f"{ESC}P1$qm{ESC}\\dcs", "dcs"),  # DCS
        (f"{ESC}_app cmd{ESC}\\apc", "apc"),  # APC
        (f"{ESC}(Bcharset{ESC}7{ESC}c", "charset"),  # nF / Fp / Fs escapes
        ("bell\x07 back\x08space nul\x00 del\x7f", "bell backspace nul del"),
        ("abc\u202egnp.exe", "abcgnp.exe"),  # right-to-left override
        ("a\u2066b\u2069c\u202ad", "abcd"),  # isolates and embeddings
        ("line1\r\nline2\rline3\n", "line1\nline2\nline3\n"),
        ("tab\tkept\nnewline kept", "tab\tkept\nnewline kept"),
        (f"{ESC}]unterminated osc keeps its text", "unterminated osc keeps its text"),
        ("plain ünïcödé 😀 text", "plain ünïcödé 😀 text"),
    ],
)
def test_clean_removes_terminal_controls(raw: str, expected: str) -> None:
    assert clean(raw) == expected


def test_clean_leaves_no_control_character_behind() -> None:
    nasty = "".join(chr(c) for c in range(0, 0xA0)) + "\u202e\u2067" + f"{ESC}[1;31m{ESC}]0;t\x07"
    out = clean(nasty)
    assert all(ch in "\n\t" or (0x20 <= ord(ch) < 0x7F) or ord(ch) >= 0xA0 for ch in out)
    assert "\u202e" not in out and "\u2067" not in out and ESC not in out


def test_clean_line_folds_whitespace() -> None:
    assert clean_line(f"  Re: hello\r\n\tworld {ESC}[5mblink  ") == "Re: hello world blink"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Windows\\system32\\evil.dll", "evil.dll"),
        (".bashrc", "bashrc"),
        ("..", "attachment"),
        ("", "attachment"),
        (None, "attachment"),
        (f"{ESC}[31mred.txt", "red.txt"),
        ('what?<is>"this"|.pdf', "what__is__this__.pdf"),
        ("report\u202efdp.exe", "reportfdp.exe"),
        ("new\nline.txt", "new line.txt"),
    ],
)
def test_safe_filename(name: str | None, expected: str) -> None:
    assert safe_filename(name) == expected


def test_safe_filename_is_bounded_and_keeps_extension() -> None:
    long_name = "é" * 400 + ".pdf"
    out = safe_filename(long_name)
    assert out.endswith(".pdf")
    assert len(out.encode("utf-8")) <= 180
