"""What everything in the staff chat shares: the desks that draw there (tickets, incidents,
ideas) start alike; the handlers take a person's message with its text and what it is about,
and answer it where it was written (in its topic, as a reply to it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Bot, Message, Update, User

from bot.core.services import Services
from bot.delivery.messaging import Messenger

T = TypeVar("T")


class Desk:
    """What draws in the staff chat: the services, the messenger, the bot, and the language
    staff read."""

    def __init__(self, services: Services, messenger: Messenger, bot: Bot) -> None:
        self.services = services
        self.messenger = messenger
        self.bot = bot
        self.language = services.settings.default_language


async def staff_message(
    update: Update, about: Callable[[Message], Awaitable[T | None]]
) -> tuple[Message, User, str, T] | None:
    """A person's message in the staff chat, its author, its text (or caption) and what it is
    about (``about(message)``: its ticket, its incident); None for a bot's message, an update
    without one, or a message about nothing ``about`` knows."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or user.is_bot:
        return None
    subject = await about(message)
    if subject is None:
        return None
    return message, user, message.text or message.caption or "", subject


async def reply_here(messenger: Messenger, message: Message, html_text: str) -> None:
    """Answer a staff-chat message in its topic (if it is in one), as a reply to it."""
    await messenger.send(
        message.chat_id,
        html_text,
        thread_id=message.message_thread_id if message.is_topic_message else None,
        reply_to=message.message_id,
    )
