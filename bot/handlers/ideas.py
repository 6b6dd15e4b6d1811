"""The idea board in the chat, for customers: share, vote, discuss and see.

Staff and managers moving ideas through statuses: ``bot.handlers.idea_staff``.
"""

from __future__ import annotations

import contextlib
import logging
import re

from telegram import InlineKeyboardMarkup, Message, Update, User
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.core.services import Services
from bot.delivery.messaging import Messenger
from bot.domain import ideas as board
from bot.domain.outcomes import FeedbackOutcome
from bot.handlers.context import UpdateContext, private_only
from bot.handlers.idea_views import board_view, detail_view, similar_view
from bot.handlers.people import sender_of
from bot.staff_chat.ideas import IdeaDesk
from bot.telegram.buttons import on_button
from bot.telegram.callbacks import BoardPage, SimilarChoice, Vote
from bot.telegram.text import escape
from storage.models import IdeaStatus

log = logging.getLogger(__name__)

_PRIVATE = filters.ChatType.PRIVATE
# The first line of an idea's detail message; a reply to it is a comment on that idea.
_DETAIL_HEADER = re.compile(r"^💡 #(\d+) ·")


class _ReplyToIdea(filters.MessageFilter):
    """A customer's text replying to the bot's message about one idea."""

    def filter(self, message: Message) -> bool:
        replied = message.reply_to_message
        return bool(
            replied is not None
            and replied.from_user is not None
            and replied.from_user.is_bot
            and _DETAIL_HEADER.match(replied.text or "")
        )


