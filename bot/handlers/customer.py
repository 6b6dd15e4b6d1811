"""Customers in a private chat: feedback intake, their tickets, ratings and their data."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from functools import partial

from babel.dates import format_time
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.error import BadRequest
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
    HELD_ASK,
    HELD_FLOOD,
    HELD_SIMILAR,
    FeedbackOutcome,
    IncomingMessage,
    expected_response_minutes,
    known_customer,
    receive_feedback_many,
    settle_kind,
)
from bot.handlers.answers import AnswerHandlers
from bot.handlers.context import UpdateContext, private_only
from bot.handlers.ideas import IdeaHandlers
from bot.handlers.people import manager_guide, person_language, sender_of
from bot.staff_chat.tickets import StaffDesk
from bot.telegram.buttons import on_button
from bot.telegram.callbacks import Forget, KindAnswer, Rating, encode
from bot.telegram.text import escape
from storage.customers import get_customer_by_telegram_id
from storage.feedback import find_feedback_by_message, mark_edited
from storage.models import format_incident_reference
from storage.privacy import (
    StaffTopic,
    erase_chat_copies,
    export_customer_data,
    forget_customer,
)
from storage.tickets import customer_tickets, find_customer_message

log = logging.getLogger(__name__)

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
            "mytickets": self.my_tickets,
            "rate": self.rate_command,
            "privacy": self.privacy,
            "mydata": self.my_data,
            "forget": self.forget,
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
        application.add_handler(on_button((Rating,), self.on_rating_button, not_allowed=refuse))
        application.add_handler(on_button((Forget,), self.on_forget_button, not_allowed=refuse))

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
        lang = await self._register(user)
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
        await self.answers.look_up(update, context, await self._register(user))

    async def privacy(self, update: Update, context: UpdateContext) -> None:
        """What is stored, why, and how to see or erase it."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        await self.messenger.send(
            chat.id,
            self.services.catalog.t("privacy.notice", await context.customer_language(user)),
        )

    async def my_tickets(self, update: Update, context: UpdateContext) -> None:
        """The customer's tickets and where each stands."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        t = self.services.catalog.t
        lang = await context.customer_language(user)
        async with self.services.db.session() as session:
            customer = await get_customer_by_telegram_id(session=session, telegram_user_id=user.id)
            tickets = (
                await customer_tickets(session=session, customer_id=customer.id or 0)
                if customer
                else []
            )
        if not tickets:
            await self.messenger.send(chat.id, t("tickets.none", lang))
            return
        zone = self.services.settings.zone
        lines = [t("tickets.title", lang)]
        for ticket in tickets:
            lines.append(
                t(
                    f"tickets.{ticket.status}",
                    lang,
                    reference=ticket.reference,
                    opened=ticket.opened_at.astimezone(zone).strftime("%d/%m %H:%M"),
                    topic=ticket.topic,
                    answered="✓" if ticket.first_response_at else "…",
                )
            )
        await self.messenger.send(chat.id, "\n".join(lines))

    async def rate_command(self, update: Update, context: UpdateContext) -> None:
        """/rate: how satisfied is the customer with the service, 1 to 5."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        lang = await self._register(user)
        stars = [
            InlineKeyboardButton(f"{score} ⭐", callback_data=encode(Rating(0, score)))
            for score in range(1, 6)
        ]
        await self.messenger.send(
            chat.id,
            self.services.catalog.t("rate.ask", lang),
            buttons=InlineKeyboardMarkup([stars]),
        )

    async def my_data(self, update: Update, context: UpdateContext) -> None:
        """Everything stored about the customer, as a JSON file."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        lang = await context.customer_language(user)
        async with self.services.db.session() as session:
            customer = await get_customer_by_telegram_id(session=session, telegram_user_id=user.id)
            data = (
                await export_customer_data(
                    session=session,
                    customer=customer,
                    show_staff_names=self.services.settings.show_staff_names,
                )
                if customer
                else {"customer": None}
            )
        payload = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
        # Through the outbox: a 5xx is retried with the file, a repeat sends nothing twice.
        await self.messenger.send_document(
            chat.id,
            payload,
            filename="my-data.json",
            caption=self.services.catalog.t("privacy.mydata_caption", lang),
        )

    async def forget(self, update: Update, context: UpdateContext) -> None:
        """/forget: erase the customer's data, after a confirmation."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        t = self.services.catalog.t
        lang = await context.customer_language(user)
        buttons = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t("privacy.forget_yes", lang), callback_data=encode(Forget(confirmed=True))
                    ),
                    InlineKeyboardButton(
                        t("privacy.forget_no", lang), callback_data=encode(Forget(confirmed=False))
                    ),
                ]
            ]
        )
        await self.messenger.send(chat.id, t("privacy.forget_confirm", lang), buttons=buttons)

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
        """Acknowledge a routed message and pass it on: care to staff, ideas to the board."""
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

    async def on_edit(self, update: Update, context: UpdateContext) -> None:
        """An edited message: update our copy and show staff the new text."""
        message = update.edited_message
        if message is None:
            return
        text = message.text or message.caption or ""
        now = self.services.clock.now()
        async with self.services.db.session() as session:
            feedback = await find_feedback_by_message(
                session=session, chat_id=message.chat_id, message_id=message.message_id
            )
            if feedback is None or feedback.id is None:
                return
            await mark_edited(session=session, feedback=feedback, text=text, now=now)
            copy = await find_customer_message(session=session, feedback_id=feedback.id)
            if copy is not None:
                copy.text = text
                copy.edited_at = now
                session.add(copy)
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

    async def on_rating_button(
        self, update: Update, context: UpdateContext, rating: Rating
    ) -> None:
        """A CSAT score (or "not solved") for a resolved ticket, or for the service."""
        query, user = update.callback_query, update.effective_user
        assert query is not None and user is not None
        t = self.services.catalog.t
        ticket_id, score = rating.ticket_id or None, rating.score
        result = await care.rate(
            self.services, telegram_user_id=user.id, ticket_id=ticket_id, score=score
        )
        lang = await context.customer_language(user)
        if not result.accepted:
            await query.answer(t("rate.already", lang))
            return
        await query.answer(t("rate.thanks_toast", lang))
        await self.messenger.drop_buttons(query.message)
        chat_id = user.id
        if ticket_id is not None and result.reopened:
            view = await care.ticket_view(self.services, ticket_id)
            await self.messenger.send(
                chat_id, t("rate.reopened", lang, reference=view.ticket.reference if view else "")
            )
            if view is not None:
                await self.desk.refresh_card(
                    view.ticket, view.customer.display_name, view.first_text
                )
                await self.desk.set_topic_open(view.ticket, True)
                staff_lang = self.services.settings.default_language
                key = "staff.reopened_unsolved" if score is None else "staff.reopened_low"
                await self.desk.tell(view.ticket, t(key, staff_lang, score=score or 0))
            return
        if score is not None:
            await self.messenger.send(chat_id, t("rate.thanks_comment", lang))

    async def on_forget_button(
        self, update: Update, context: UpdateContext, forget: Forget
    ) -> None:
        """Confirmed: erase; cancelled: nothing."""
        query, user = update.callback_query, update.effective_user
        assert query is not None and user is not None
        t = self.services.catalog.t
        lang = await context.customer_language(user)
        await query.answer()
        await self.messenger.drop_buttons(query.message)
        if not forget.confirmed:
            await self.messenger.send(user.id, t("privacy.forget_cancelled", lang))
            return
        topics: list[StaffTopic] = []
        async with self.services.db.session() as session:
            customer = await get_customer_by_telegram_id(session=session, telegram_user_id=user.id)
            if customer is not None:
                topics = await forget_customer(
                    session=session,
                    customer=customer,
                    now=self.services.clock.now(),
                    update_id=update.update_id,
                )
        log.info("customer data erased on request")
        await self.messenger.send(user.id, t("privacy.forgotten", lang))
        # The confirmation went through the outbox too: its copy goes now that it is sent.
        async with self.services.db.session() as session:
            await erase_chat_copies(session=session, chat_id=user.id)
        await _rename_topics(self.messenger, topics)

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

    async def _register(self, user: User) -> str:
        """Make sure the customer exists (a first contact may be a command); their language."""
        async with self.services.db.session() as session:
            customer = await known_customer(
                self.services, session, sender_of(user), self.services.clock.now()
            )
        return customer.language


async def _rename_topics(messenger: Messenger, topics: list[StaffTopic]) -> None:
    """A forgotten customer's ticket topics keep their reference, not their name."""
    for topic in topics:
        try:
            await messenger.rename_topic(topic.chat_id, topic.thread_id, topic.reference)
        except BadRequest as exc:  # the topic was deleted
            log.info("topic of %s not renamed: %s", topic.reference, exc)


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
