"""The staff side of tickets in Telegram: a forum topic (or a card) per ticket, relays, updates.

When the staff chat is a forum, each ticket gets its own topic; otherwise its card is a message
in the group and everything about the ticket is threaded as replies to that card.
"""

from __future__ import annotations

import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.domain.feedback import FeedbackOutcome
from bot.messaging import Messenger, Sent, compose
from bot.services import Services
from bot.telegram_text import escape
from storage.models import Ticket, TicketStatus
from storage.tickets import attach_staff_card, get_ticket, record_staff_copy

log = logging.getLogger(__name__)

PRIORITY_ICONS = {"high": "🔴", "normal": "🟡", "low": "🟢"}
_TOPIC_NAME_LIMIT = 128


def ticket_buttons(ticket: Ticket, language: str, services: Services) -> InlineKeyboardMarkup:
    """Claim, Resolve, Relabel; callback data carries only the action and the ticket id."""
    t = services.catalog.t
    tid = ticket.id
    if ticket.status == TicketStatus.RESOLVED:
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t("staff.button_reopen", language), callback_data=f"t:reopen:{tid}"
                    )
                ]
            ]
        )
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t("staff.button_claim", language), callback_data=f"t:claim:{tid}"
                ),
                InlineKeyboardButton(
                    t("staff.button_resolve", language), callback_data=f"t:resolve:{tid}"
                ),
                InlineKeyboardButton(
                    t("staff.button_relabel", language), callback_data=f"t:relabel:{tid}"
                ),
            ]
        ]
    )


class StaffDesk:
    """Posts tickets and their messages to the staff chat and keeps the card current."""

    def __init__(self, services: Services, messenger: Messenger, bot: Bot) -> None:
        self.services = services
        self.messenger = messenger
        self.bot = bot
        self.language = services.settings.default_language

    async def post(self, outcome: FeedbackOutcome) -> None:
        """A routed care message: a new ticket gets its topic and card, a follow-up joins it."""
        if outcome.ticket_id is None:
            return
        async with self.services.db.session() as session:
            ticket = await get_ticket(session=session, ticket_id=outcome.ticket_id)
        if ticket is None:
            return
        if outcome.new_ticket or ticket.staff_card_message_id is None:
            await self._open_card(ticket, outcome)
        else:
            await self.post_follow_ups(ticket, [outcome])

    async def _open_card(self, ticket: Ticket, outcome: FeedbackOutcome) -> None:
        chat_id = self.services.settings.staff_chat_for(ticket.topic)
        if chat_id is None:
            log.warning("STAFF_CHAT_ID is not set; ticket %s is not routed", ticket.reference)
            return
        thread_id = await self._create_topic(chat_id, ticket, outcome.customer_name)
        sent = await self.messenger.send_with_body(
            chat_id,
            self.card_header(ticket, outcome.customer_name, outcome.triage.language),
            outcome.text,
            thread_id=thread_id,
            buttons=ticket_buttons(ticket, self.language, self.services),
        )
        await self._copy_media(outcome, chat_id, thread_id, reply_to=sent.message_id)
        async with self.services.db.session() as session:
            assert ticket.id is not None
            await attach_staff_card(
                session=session,
                ticket_id=ticket.id,
                chat_id=chat_id,
                message_id=sent.message_id,
                thread_id=thread_id,
            )
            if outcome.ticket_message_id is not None:
                await record_staff_copy(
                    session=session,
                    message_id=outcome.ticket_message_id,
                    chat_id=chat_id,
                    staff_message_id=sent.message_id,
                )

    async def post_follow_ups(self, ticket: Ticket, outcomes: list[FeedbackOutcome]) -> None:
        """One or more further customer messages of an open ticket, in one staff message."""
        if ticket.staff_chat_id is None or not outcomes:
            return
        t = self.services.catalog.t
        header = t(
            "staff.card_more",
            self.language,
            reference=ticket.reference,
            customer=escape(outcomes[0].customer_name),
            count=len(outcomes),
        )
        body = "\n\n".join(o.text for o in outcomes if o.text)
        sent = await self.messenger.send_with_body(
            ticket.staff_chat_id,
            header,
            body,
            thread_id=ticket.staff_thread_id,
            reply_to=self._reply_to(ticket),
        )
        for outcome in outcomes:
            await self._copy_media(
                outcome, ticket.staff_chat_id, ticket.staff_thread_id, reply_to=sent.message_id
            )
        async with self.services.db.session() as session:
            for outcome in outcomes:
                if outcome.ticket_message_id is not None:
                    await record_staff_copy(
                        session=session,
                        message_id=outcome.ticket_message_id,
                        chat_id=ticket.staff_chat_id,
                        staff_message_id=sent.message_id,
                    )

    async def tell(self, ticket: Ticket, html_text: str) -> Sent | None:
        """A line about the ticket for staff, in its topic or under its card."""
        if ticket.staff_chat_id is None:
            return None
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
        header = self.card_header(ticket, customer_name, None)
        try:
            await self.bot.edit_message_text(
                chat_id=ticket.staff_chat_id,
                message_id=ticket.staff_card_message_id,
                text=compose(header, text)[0],
                parse_mode=ParseMode.HTML,
                reply_markup=ticket_buttons(ticket, self.language, self.services),
            )
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise

    async def set_topic_open(self, ticket: Ticket, is_open: bool) -> None:
        """Close a resolved ticket's topic, reopen it when the ticket reopens."""
        if ticket.staff_chat_id is None or ticket.staff_thread_id is None:
            return
        try:
            if is_open:
                await self.bot.reopen_forum_topic(ticket.staff_chat_id, ticket.staff_thread_id)
            else:
                await self.bot.close_forum_topic(ticket.staff_chat_id, ticket.staff_thread_id)
        except BadRequest as exc:  # already in that state
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

    async def _create_topic(self, chat_id: int, ticket: Ticket, customer: str) -> int | None:
        name = f"{ticket.reference} · {customer} · {ticket.topic}"[:_TOPIC_NAME_LIMIT]
        try:
            topic = await self.bot.create_forum_topic(chat_id=chat_id, name=name)
        except BadRequest as exc:
            # Not a forum (or no right to manage topics): the card in the group will do.
            log.info("no forum topic in %s (%s); posting a card", chat_id, exc)
            return None
        return topic.message_thread_id

    async def _copy_media(
        self, outcome: FeedbackOutcome, chat_id: int, thread_id: int | None, reply_to: int | None
    ) -> None:
        if outcome.media_type is None:
            return
        await self.bot.copy_message(
            chat_id=chat_id,
            from_chat_id=outcome.chat_id,
            message_id=outcome.message_id,
            message_thread_id=thread_id,
            reply_to_message_id=None if thread_id else reply_to,
        )
