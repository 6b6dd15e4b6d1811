"""Who may act on tickets: members of a configured staff chat.

Telegram tells the bot at once when someone joins, leaves, is removed from or restricted in a
staff chat (``chat_member`` updates, sent to administrators that ask for them); those answers
replace what is cached. getChatMember is the fallback, and its answers are kept only a minute:
the bot may not be an administrator, and another instance may have had the update.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from telegram import Bot, ChatMember
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

log = logging.getLogger(__name__)

_MEMBER = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}

# How long a getChatMember answer (or a chat_member update) is trusted.
FALLBACK_TTL = 60.0


def is_full_member(member: ChatMember) -> bool:
    """Whether this status lets someone act as staff (restricted members may not)."""
    return member.status in _MEMBER


class StaffAccess:
    """Checks membership from chat_member updates, else with getChatMember; cached briefly."""

    def __init__(
        self,
        bot: Bot,
        staff_chats: frozenset[int],
        *,
        ttl: float = FALLBACK_TTL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bot = bot
        self.staff_chats = staff_chats
        self.ttl = ttl
        self._monotonic = monotonic
        self._cache: dict[tuple[int, int], tuple[float, bool]] = {}

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        """Whether the user belongs to this staff chat (False for any other chat)."""
        if chat_id not in self.staff_chats:
            return False
        key = (chat_id, user_id)
        cached = self._cache.get(key)
        if cached is not None and self._monotonic() - cached[0] < self.ttl:
            return cached[1]
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
            allowed = is_full_member(member)
        except TelegramError as exc:
            log.warning("could not check user %s in chat %s: %s", user_id, chat_id, exc)
            allowed = False
        self._cache[key] = (self._monotonic(), allowed)
        return allowed

    async def is_staff(self, user_id: int) -> bool:
        """Whether the user belongs to any staff chat."""
        for chat_id in sorted(self.staff_chats):
            if await self.is_member(chat_id, user_id):
                return True
        return False

    def member_changed(self, chat_id: int, member: ChatMember) -> bool | None:
        """Telegram said the member's status changed: believe it at once. Returns whether
        they may now act as staff (None: not a staff chat, nothing recorded)."""
        if chat_id not in self.staff_chats:
            return None
        allowed = is_full_member(member)
        self._cache[(chat_id, member.user.id)] = (self._monotonic(), allowed)
        return allowed
