"""A header and a customer's text as HTML messages, each within Telegram's limit: nothing is
cut, what does not fit goes on in the next message."""

from __future__ import annotations

from bot.telegram.text import MESSAGE_LIMIT, escape, split_plain, utf16_len

CONTINUED = "[…]"


def compose(header_html: str, body: str) -> list[str]:
    """HTML messages for a header and a user's text, each within Telegram's limit."""
    whole = f"{header_html}\n\n{escape(body)}" if body else header_html
    if utf16_len(whole) <= MESSAGE_LIMIT:
        return [whole]
    mark = utf16_len(CONTINUED) + 2
    first_room = MESSAGE_LIMIT - utf16_len(header_html) - 2 - mark
    pieces = _split_escaped(body, first_room, MESSAGE_LIMIT - 2 * mark)
    messages = [f"{header_html}\n\n{escape(pieces[0])} {CONTINUED}"]
    for index, piece in enumerate(pieces[1:], start=1):
        tail = f" {CONTINUED}" if index < len(pieces) - 1 else ""
        messages.append(f"{CONTINUED} {escape(piece)}{tail}")
    return messages


def _split_escaped(text: str, first_room: int, room: int) -> list[str]:
    """Split raw text so that each piece, once escaped, fits its room."""
    pieces: list[str] = []
    rest = text
    limit = first_room
    while rest:
        candidate = split_plain(rest, limit)[0]
        while utf16_len(escape(candidate)) > limit:
            candidate = split_plain(candidate, max(1, utf16_len(candidate) * 4 // 5))[0]
        pieces.append(candidate)
        rest = rest[len(candidate) :]
        limit = room
    return pieces or [""]
