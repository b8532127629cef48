from pathscope.safe_text import clean, for_markup, truncate_line


def test_escape_sequences_are_removed():
    hostile = "a\x1b[31mred\x1b[0m b\x1b]0;pwned title\x07c \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ d"
    out = clean(hostile)
    assert "\x1b" not in out
    assert out == "ared bc link d"


def test_controls_become_visible_and_newlines_survive():
    out = clean("x\x00y\r\nz\tw\x07")
    assert out == "x\u2400y\nz\tw\ufffd"


def test_markup_is_escaped():
    out = for_markup("[bold red]boom[/] \\boxed{[1,2]}")
    from rich.text import Text

    assert Text.from_markup(out).plain == "[bold red]boom[/] \\boxed{[1,2]}"


def test_truncate_line():
    assert truncate_line("x" * 10, 5).startswith("xxxxx…")
    assert truncate_line("short") == "short"


def test_bidi_overrides_are_neutralised():
    out = clean("abc\u202edcba\u2066x\u2069")
    assert "\u202e" not in out and "\u2066" not in out and "\u2069" not in out
    assert out.startswith("abc") and "dcba" in out
