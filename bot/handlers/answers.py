"""Self-service answers: suggested with an acknowledgement, looked up by customers with /help,
written and kept by staff with /answer and /answers."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from bot.core.services import Services
from bot.delivery.messaging import Messenger
from bot.domain.answers import (
    Offer,
    most_used,
    offer_for_ticket,
    settle_offer,
)
from bot.domain.outcomes import FeedbackOutcome
from bot.handlers.context import UpdateContext, private_only
from bot.staff_chat.tickets import StaffDesk
from bot.telegram.buttons import on_button
from bot.telegram.callbacks import OfferAnswer, encode
from bot.telegram.text import escape, join_lines
from storage.answers import get_answers, live_answers
from storage.answers import usefulness as answer_usefulness
from storage.models import Ticket, TicketMessage, format_ticket_reference
from storage.tickets import (
    find_ticket_by_staff_thread,
    get_ticket,
    last_staff_reply,
    staff_reply_at,
)

log = logging.getLogger(__name__)

TITLE_LIMIT = 200
# Three answers and the acknowledgement in one message stay under Telegram's 4096 characters.
TEXT_LIMIT = 1000


class AnswerHandlers:
    """Suggestions for customers, the answer book for staff."""

    def __init__(self, services: Services, messenger: Messenger, desk: StaffDesk) -> None:
        self.services = services
        self.messenger = messenger
        self.desk = desk
        self.book = desk.answers
        self.lang = services.settings.default_language

    def register(self, application: Application) -> None:
        """Staff commands in the staff chats; the customers' buttons anywhere."""
        in_staff = filters.Chat(chat_id=sorted(self.services.settings.staff_chats))
        application.add_handler(CommandHandler("answer", self.answer, filters=in_staff))
        application.add_handler(CommandHandler("answers", self.answers, filters=in_staff))
        application.add_handler(
            on_button((OfferAnswer,), self.on_offer_button, not_allowed=private_only(self.services))
        )

    # Customers ------------------------------------------------------------------------------

    async def offer(self, outcome: FeedbackOutcome) -> tuple[str, InlineKeyboardMarkup] | None:
        """For a new ticket that answers match: the suggestions and their buttons, to send with
        the acknowledgement (the card waits for the customer's answer)."""
        if outcome.ticket_id is None or not outcome.new_ticket or outcome.incident_id:
            return None
        if not await self.book.suggest(outcome.text, outcome.language):
            return None  # nothing matches its words: no need to read the ticket (a burst)
        offer = await offer_for_ticket(self.services, self.book, outcome.ticket_id)
        if offer is None or offer.outcome != "waiting":
            return None
        return self._render_offer(offer, outcome.language)

    def _render_offer(self, offer: Offer, lang: str) -> tuple[str, InlineKeyboardMarkup]:
        t = self.services.catalog.t
        items = [
            t("answers.offer_item", lang, number=n, title=escape(s.title), text=escape(s.text))
            for n, s in enumerate(offer.suggestions, start=1)
        ]
        minutes = self.services.settings.self_service_wait_minutes
        text = "\n\n".join(
            [
                t("answers.offer_intro", lang),
                *items,
                t("answers.offer_question", lang, count=minutes),
            ]
        )
        oid = offer.offer_id
        buttons = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t("answers.button_solved", lang),
                        callback_data=encode(OfferAnswer(True, oid)),
                    )
                ],
                [
                    InlineKeyboardButton(
                        t("answers.button_person", lang),
                        callback_data=encode(OfferAnswer(False, oid)),
                    )
                ],
            ]
        )
        return text, buttons

    async def on_offer_button(
        self, update: Update, context: UpdateContext, answer: OfferAnswer
    ) -> None:
        """ "This solved it" closes the ticket; "a person" sends its card to staff now."""
        query, user = update.callback_query, update.effective_user
        assert query is not None and user is not None
        settled = await settle_offer(
            self.services,
            offer_id=answer.offer_id,
            telegram_user_id=user.id,
            solved=answer.solved,
        )
        await query.answer()
        if settled is None:
            return
        await self.messenger.drop_buttons(query.message)  # it cannot be answered twice
        t = self.services.catalog.t
        reference = format_ticket_reference(settled.ticket_id)
        if not settled.accepted:
            key = "answers.solved" if settled.outcome == "solved" else "answers.too_late"
        else:
            key = "answers.solved" if settled.solved else "answers.person"
        await self.messenger.send(user.id, t(key, settled.language, reference=reference))
        if settled.accepted and not settled.solved:
            self.desk.work_waiting()

    async def look_up(self, update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str) -> None:
        """/help TEXT: the answers like the text; /help alone: the most used ones."""
        message = update.effective_message
        if message is None:
            return
        t = self.services.catalog.t
        query = " ".join(context.args or []).strip()
        if query:
            matches = await self.book.look_up(query, lang)
            async with self.services.db.read() as session:
                found = await get_answers(session=session, answer_ids=[i for i, _ in matches])
            answers = [found[i] for i, _ in matches if i in found]
            head = t(
                "answers.help_found" if answers else "answers.help_none",
                lang,
                query=escape(query[:100]),
            )
        else:
            answers = await most_used(self.services, lang)
            head = t("answers.help_top" if answers else "answers.help_empty", lang)
        items = [
            t("answers.offer_item", lang, number=n, title=escape(a.title), text=escape(a.text))
            for n, a in enumerate(answers[:3], start=1)
        ]
        await self.messenger.send(message.chat_id, "\n\n".join([head, *items]))

    # Staff ----------------------------------------------------------------------------------

    async def answer(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/answer add LANG TOPIC | Title | Text, edit ID | Title | Text, retire ID, save."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        t = self.services.catalog.t
        words = (message.text or "").split(None, 2)
        action = words[1].lower() if len(words) > 1 else ""
        rest = words[2] if len(words) > 2 else ""
        languages = self.services.catalog.languages
        if action == "save":
            await self._draft(message)
            return
        if action == "add":
            head, _, body = rest.partition("|")
            title, _, text = body.partition("|")
            spec = head.split()
            if (
                len(spec) != 2
                or spec[0].lower() not in languages
                or not title.strip()
                or not text.strip()
            ):
                await self._usage(message)
                return
            saved = await self.book.add(
                title=title.strip()[:TITLE_LIMIT],
                text=text.strip()[:TEXT_LIMIT],
                language=spec[0].lower(),
                topic=spec[1].lower()[:32],
                created_by=user.id,
            )
            await self._reply(
                message,
                t(
                    "answers.saved",
                    self.lang,
                    id=saved.id,
                    language=saved.language,
                    topic=escape(saved.topic),
                    title=escape(saved.title),
                ),
            )
            return
        if action in {"edit", "retire"}:
            raw, _, body = rest.partition("|")
            raw = raw.strip().upper().removeprefix("A-")
            if not raw.isdigit():
                await self._usage(message)
                return
            if action == "retire":
                changed = await self.book.retire(int(raw))
            else:
                title, _, text = body.partition("|")
                if not title.strip() or not text.strip():
                    await self._usage(message)
                    return
                changed = await self.book.edit(
                    int(raw), title=title.strip()[:TITLE_LIMIT], text=text.strip()[:TEXT_LIMIT]
                )
            if changed is None:
                await self._reply(message, t("answers.unknown", self.lang, id=raw))
                return
            key = "answers.retired" if action == "retire" else "answers.edited"
            await self._reply(
                message, t(key, self.lang, id=changed.id, title=escape(changed.title))
            )
            return
        await self._usage(message)

    async def answers(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/answers: the live answers with how useful they have been."""
        message = update.effective_message
        if message is None:
            return
        t = self.services.catalog.t
        async with self.services.db.read() as session:
            answers = await live_answers(session=session)
            counts = await answer_usefulness(session=session)
        if not answers:
            await self._reply(message, t("answers.list_none", self.lang))
            return
        lines = [t("answers.list_title", self.lang)]
        for a in answers:
            c = counts.get(a.id or 0)
            lines.append(
                t(
                    "answers.list_line",
                    self.lang,
                    id=a.id,
                    language=a.language,
                    topic=escape(a.topic),
                    title=escape(a.title),
                    shown=c.shown if c else 0,
                    helpful=c.helpful if c else 0,
                    not_helpful=c.not_helpful if c else 0,
                )
            )
        for piece in join_lines(lines):
            await self._reply(message, piece)

    async def _draft(self, message: Message) -> None:
        """ "Save as answer": the staff reply as an /answer add command, for staff to take the
        customer's particulars out of and send back."""
        t = self.services.catalog.t
        found = await self._staff_reply(message)
        if found is None:
            await self._reply(message, t("answers.no_reply", self.lang))
            return
        ticket, reply = found
        first_line = reply.text.strip().splitlines()[0] if reply.text.strip() else ""
        title = first_line[:60].rstrip(" .,;:") or ticket.topic
        command = f"/answer add {ticket.language} {ticket.topic} | {title} | {reply.text.strip()}"
        await self._reply(
            message, t("answers.draft", self.lang) + f"\n<code>{escape(command[:3500])}</code>"
        )

    async def _staff_reply(self, message: Message) -> tuple[Ticket, TicketMessage] | None:
        """The staff reply `message` answers (or, in a ticket's topic, its last one)."""
        replied = message.reply_to_message
        async with self.services.db.read() as session:
            if replied is not None:
                row = await staff_reply_at(
                    session=session, chat_id=message.chat_id, message_id=replied.message_id
                )
                if row is not None:
                    ticket = await get_ticket(session=session, ticket_id=row.ticket_id)
                    return (ticket, row) if ticket is not None else None
            if message.is_topic_message and message.message_thread_id:
                ticket = await find_ticket_by_staff_thread(
                    session=session, chat_id=message.chat_id, thread_id=message.message_thread_id
                )
                if ticket is not None:
                    last = await last_staff_reply(session=session, ticket_id=ticket.id or 0)
                    if last is not None:
                        return ticket, last
        return None

    async def _usage(self, message: Message) -> None:
        languages = ", ".join(self.services.catalog.languages)
        await self._reply(
            message, self.services.catalog.t("answers.usage", self.lang, languages=languages)
        )

    async def _reply(self, message: Message, html_text: str) -> None:
        await self.messenger.send(
            message.chat_id,
            html_text,
            thread_id=message.message_thread_id if message.is_topic_message else None,
            reply_to=message.message_id,
        )
