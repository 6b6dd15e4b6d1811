"""Customers in a private chat: their messages taken in and answered, /start and /help.

What else customers do has its own module, registered from here: their tickets and ratings
(``customer_tickets``), their data (``customer_data``), the idea found inside a message
(``suggestions``); the idea board is ``ideas``, self-service answers ``answers``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from babel.dates import format_time
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    Application,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.core.batching import Batcher
from bot.core.services import Services
from bot.delivery.messaging import Messenger
from bot.domain import care
from bot.domain.feedback import (
    edit_feedback,
    expected_response_minutes,
    receive_feedback_many,
    register_customer,
)
from bot.domain.held import settle_kind
from bot.domain.outcomes import HELD_ASK, HELD_FLOOD, HELD_SIMILAR, FeedbackOutcome, IncomingMessage
from bot.handlers.answers import AnswerHandlers
from bot.handlers.context import UpdateContext, private_only
from bot.handlers.customer_data import CustomerDataHandlers
from bot.handlers.customer_tickets import CustomerTicketHandlers
from bot.handlers.ideas import IdeaHandlers
from bot.handlers.people import manager_guide, person_language, sender_of
from bot.handlers.suggestions import SuggestionHandlers
from bot.staff_chat.tickets import StaffDesk
from bot.telegram.buttons import on_button
from bot.telegram.callbacks import Forget, KindAnswer, Rating, encode
from bot.telegram.text import escape
from storage.models import format_incident_reference

PROMISE_FRESH = timedelta(seconds=30)

_PRIVATE = filters.ChatType.PRIVATE
_FEEDBACK = _PRIVATE & (
    (filters.TEXT & ~filters.COMMAND)
    | filters.PHOTO
    | filters.Document.ALL
    | filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
)


class CustomerHandlers:
    """Handlers for what customers send the bot."""

    def __init__(
        self,
        services: Services,
        messenger: Messenger,
        desk: StaffDesk,
        ideas: IdeaHandlers,
        answers: AnswerHandlers | None = None,
    ) -> None:
        self.services = services
        self.messenger = messenger
        self.desk = desk
        self.ideas = ideas
        self.answers = answers or AnswerHandlers(services, messenger, desk)
        self.tickets = CustomerTicketHandlers(services, messenger, desk)
        self.data = CustomerDataHandlers(services, messenger)
        self.suggestions = SuggestionHandlers(services, messenger, ideas)
        # Customers writing at the same time are triaged and stored together.
        inline = services.db.holds_writer_turn
        self._receive_feedback = Batcher(
            partial(receive_feedback_many, services), name="feedback", inline_when=inline
        )
        self._promise: tuple[datetime, int] | None = None
        self._take_rating_comment = Batcher(
            partial(care.take_rating_comments, services), name="rating-comment", inline_when=inline
        )

    def register(self, application: Application) -> None:
        """Add the handlers to the application."""
        commands = {
            "start": self.start,
            "help": self.help,
            "mytickets": self.tickets.my_tickets,
            "rate": self.tickets.rate_command,
            "privacy": self.data.privacy,
            "mydata": self.data.my_data,
            "forget": self.data.forget,
        }
        for name, callback in commands.items():
            application.add_handler(CommandHandler(name, callback, filters=_PRIVATE))
        application.add_handler(
            MessageHandler(filters.UpdateType.EDITED_MESSAGE & _PRIVATE, self.on_edit)
        )
        application.add_handler(
            MessageHandler(filters.UpdateType.MESSAGE & _FEEDBACK, self.on_message)
        )
        refuse = private_only(self.services)
        application.add_handler(on_button((KindAnswer,), self.on_kind_button, not_allowed=refuse))
        application.add_handler(
            on_button((Rating,), self.tickets.on_rating_button, not_allowed=refuse)
        )
        application.add_handler(
            on_button((Forget,), self.data.on_forget_button, not_allowed=refuse)
        )
        self.suggestions.register(application)

    def register_fallback(self, application: Application) -> None:
        """Last of all handlers: whatever else a customer sends gets an answer, not silence."""
        application.add_handler(
            MessageHandler(_PRIVATE & filters.UpdateType.MESSAGE, self.on_unsupported)
        )

    async def on_unsupported(self, update: Update, context: UpdateContext) -> None:
        """A sticker, a location, an unknown command…: say what the bot understands."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        lang = await context.customer_language(user)
        key = "ack.unknown_command" if (message.text or "").startswith("/") else "ack.empty"
        await self.messenger.send(message.chat_id, self.services.catalog.t(key, lang))

    # Commands -------------------------------------------------------------------------------

    async def start(self, update: Update, context: UpdateContext) -> None:
        """Greet a customer in their language, with the privacy notice and what the bot does;
        a manager gets their commands instead (and, asking /help, what each number counts)."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        if user.id in self.services.settings.manager_ids:
            text = (update.effective_message.text or "") if update.effective_message else ""
            guide = manager_guide(
                self.services,
                await person_language(self.services, user.id),
                with_metrics=text.split("@")[0].strip().lower().startswith("/help"),
            )
            await self.messenger.send(chat.id, guide)
            return
        lang = await register_customer(self.services, sender_of(user))
        text = self.services.catalog.t(
            "start.greeting",
            lang,
            name=escape(user.first_name),
            team=escape(self.services.settings.team_name),
        )
        await self.messenger.send(chat.id, text)

    async def help(self, update: Update, context: UpdateContext) -> None:
        """/help: managers get their guide; customers search the answers (/help TEXT) or see
        the most used ones."""
        user = update.effective_user
        if user is None or user.id in self.services.settings.manager_ids:
            await self.start(update, context)
            return
        await self.answers.look_up(
            update, context, await register_customer(self.services, sender_of(user))
        )

    # Messages -------------------------------------------------------------------------------

    async def on_message(self, update: Update, context: UpdateContext) -> None:
        """Triage and store a customer's message, acknowledge it, and route care to staff."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        t = self.services.catalog.t
        incoming = _incoming(message)
        if not incoming.text.strip() and incoming.media_type is None:
            await self.messenger.send(message.chat_id, t("ack.empty", user.language_code))
            return
        if incoming.text.strip() and await self._take_rating_comment((user.id, incoming.text)):
            lang = await context.customer_language(user)
            await self.messenger.send(message.chat_id, t("rate.comment_thanks", lang))
            return
        outcome = await self._receive_feedback((sender_of(user), incoming))
        if outcome.held_for == HELD_FLOOD:
            if outcome.first_held:
                await self.messenger.send(message.chat_id, t("ack.flood", outcome.language))
            return
        if outcome.held_for == HELD_ASK:
            await self._ask_kind(outcome)
            return
        await self.deliver(outcome)

    async def deliver(self, outcome: FeedbackOutcome) -> None:
        """Acknowledge a routed message and pass it on: care to staff, ideas to the board; then
        offer the idea a care or other message holds, if any."""
        if outcome.held_for == HELD_SIMILAR:
            await self.ideas.offer_similar(outcome)
            return
        if outcome.idea_id is not None:
            await self.ideas.on_new_idea(outcome)
            return
        t = self.services.catalog.t
        lang = outcome.language
        if outcome.joined_incident and outcome.incident_since is not None:
            text = t(
                "ack.incident_known",
                lang,
                reference=outcome.reference,
                incident=format_incident_reference(outcome.incident_id or 0),
                since=format_time(
                    outcome.incident_since.astimezone(self.services.settings.zone),
                    "short",
                    locale=lang,
                ),
                count=outcome.incident_others,
            )
        elif outcome.ticket_id is not None and outcome.new_ticket:
            minutes = await self._expected_minutes()
            text = t("ack.care_new", lang, reference=outcome.reference, count=minutes)
        elif outcome.ticket_id is not None:
            text = t("ack.care_more", lang, reference=outcome.reference)
        else:
            text = t("ack.other", lang)
        # An incident's acknowledgement comes without suggestions: the fault is known.
        offer = None if outcome.incident_id else await self.answers.offer(outcome)
        if offer is not None:
            text, buttons = f"{text}\n\n{offer[0]}", offer[1]
        await self.messenger.send(
            outcome.chat_id,
            text,
            reply_to=outcome.message_id,
            buttons=buttons if offer is not None else None,
        )
        if outcome.ticket_id is not None:
            self.desk.work_waiting()  # staff hear of it from the courier, at their chat's pace
        # The idea inside it, after its own answer: the ticket is decided by the whole.
        await self.suggestions.offer(outcome)

    async def on_edit(self, update: Update, context: UpdateContext) -> None:
        """An edited message: update our copy and show staff the new text."""
        message = update.edited_message
        if message is None:
            return
        text = message.text or message.caption or ""
        copy = await edit_feedback(
            self.services, chat_id=message.chat_id, message_id=message.message_id, text=text
        )
        if copy is None or copy.staff_chat_id is None or copy.staff_message_id is None:
            return
        await self.messenger.send_with_body(
            copy.staff_chat_id,
            self.services.catalog.t("staff.edited", self.services.settings.default_language),
            text,
            reply_to=copy.staff_message_id,
        )

    # Buttons --------------------------------------------------------------------------------

    async def on_kind_button(
        self, update: Update, context: UpdateContext, answer: KindAnswer
    ) -> None:
        """The customer says what an unclear message is; it is routed accordingly."""
        query, user = update.callback_query, update.effective_user
        assert query is not None and user is not None
        await query.answer()
        outcome = await settle_kind(
            self.services,
            feedback_id=answer.feedback_id,
            telegram_user_id=user.id,
            kind=answer.kind,
        )
        if outcome is None:
            return
        await self.messenger.drop_buttons(query.message)
        await self.deliver(outcome)

    # Helpers --------------------------------------------------------------------------------

    async def _expected_minutes(self) -> int:
        """The answer time to promise, read at most every PROMISE_FRESH: in a burst every new
        ticket would ask the same median of a week's tickets again."""
        now = self.services.clock.now()
        if self._promise is None or now - self._promise[0] >= PROMISE_FRESH:
            self._promise = (now, await expected_response_minutes(self.services))
        return self._promise[1]

    async def _ask_kind(self, outcome: FeedbackOutcome) -> None:
        t = self.services.catalog.t
        lang = outcome.language
        fid = outcome.feedback_id
        buttons = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t("ask.care", lang), callback_data=encode(KindAnswer("care", fid))
                    )
                ],
                [
                    InlineKeyboardButton(
                        t("ask.idea", lang), callback_data=encode(KindAnswer("idea", fid))
                    )
                ],
                [
                    InlineKeyboardButton(
                        t("ask.other", lang), callback_data=encode(KindAnswer("other", fid))
                    )
                ],
            ]
        )
        await self.messenger.send(
            outcome.chat_id, t("ask.question", lang), reply_to=outcome.message_id, buttons=buttons
        )


def _incoming(message: Message) -> IncomingMessage:
    """The text (or caption) and media of a message."""
    media_type: str | None = None
    file_id: str | None = None
    if message.photo:
        media_type, file_id = "photo", message.photo[-1].file_id
    elif message.document:
        media_type, file_id = "document", message.document.file_id
    elif message.voice:
        media_type, file_id = "voice", message.voice.file_id
    elif message.audio:
        media_type, file_id = "audio", message.audio.file_id
    elif message.video:
        media_type, file_id = "video", message.video.file_id
    return IncomingMessage(
        chat_id=message.chat_id,
        message_id=message.message_id,
        text=message.text or message.caption or "",
        media_type=media_type,
        media_file_id=file_id,
    )
