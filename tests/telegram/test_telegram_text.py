"""Telegram text helpers: escaping and the limit counted in UTF-16 units."""

from __future__ import annotations

from bot.telegram.text import escape, split_plain, utf16_len


def test_escape_makes_html_safe() -> None:
    assert escape("a < b & c > d") == "a &lt; b &amp; c &gt; d"
    assert escape('"quoted"') == '"quoted"'


def test_utf16_length_counts_emoji_twice() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("😀") == 2
    assert utf16_len("è") == 1


def test_split_keeps_every_character_and_respects_the_limit() -> None:
    text = ("parola " * 900) + "😀" * 700
    pieces = split_plain(text, 4096)
    assert "".join(pieces) == text
    assert all(utf16_len(p) <= 4096 for p in pieces)
    assert len(pieces) >= 2


def test_split_short_text_is_one_piece() -> None:
    assert split_plain("ciao", 4096) == ["ciao"]
    assert split_plain("", 4096) == [""]
