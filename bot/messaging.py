"""Outgoing messages: one place that talks to the Bot API for sending, splitting long texts."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Bot, InlineKeyboardMarkup, ReplyParameters
from telegram.constants import ParseMode

from bot.telegram_text import MESSAGE_LIMIT, escape, split_plain, utf16_len

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Sent:
    """Where a message landed."""

    chat_id: int
    message_id: int


class Messenger:
    """Sends HTML messages; user text is escaped by the caller through `body` arguments."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(
        self,
        chat_id: int,
        html_text: str,
        *,
        thread_id: int | None = None,
        reply_to: int | None = None,
        buttons: InlineKeyboardMarkup | None = None,
    ) -> Sent:
        """Send one HTML message (the caller keeps it under the limit)."""
        message = await self._bot.send_message(
            chat_id=chat_id,
            text=html_text,
            parse_mode=ParseMode.HTML,
            message_thread_id=thread_id,
            reply_parameters=(
                ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
                if reply_to
                else None
            ),
            reply_markup=buttons,
            disable_web_page_preview=True,
        )
        return Sent(chat_id=message.chat_id, message_id=message.message_id)

    async def send_with_body(
        self,
        chat_id: int,
        header_html: str,
        body: str,
        *,
        thread_id: int | None = None,
        reply_to: int | None = None,
        buttons: InlineKeyboardMarkup | None = None,
    ) -> Sent:
        """Send a header and a user's text; text too long for one message goes on in replies.

        Nothing is cut: the first message ends with a mark and the rest follows as replies to it.
        """
        pieces = compose(header_html, body)
        head = await self.send(
            chat_id, pieces[0], thread_id=thread_id, reply_to=reply_to, buttons=buttons
        )
        for piece in pieces[1:]:
            await self.send(chat_id, piece, thread_id=thread_id, reply_to=head.message_id)
        return head


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
