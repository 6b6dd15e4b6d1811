"""Who sent an update, as the domain sees them."""

from __future__ import annotations

from telegram import User

from bot.domain.feedback import Sender


def sender_of(user: User) -> Sender:
    """The domain's view of a Telegram user."""
    return Sender(
        telegram_user_id=user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
    )
