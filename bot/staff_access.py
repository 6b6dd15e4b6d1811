"""Who may act on tickets: members of a configured staff chat, asked of Telegram and cached."""

from __future__ import annotations

import logging
import time

from telegram import Bot
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

log = logging.getLogger(__name__)

_MEMBER = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}


class StaffAccess:
    """Checks membership with getChatMember; answers are kept a few minutes."""

    def __init__(self, bot: Bot, staff_chats: frozenset[int], *, ttl: float = 300.0) -> None:
        self.bot = bot
        self.staff_chats = staff_chats
        self.ttl = ttl
        self._cache: dict[tuple[int, int], tuple[float, bool]] = {}

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        """Whether the user belongs to this staff chat (False for any other chat)."""
        if chat_id not in self.staff_chats:
            return False
        key = (chat_id, user_id)
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
            allowed = member.status in _MEMBER
        except TelegramError as exc:
            log.warning("could not check user %s in chat %s: %s", user_id, chat_id, exc)
            allowed = False
        self._cache[key] = (time.monotonic(), allowed)
        return allowed

    async def is_staff(self, user_id: int) -> bool:
        """Whether the user belongs to any staff chat."""
        for chat_id in sorted(self.staff_chats):
            if await self.is_member(chat_id, user_id):
                return True
        return False
