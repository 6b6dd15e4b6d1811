"""The idea board for staff and managers: statuses and merges, by button or by command.

Every change is told once to the idea's proposer and each voter, in their language.
"""

from __future__ import annotations

import logging

from telegram import Message, Update, User
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from bot.core.services import Services
from bot.delivery.messaging import Messenger
from bot.domain import ideas as board
from bot.handlers.idea_views import preview
from bot.handlers.ideas import status_of
from bot.staff_chat.ideas import STATUS_ICONS, IdeaDesk
from bot.telegram.buttons import on_button
from bot.telegram.callbacks import IdeaStatusChange
from bot.telegram.staff_access import StaffAccess
from bot.telegram.text import escape
from storage.models import Idea, IdeaStatus

log = logging.getLogger(__name__)


class IdeaStaffHandlers:
    """Commands and buttons that move ideas on; only staff chat members and managers."""

    def __init__(
        self, services: Services, messenger: Messenger, desk: IdeaDesk, access: StaffAccess
    ) -> None:
        self.services = services
        self.messenger = messenger
        self.desk = desk
        self.access = access

    def register(self, application: Application) -> None:
        """Add the handlers to the application."""
        staff_chats = filters.Chat(chat_id=sorted(self.services.settings.staff_chats))
        where = staff_chats | filters.ChatType.PRIVATE
        application.add_handler(CommandHandler("status", self.status, filters=where))
        application.add_handler(CommandHandler("merge", self.merge, filters=where))
        application.add_handler(
            on_button(
                (IdeaStatusChange,),
                self.on_status_button,
                is_staff=self._may_move_id,
                not_allowed=lambda update: self.services.catalog.t(
                    "staff_idea.not_allowed", self.services.settings.default_language
                ),
            )
        )

    async def status(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/status N STATUS [note]."""
        allowed = await self._allowed_command(update)
        if allowed is None:
            return
        user, message, parts = allowed
        t, lang = self.services.catalog.t, self.services.settings.default_language
        status = status_of(parts[2]) if len(parts) >= 3 else None
        if len(parts) < 3 or not parts[1].lstrip("#").isdigit() or status is None:
            names = ", ".join(s.value for s in IdeaStatus if s != IdeaStatus.DUPLICATE)
            await self._answer(message, t("staff_idea.usage_status", lang, statuses=names))
            return
        note = parts[3].strip() if len(parts) > 3 else None
        await self._move(message, user, int(parts[1].lstrip("#")), status, note)

    async def merge(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/merge N INTO [note]: N is a duplicate of INTO; its votes move there."""
        allowed = await self._allowed_command(update)
        if allowed is None:
            return
        user, message, parts = allowed
        t, lang = self.services.catalog.t, self.services.settings.default_language
        ids = [p.lstrip("#") for p in parts[1:3]]
        if len(ids) < 2 or not all(i.isdigit() for i in ids):
            await self._answer(message, t("staff_idea.usage_merge", lang))
            return
        idea_id, into_id = int(ids[0]), int(ids[1])
        note = parts[3].strip() if len(parts) > 3 else None
        outcome = await board.merge(
            self.services, idea_id=idea_id, into_id=into_id, by=user.id, note=note
        )
        if outcome is None:
            await self._answer(
                message, t("staff_idea.cannot_merge", lang, idea_id=idea_id, target=into_id)
            )
            return
        render = {
            language: t(
                "idea.merged",
                language,
                idea_id=idea_id,
                target=into_id,
                text=escape(preview(outcome.target.text)),
            )
            for language in self.services.catalog.languages
        }
        told = await self.desk.notify(outcome.recipients, render)
        await self.desk.refresh(outcome.duplicate, 0)
        await self.desk.refresh(outcome.target, outcome.target_votes)
        await self._answer(
            message,
            t(
                "staff_idea.merged_done",
                lang,
                idea_id=idea_id,
                target=into_id,
                by=escape(user.first_name),
                gained=outcome.gained,
                told=told,
            ),
        )

    async def on_status_button(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, change: IdeaStatusChange
    ) -> None:
        """A status button under an idea's card in the staff chat."""
        query, user = update.callback_query, update.effective_user
        assert query is not None and user is not None
        status = status_of(change.status)
        await query.answer()
        if status is not None and isinstance(query.message, Message):
            await self._move(query.message, user, change.idea_id, status, None)

    # Helpers --------------------------------------------------------------------------------

    async def _move(
        self, where: Message, user: User, idea_id: int, status: IdeaStatus, note: str | None
    ) -> None:
        t, lang = self.services.catalog.t, self.services.settings.default_language
        outcome = await board.change_status(
            self.services, idea_id=idea_id, status=status, by=user.id, note=note
        )
        if outcome is None:
            await self._answer(where, t("idea.not_found", lang, idea_id=idea_id))
            return
        if isinstance(outcome, Idea):
            label = t(f"idea_status.{status}", lang)
            await self._answer(
                where, t("staff_idea.unchanged", lang, idea_id=idea_id, status=label)
            )
            return
        render = {
            language: t(
                "idea.status_changed",
                language,
                idea_id=idea_id,
                status=t(f"idea_status.{status}", language),
                text=escape(preview(outcome.idea.text)),
                note=t("idea.status_note", language, note=escape(note)) if note else "",
            )
            for language in self.services.catalog.languages
        }
        told = await self.desk.notify(outcome.recipients, render)
        await self.desk.refresh(outcome.idea, outcome.votes)
        await self._answer(
            where,
            t(
                "staff_idea.status_done",
                lang,
                status_icon=STATUS_ICONS[status],
                idea_id=idea_id,
                status=t(f"idea_status.{status}", lang),
                by=escape(user.first_name),
                told=told,
            ),
        )

    async def _allowed_command(self, update: Update) -> tuple[User, Message, list[str]] | None:
        """Who gave the command and its words, if they may move ideas; else refused, None."""
        user, message = update.effective_user, update.effective_message
        if user is None or message is None:
            return None
        if not await self._may_move(user):
            await self._refuse(message, user)
            return None
        return user, message, (message.text or "").split(maxsplit=3)

    async def _may_move(self, user: User) -> bool:
        return await self._may_move_id(user.id)

    async def _may_move_id(self, user_id: int) -> bool:
        return user_id in self.services.settings.manager_ids or await self.access.is_staff(user_id)

    async def _refuse(self, message: Message, user: User) -> None:
        log.warning("user %s tried to move an idea without being staff or manager", user.id)
        await self._answer(
            message,
            self.services.catalog.t(
                "staff_idea.not_allowed", self.services.catalog.language_for(user.language_code)
            ),
        )

    async def _answer(self, message: Message, html_text: str) -> None:
        """Answer where the command was given (in the same topic, if any)."""
        await self.messenger.send(
            message.chat_id,
            html_text,
            thread_id=message.message_thread_id if message.is_topic_message else None,
        )
