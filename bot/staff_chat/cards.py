"""A ticket's place in the staff chat: its forum topic (or a card in a group without topics),
the card's text and buttons, customers' media copied beside it, and lines about the ticket.

When the staff chat is a forum, each ticket gets its own topic; otherwise its card is a message
in the group and everything about the ticket is threaded as replies to that card.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from bot.core.services import Services
from bot.delivery.compose import compose
from bot.delivery.durable import Called
from bot.delivery.messaging import Messenger, Sent
from bot.domain.answers import AnswerBook, Offer, card_waits, offer_of
from bot.domain.outcomes import FeedbackOutcome, outcome_for
from bot.staff_chat.desk import Desk
from bot.telegram.callbacks import Rating, TicketAction, encode
from bot.telegram.text import escape
from nlp import TriageResult
from storage.models import Feedback, Ticket, TicketStatus
from storage.staff_queue import await_new_card, card_shown, conversation, customer_message_ids
from storage.tickets import attach_staff_card, get_ticket, record_staff_copy

log = logging.getLogger(__name__)

PRIORITY_ICONS = {"high": "🔴", "normal": "🟡", "low": "🟢"}
_TOPIC_NAME_LIMIT = 128


def _stored_triage(feedback: Feedback) -> TriageResult:
    """The triage as stored with the feedback (the card shows it)."""
    return TriageResult(
        kind=feedback.kind,
        confidence=feedback.confidence,
        probabilities={},
        sentiment=feedback.sentiment,
        topic=feedback.topic,
        language=feedback.language,
        keywords=tuple(feedback.keywords.split()),
    )


def ticket_buttons(ticket: Ticket, language: str, services: Services) -> InlineKeyboardMarkup:
    """Claim, Resolve, Relabel; callback data carries only the action and the ticket id."""
    t = services.catalog.t
    tid = ticket.id or 0
    if ticket.status == TicketStatus.RESOLVED:
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t("staff.button_reopen", language),
                        callback_data=encode(TicketAction("reopen", tid)),
                    )
                ]
            ]
        )
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t("staff.button_claim", language),
                    callback_data=encode(TicketAction("claim", tid)),
                ),
                InlineKeyboardButton(
                    t("staff.button_resolve", language),
                    callback_data=encode(TicketAction("resolve", tid)),
                ),
                InlineKeyboardButton(
                    t("staff.button_relabel", language),
                    callback_data=encode(TicketAction("relabel", tid)),
                ),
            ]
        ]
    )


def rating_buttons(ticket_id: int, language: str, services: Services) -> InlineKeyboardMarkup:
    """What a customer answers a resolved ticket with: 1 to 5 stars, or "not solved"."""
    stars = [
        InlineKeyboardButton(f"{score} ⭐", callback_data=encode(Rating(ticket_id, score)))
        for score in range(1, 6)
    ]
    unsolved = InlineKeyboardButton(
        services.catalog.t("care.button_not_solved", language),
        callback_data=encode(Rating(ticket_id, None)),
    )
    return InlineKeyboardMarkup([stars, [unsolved]])


class TicketCards(Desk):
    """Draws tickets' topics and cards in the staff chat and keeps them current."""

    def __init__(self, services: Services, messenger: Messenger, bot: Bot) -> None:
        super().__init__(services, messenger, bot)
        self.answers = AnswerBook(services)
        self._listeners: list[Callable[[], None]] = []

    def when_work(self, listener: Callable[[], None]) -> None:
        """Call `listener` whenever something waits to be shown to staff (the courier)."""
        self._listeners.append(listener)

    def work_waiting(self) -> None:
        """Something was queued for staff: wake whoever posts it, without waiting for them."""
        for listener in self._listeners:
            listener()

    async def open_waiting(self, ticket: Ticket) -> bool:
        """Open the card of a waiting ticket, with everything the customer wrote so far."""
        async with self.services.db.session() as session:
            talk = await conversation(session=session, ticket_id=ticket.id or 0)
            current = await get_ticket(session=session, ticket_id=ticket.id or 0)
        if talk is None or current is None or current.staff_pending_since is None:
            return False
        if await card_waits(self.services, self.answers, current):
            return False
        customer, first, texts, last_shown = talk
        # The card shows the triage stored with the first message, and all the customer wrote.
        outcome = replace(
            outcome_for(first, customer, _stored_triage(first), customer.language),
            kind="care",
            text="\n\n".join(texts),
            ticket_id=current.id,
            new_ticket=True,
        )
        offer = await offer_of(self.services, current.id or 0)
        return await self._open_card(current, outcome, last_shown, note=self._suggested_note(offer))

    def _suggested_note(self, offer: Offer | None) -> str:
        """The card's line naming the answers the customer saw first, and what they said."""
        if offer is None or not offer.suggestions:
            return ""
        t = self.services.catalog.t
        titles = ", ".join(f"A-{s.answer_id} «{escape(s.title)}»" for s in offer.suggestions)
        minutes = self.services.settings.self_service_wait_minutes
        said = t(f"answers.card_{offer.outcome}", self.language, count=minutes)
        return "\n" + t("answers.card_suggested", self.language, titles=titles, outcome=said)

    async def _open_card(
        self, ticket: Ticket, outcome: FeedbackOutcome, last_shown: int | None, note: str = ""
    ) -> bool:
        """Its topic (in a forum) and its card, each made once whatever happens in between:
        both are keyed by the ticket, so a round run again (after a crash, or beside another
        one) gets the topic and card already made instead of making new ones. While either
        waits in the outbox for a retry the ticket keeps waiting; a later round finds what
        Telegram returned and goes on."""
        chat_id = self.services.settings.staff_chat_for(ticket.topic)
        if chat_id is None:
            log.warning("STAFF_CHAT_ID is not set; ticket %s is not routed", ticket.reference)
            return False
        assert ticket.id is not None
        thread_id = ticket.staff_thread_id
        if thread_id is None or ticket.staff_chat_id != chat_id:
            topic = await self._create_topic(chat_id, ticket, outcome.customer_name)
            if not topic.done and not topic.refused:
                return False  # in the outbox, or being opened by another round: later
            thread_id = topic.thread_id  # refused: no forum here, the card in the group will do
            # Kept at once: a card drawn again after a crash goes into the same topic.
            async with self.services.db.session() as session:
                await attach_staff_card(
                    session=session,
                    ticket_id=ticket.id,
                    chat_id=chat_id,
                    message_id=None,
                    thread_id=thread_id,
                )
        try:
            sent = await self.messenger.send_with_body(
                chat_id,
                self.card_header(ticket, outcome.customer_name, outcome.triage.language) + note,
                outcome.text,
                thread_id=thread_id,
                buttons=ticket_buttons(ticket, self.language, self.services),
                key=f"card:{ticket.id}:{thread_id or 0}",
                # What this card shows, kept with it: drawn again later, it is the card as sent.
                notes={"shown_up_to": last_shown},
            )
        except BadRequest as exc:
            if thread_id is None or "thread not found" not in str(exc).lower():
                raise
            await self._draw_again(ticket)
            return False
        if sent.message_id is None and not sent.refused:
            return False  # waits in the outbox: the ticket waits for it
        # Refused (a dead letter for operators): the ticket stops waiting all the same.
        last_shown = sent.notes.get("shown_up_to", last_shown)
        await self._copy_media(outcome, chat_id, thread_id, reply_to=sent.message_id)
        async with self.services.db.session() as session:
            await attach_staff_card(
                session=session,
                ticket_id=ticket.id,
                chat_id=chat_id,
                message_id=sent.message_id,
                thread_id=thread_id,
            )
            await card_shown(
                session=session,
                ticket_id=ticket.id,
                shown_up_to=last_shown,
                now=self.services.clock.now(),
            )
            for message_id in await customer_message_ids(session=session, ticket_id=ticket.id):
                if last_shown is not None and message_id <= last_shown:
                    await record_staff_copy(
                        session=session,
                        message_id=message_id,
                        chat_id=chat_id,
                        staff_message_id=sent.message_id,
                    )
        return True

    async def _draw_again(self, ticket: Ticket) -> None:
        """Its topic was deleted in the staff chat: the ticket waits for a new card (in a new
        topic), which carries the whole conversation."""
        log.warning("the topic of %s was deleted; it gets a new one", ticket.reference)
        if ticket.staff_chat_id is not None:
            await self.messenger.release(_topic_key(ticket, ticket.staff_chat_id))
        async with self.services.db.session() as session:
            waits = await await_new_card(
                session=session, ticket_id=ticket.id or 0, now=self.services.clock.now()
            )
        if waits:
            self.work_waiting()

    async def tell(self, ticket: Ticket, html_text: str) -> Sent | None:
        """A line about the ticket for staff, in its topic or under its card (in the chat
        itself while the card waits for the chat's limit)."""
        if ticket.staff_chat_id is None:
            chat_id = self.services.settings.staff_chat_for(ticket.topic)
            return None if chat_id is None else await self.messenger.send(chat_id, html_text)
        return await self.messenger.send(
            ticket.staff_chat_id,
            html_text,
            thread_id=ticket.staff_thread_id,
            reply_to=self._reply_to(ticket),
        )

    async def refresh_card(self, ticket: Ticket, customer_name: str, text: str) -> None:
        """Redraw the card after a claim, a resolution or a relabel."""
        if ticket.staff_chat_id is None or ticket.staff_card_message_id is None:
            return
        # The line naming the answers suggested first stays on the card when it is redrawn.
        offer = await offer_of(self.services, ticket.id or 0)
        header = self.card_header(ticket, customer_name, None) + self._suggested_note(offer)
        await self.messenger.edit_text(
            ticket.staff_chat_id,
            ticket.staff_card_message_id,
            compose(header, text)[0],
            buttons=ticket_buttons(ticket, self.language, self.services),
        )

    async def set_topic_open(self, ticket: Ticket, is_open: bool) -> None:
        """Close a resolved ticket's topic, reopen it when the ticket reopens."""
        if ticket.staff_chat_id is None or ticket.staff_thread_id is None:
            return
        try:
            await self.messenger.set_topic_open(
                ticket.staff_chat_id, ticket.staff_thread_id, is_open
            )
        except BadRequest as exc:  # the topic was deleted
            log.info("topic of %s: %s", ticket.reference, exc)

    def card_header(self, ticket: Ticket, customer_name: str, language: str | None) -> str:
        """The card's first lines: reference, priority, customer, triage, status."""
        t = self.services.catalog.t
        lines = t(
            "staff.card_header",
            self.language,
            reference=ticket.reference,
            priority_icon=PRIORITY_ICONS.get(ticket.priority, ""),
            priority=ticket.priority,
            customer=escape(customer_name),
            kind="care",
            topic=ticket.topic,
            sentiment=ticket.sentiment,
            language=language or ticket.language,
        )
        if ticket.assignee_name:
            lines += "\n" + t(
                "staff.card_claimed", self.language, name=escape(ticket.assignee_name)
            )
        if ticket.status == TicketStatus.RESOLVED:
            lines += "\n" + t("staff.card_resolved", self.language)
        return lines

    @staticmethod
    def _reply_to(ticket: Ticket) -> int | None:
        # In a forum the topic keeps the thread; in a plain group replies to the card do.
        return None if ticket.staff_thread_id is not None else ticket.staff_card_message_id

    async def _create_topic(self, chat_id: int, ticket: Ticket, customer: str) -> Called:
        """The ticket's forum topic, opened once: made again, the call answers with the topic
        Telegram opened the first time. Refused: not a forum (or no right to manage topics),
        the card in the group will do."""
        name = f"{ticket.reference} · {customer} · {ticket.topic}"[:_TOPIC_NAME_LIMIT]
        topic = await self.messenger.create_topic(chat_id, name, key=_topic_key(ticket, chat_id))
        if topic.refused:
            log.info("no forum topic in %s; posting a card", chat_id)
        return topic

    async def _copy_media(
        self, outcome: FeedbackOutcome, chat_id: int, thread_id: int | None, reply_to: int | None
    ) -> None:
        if outcome.media_type is None:
            return
        await self._copy(
            outcome.feedback_id, outcome.chat_id, outcome.message_id, chat_id, thread_id, reply_to
        )

    async def _copy_feedback_media(
        self, feedback: Feedback, chat_id: int, thread_id: int | None, reply_to: int | None
    ) -> None:
        await self._copy(
            feedback.id or 0, feedback.chat_id, feedback.message_id, chat_id, thread_id, reply_to
        )

    async def _copy(
        self,
        feedback_id: int,
        from_chat_id: int,
        message_id: int,
        chat_id: int,
        thread_id: int | None,
        reply_to: int | None,
    ) -> None:
        """A customer's media for staff, copied once into each place it belongs (keyed by the
        feedback, never by the customer's chat: keys are kept after /forget)."""
        await self.messenger.copy(
            chat_id,
            from_chat_id,
            message_id,
            thread_id=thread_id,
            reply_to=None if thread_id else reply_to,
            key=f"media:{feedback_id}:{chat_id}:{thread_id or 0}",
        )


def _topic_key(ticket: Ticket, chat_id: int) -> str:
    """The dedupe key of a ticket's forum topic in a staff chat: one topic per ticket and
    chat (until someone deletes it)."""
    return f"topic:ticket:{ticket.id}:{chat_id}"
