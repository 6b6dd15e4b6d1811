"""Where the bot is and who is staff: strangers' groups are left and never answered; joins
and departures in the staff chats change staff rights at once.

These handlers run before all others (handler group -1): an update from a group that is not a
staff chat stops here, so no other handler can answer it.
"""

from __future__ import annotations

import logging

from telegram import Chat, ChatMember, ChatMemberRestricted, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    ChatMemberHandler,
    ContextTypes,
    TypeHandler,
)

from bot.core.services import Services
from bot.telegram.staff_access import StaffAccess

log = logging.getLogger(__name__)

GATE_GROUP = -1
_GROUPS = {ChatType.GROUP, ChatType.SUPERGROUP, ChatType.CHANNEL}
_IN_CHAT = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}


class MembershipHandlers:
    """The bot's own membership, staff chat membership, and silence in strangers' groups."""

    def __init__(self, services: Services, access: StaffAccess) -> None:
        self.services = services
        self.access = access
        self._ignored: set[int] = set()

    def register(self, application: Application) -> None:
        """Add the handlers to the application, ahead of every other handler."""
        application.add_handler(
            ChatMemberHandler(self.on_bot_membership, ChatMemberHandler.MY_CHAT_MEMBER),
            group=GATE_GROUP,
        )
        application.add_handler(
            ChatMemberHandler(self.on_member, ChatMemberHandler.CHAT_MEMBER), group=GATE_GROUP
        )
        application.add_handler(TypeHandler(Update, self.silence_strangers), group=GATE_GROUP)

    async def on_bot_membership(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The bot was added to (or removed from) a chat: it stays only in staff chats."""
        changed = update.my_chat_member
        if changed is None or not self._is_stranger(changed.chat):
            return
        if _is_in_chat(changed.new_chat_member):
            log.warning(
                "user %s added the bot to chat %s, which is not a staff chat: leaving it",
                changed.from_user.id,
                changed.chat.id,
            )
            try:
                await context.bot.leave_chat(changed.chat.id)
            except TelegramError as exc:
                log.warning("could not leave chat %s: %s", changed.chat.id, exc)
        raise ApplicationHandlerStop

    async def on_member(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Someone joined, left, was removed or restricted in a chat the bot administers."""
        changed = update.chat_member
        if changed is None:
            return
        if self._is_stranger(changed.chat):
            raise ApplicationHandlerStop
        allowed = self.access.member_changed(changed.chat.id, changed.new_chat_member)
        if allowed is not None:
            log.info(
                "user %s is now %s in staff chat %s: %s",
                changed.new_chat_member.user.id,
                changed.new_chat_member.status,
                changed.chat.id,
                "staff" if allowed else "not staff",
            )

    async def silence_strangers(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Nothing from a group that is not a staff chat reaches any other handler."""
        chat = update.effective_chat
        if chat is None or not self._is_stranger(chat):
            return
        if chat.id not in self._ignored:  # one line per chat and process, not one per message
            self._ignored.add(chat.id)
            log.info("ignoring updates from chat %s: not a staff chat", chat.id)
        raise ApplicationHandlerStop

    def _is_stranger(self, chat: Chat) -> bool:
        return chat.type in _GROUPS and chat.id not in self.services.settings.staff_chats


def _is_in_chat(member: ChatMember) -> bool:
    if isinstance(member, ChatMemberRestricted):
        return member.is_member
    return member.status in _IN_CHAT
