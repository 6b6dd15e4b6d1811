"""Text for Telegram: HTML escaping and the 4,096-character limit, counted as Telegram counts."""

from __future__ import annotations

import html

MESSAGE_LIMIT = 4096


def escape(text: str) -> str:
    """User text made safe for parse_mode=HTML: one stray '<' would make Telegram reject it."""
    return html.escape(text, quote=False)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def split_plain(text: str, limit: int) -> list[str]:
    """Split plain text into pieces of at most `limit` UTF-16 units, at line or word breaks."""
    pieces: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        cut = _prefix_fitting(rest, limit)
        window = rest[:cut]
        # Prefer a newline, then a space, in the last fifth of the window.
        for sep in ("\n", " "):
            at = window.rfind(sep)
            if at >= cut * 4 // 5:
                cut = at + 1
                break
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def _prefix_fitting(text: str, limit: int) -> int:
    """The number of characters of text that fit in limit UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def shorten(text: str, room: int) -> str:
    """The text on one line, cut to `room` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= room else flat[: room - 1] + "…"


def join_lines(lines: list[str], room: int = 3500) -> list[str]:
    """Lines joined into as few messages as fit `room` characters each (a line is never cut)."""
    pieces: list[str] = []
    current = ""
    for line in lines:
        if current and len(current) + len(line) + 1 > room:
            pieces.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        pieces.append(current)
    return pieces