class IdeaHandlers:
    """Handlers of the idea board."""

    def __init__(
        self,
        services: Services,
        messenger: Messenger,
        desk: IdeaDesk,
    ) -> None:
        self.services = services
        self.messenger = messenger
        self.desk = desk

    def register(self, application: Application) -> None:
        """Add the handlers (before the customers' catch-all feedback handler)."""
        t = _PRIVATE & filters.TEXT & ~filters.COMMAND
        application.add_handler(MessageHandler(t & _ReplyToIdea(), self.on_reply_comment))
        application.add_handler(CommandHandler("ideas", self.ideas, filters=_PRIVATE))
        application.add_handler(CommandHandler("idea", self.idea, filters=_PRIVATE))
        application.add_handler(CommandHandler("comment", self.comment, filters=_PRIVATE))
        refuse = private_only(self.services)
        application.add_handler(on_button((Vote,), self.on_vote_button, not_allowed=refuse))
        application.add_handler(on_button((BoardPage,), self.on_page_button, not_allowed=refuse))
        application.add_handler(
            on_button((SimilarChoice,), self.on_similar_button, not_allowed=refuse)
        )

    # A new idea -----------------------------------------------------------------------------

    async def on_new_idea(self, outcome: FeedbackOutcome) -> None:
        """The idea is on the board: thank the customer and show it to staff for review."""
        t = self.services.catalog.t
        if not outcome.idea_created:
            text = t("idea.voted_for_similar", outcome.language, idea_id=outcome.idea_id)
            await self.messenger.send(outcome.chat_id, text, reply_to=outcome.message_id)
            return
        text = t("ack.idea", outcome.language, idea_id=outcome.idea_id)
        await self.messenger.send(outcome.chat_id, text, reply_to=outcome.message_id)
        detail = await board.idea_detail(self.services, outcome.idea_id or 0)
        if detail is not None:
            await self.desk.post_idea(detail.idea, outcome.customer_name)

    async def offer_similar(self, outcome: FeedbackOutcome) -> None:
        """Show the customer ideas like theirs: vote for one, or post theirs anyway."""
        fid = outcome.feedback_id
        text, buttons = similar_view(
            self.services, outcome.language, outcome.similar, lambda iid: SimilarChoice(fid, iid)
        )
        await self.messenger.send(
            outcome.chat_id, text, reply_to=outcome.message_id, buttons=buttons
        )

    async def on_similar_button(
        self, update: Update, context: UpdateContext, choice: SimilarChoice
    ) -> None:
        """The customer votes for a similar idea, or posts theirs as new."""
        query, user = update.callback_query, update.effective_user
        assert query is not None and user is not None
        await query.answer()
        outcome = await board.settle_similar(
            self.services,
            feedback_id=choice.feedback_id,
            telegram_user_id=user.id,
            vote_for=choice.idea_id,
        )
        if outcome is None:  # a second press, or not their message
            return
        await self.messenger.drop_buttons(query.message)
        await self.on_new_idea(outcome)

    # Customers: board, detail, votes, comments ----------------------------------------------

    async def ideas(self, update: Update, context: UpdateContext) -> None:
        """/ideas [page]: the board, most voted first, with vote buttons."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        args = context.args or []
        page = int(args[0]) - 1 if args and args[0].isdigit() and int(args[0]) > 0 else 0
        text, buttons = await board_view(
            self.services, user, await context.customer_language(user), page
        )
        await self.messenger.send(chat.id, text, buttons=buttons)

    async def idea(self, update: Update, context: UpdateContext) -> None:
        """/idea N: one idea with its status history and comments."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        lang = await context.customer_language(user)
        args = context.args or []
        if len(args) != 1 or not args[0].lstrip("#").isdigit():
            await self.messenger.send(chat.id, self.services.catalog.t("idea.usage_idea", lang))
            return
        await self._send_detail(chat.id, user, int(args[0].lstrip("#")), lang)

    async def comment(self, update: Update, context: UpdateContext) -> None:
        """/comment N TEXT."""
        user, message = update.effective_user, update.effective_message
        if user is None or message is None:
            return
        parts = (message.text or "").split(maxsplit=2)
        if len(parts) < 3 or not parts[1].lstrip("#").isdigit():
            lang = await context.customer_language(user)
            await self.messenger.send(
                message.chat_id, self.services.catalog.t("idea.usage_comment", lang)
            )
            return
        await self._comment(context, message, user, int(parts[1].lstrip("#")), parts[2])

    async def on_reply_comment(self, update: Update, context: UpdateContext) -> None:
        """A reply to an idea's message is a comment on that idea."""
        user, message = update.effective_user, update.effective_message
        if user is None or message is None or message.reply_to_message is None:
            return
        found = _DETAIL_HEADER.match(message.reply_to_message.text or "")
        if found is None:
            return
        await self._comment(context, message, user, int(found.group(1)), message.text or "")

    async def on_vote_button(self, update: Update, context: UpdateContext, vote: Vote) -> None:
        """👍 or ↩️ under the board or an idea; the message is redrawn with the new count."""
        query, user = update.callback_query, update.effective_user
        assert query is not None and user is not None
        lang = await context.customer_language(user)
        result, _ = await board.vote(
            self.services, sender=sender_of(user), idea_id=vote.idea_id, up=vote.on
        )
        t = self.services.catalog.t
        toast = {
            board.VOTED: "idea.voted",
            board.UNVOTED: "idea.unvoted",
            board.ALREADY: "idea.already_voted",
            board.NOT_VOTED: "idea.unvoted",
            board.CLOSED: "idea.voting_closed",
        }.get(result)
        await query.answer(t(toast, lang) if toast else None)
        if result not in (board.VOTED, board.UNVOTED) or not isinstance(query.message, Message):
            return
        if vote.page is None:
            text, buttons = await detail_view(self.services, user, vote.idea_id, lang)
        else:
            text, buttons = await board_view(self.services, user, lang, vote.page)
        await self._redraw(query.message, text, buttons)

    async def on_page_button(self, update: Update, context: UpdateContext, turn: BoardPage) -> None:
        """‹ / › under the board."""
        query, user = update.callback_query, update.effective_user
        assert query is not None and user is not None
        await query.answer()
        if isinstance(query.message, Message):
            text, buttons = await board_view(
                self.services,
                user,
                await context.customer_language(user),
                turn.page,
            )
            await self._redraw(query.message, text, buttons)

    async def _redraw(
        self, message: Message, text: str, buttons: InlineKeyboardMarkup | None
    ) -> None:
        """The board or the idea drawn again with the new count (the same text: done)."""
        with contextlib.suppress(BadRequest):  # the message can no longer be edited
            await self.messenger.edit_text(
                message.chat_id, message.message_id, text, buttons=buttons
            )

    # Helpers --------------------------------------------------------------------------------

    async def _comment(
        self, context: UpdateContext, message: Message, user: User, idea_id: int, text: str
    ) -> None:
        t = self.services.catalog.t
        outcome = await board.comment(
            self.services, sender=sender_of(user), idea_id=idea_id, text=text.strip()
        )
        lang = outcome.language if outcome.idea else await context.customer_language(user)
        if outcome.status == board.MISSING:
            await self.messenger.send(message.chat_id, t("idea.not_found", lang, idea_id=idea_id))
            return
        if outcome.status == board.CLOSED:
            await self.messenger.send(
                message.chat_id, t("idea.comment_closed", lang, idea_id=idea_id)
            )
            return
        await self.messenger.send(
            message.chat_id,
            t("idea.commented", lang, idea_id=idea_id),
            reply_to=message.message_id,
        )
        staff_lang = self.services.settings.default_language
        await self.desk.tell(
            t(
                "staff_idea.comment",
                staff_lang,
                idea_id=idea_id,
                customer=escape(outcome.customer_name),
            ),
            body=text.strip(),
        )

    async def _send_detail(self, chat_id: int, user: User, idea_id: int, lang: str) -> None:
        text, buttons = await detail_view(self.services, user, idea_id, lang)
        await self.messenger.send(chat_id, text, buttons=buttons)


def status_of(raw: str) -> IdeaStatus | None:
    value = raw.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        status = IdeaStatus(value)
    except ValueError:
        return None
    return None if status == IdeaStatus.DUPLICATE else status
