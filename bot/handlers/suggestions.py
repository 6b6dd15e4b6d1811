"""The idea inside a customer's care request or thank-you, offered for the idea board: one
message with two buttons, after the message's own acknowledgement. When ideas like it are on
the board already, that message then shows them: vote for one, or add it as new."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest
from telegram.ext import Application

from bot.core.services import Services
from bot.delivery.messaging import Messenger
from bot.domain import suggestions
from bot.domain.outcomes import FeedbackOutcome
from bot.domain.suggestions import SuggestionResult
from bot.handlers.context import UpdateContext, private_only
from bot.handlers.idea_views import similar_view
from bot.handlers.ideas import IdeaHandlers
from bot.telegram.buttons import on_button
from bot.telegram.callbacks import SuggestionChoice, encode
from bot.telegram.text import escape, shorten

log = logging.getLogger(__name__)

# The suggestion is quoted, not sent whole: a long message's idea fits in one message with
# its question (the board keeps it all).
_QUOTE_CHARS = 600


class SuggestionHandlers:
    """The offer and its two buttons."""

    def __init__(self, services: Services, messenger: Messenger, ideas: IdeaHandlers) -> None:
        self.services = services
        self.messenger = messenger
        self.ideas = ideas

    def register(self, application: Application) -> None:
        """Add the button handler."""
        application.add_handler(
            on_button((SuggestionChoice,), self.on_button, not_allowed=private_only(self.services))
        )

    async def offer(self, outcome: FeedbackOutcome) -> None:
        """Ask whether the suggestion in the message goes on the idea board."""
        if outcome.suggestion is None:
            return
        text, buttons = self._offer_view(outcome.language, outcome.feedback_id, outcome.suggestion)
        await self.messenger.send(
            outcome.chat_id, text, reply_to=outcome.message_id, buttons=buttons
        )

    def _offer_view(self, lang: str, fid: int, suggestion: str) -> tuple[str, InlineKeyboardMarkup]:
        """The offer: the suggestion quoted, "add it" and "no, thanks"."""
        t = self.services.catalog.t
        add, no = SuggestionChoice("add", fid), SuggestionChoice("no", fid)
        row = [
            InlineKeyboardButton(t("suggestion.button_add", lang), callback_data=encode(add)),
            InlineKeyboardButton(t("suggestion.button_no", lang), callback_data=encode(no)),
        ]
        text = t("suggestion.offer", lang, text=_quote(suggestion))
        return text, InlineKeyboardMarkup([row])

    def _similar_view(
        self, lang: str, fid: int, result: SuggestionResult
    ) -> tuple[str, InlineKeyboardMarkup]:
        """The suggestion quoted, then the ideas like it: vote for one, or add it as new; no
        ideas like it any more: the offer again."""
        if not result.similar:
            return self._offer_view(lang, fid, result.suggestion)
        text, buttons = similar_view(
            self.services,
            lang,
            result.similar,
            lambda iid: (
                SuggestionChoice("new", fid) if iid is None else SuggestionChoice("vote", fid, iid)
            ),
        )
        quoted = self.services.catalog.t("suggestion.yours", lang, text=_quote(result.suggestion))
        return f"{quoted}\n\n{text}", buttons

    async def on_button(
        self, update: Update, context: UpdateContext, choice: SuggestionChoice
    ) -> None:
        """Add it (once) and say where it is, show the ideas like it first, vote for one of
        them instead, or leave it off the board; and say so."""
        query, user = update.callback_query, update.effective_user
        assert query is not None and user is not None
        t = self.services.catalog.t
        result = await self._press(choice, user.id)
        lang = result.language or await context.customer_language(user)
        if result.status == suggestions.NOT_YOURS:
            await query.answer(t("suggestion.not_yours", lang), show_alert=True)
            return
        if result.status == suggestions.GONE:
            await query.answer(t("suggestion.gone", lang), show_alert=True)
            await self.messenger.drop_buttons(query.message)
            return
        if result.status == suggestions.ALREADY:
            await query.answer(t("suggestion.already", lang, idea_id=result.idea_id))
            await self.messenger.drop_buttons(query.message)
            return
        if result.status == suggestions.CLOSED:
            # The idea cannot take votes any more: its button goes, the other choices stay.
            await query.answer(t("suggestion.closed", lang, idea_id=result.idea_id))
            await self._redraw(query.message, *self._similar_view(lang, choice.feedback_id, result))
            return
        await query.answer()
        if result.status == suggestions.DECLINED:
            await self._redraw(query.message, t("suggestion.declined", lang))
            return
        if result.status == suggestions.SIMILAR:
            await self._redraw(query.message, *self._similar_view(lang, choice.feedback_id, result))
            return
        if result.status == suggestions.VOTED:
            await self._redraw(
                query.message, t("idea.voted_for_similar", lang, idea_id=result.idea_id)
            )
            return
        idea = result.idea
        assert idea is not None and idea.id is not None
        text = t("suggestion.added", lang, idea_id=idea.id, text=_quote(idea.text))
        await self._redraw(query.message, text)
        await self.ideas.desk.post_idea(idea, result.customer_name)

    async def _press(self, choice: SuggestionChoice, telegram_user_id: int) -> SuggestionResult:
        fid, who = choice.feedback_id, telegram_user_id
        match choice.action:
            case "no":
                return await suggestions.decline_suggestion(
                    self.services, feedback_id=fid, telegram_user_id=who
                )
            case "vote" if choice.idea_id is not None:
                return await suggestions.vote_for_similar(
                    self.services, feedback_id=fid, telegram_user_id=who, idea_id=choice.idea_id
                )
            case "add" | "new":  # "new": the customer has seen the similar ones
                return await suggestions.accept_suggestion(
                    self.services,
                    feedback_id=fid,
                    telegram_user_id=who,
                    check_similar=choice.action == "add",
                )
        raise ValueError(f"no such suggestion choice: {choice!r}")

    async def _redraw(
        self, message: object, text: str, buttons: InlineKeyboardMarkup | None = None
    ) -> None:
        """The offer becomes its answer (without buttons, unless given); a message too old to
        edit gets the answer as a new one."""
        if not isinstance(message, Message):
            return
        try:
            await self.messenger.edit_text(
                message.chat_id, message.message_id, text, buttons=buttons
            )
        except BadRequest as exc:
            log.info("offer %s not edited (%s): answered anew", message.message_id, exc)
            await self.messenger.send(message.chat_id, text, buttons=buttons)


def _quote(text: str) -> str:
    return escape(shorten(text, _QUOTE_CHARS))
