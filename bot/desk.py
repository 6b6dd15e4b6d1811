"""The staff side of tickets in Telegram: a forum topic (or a card) per ticket, relays, updates.

When the staff chat is a forum, each ticket gets its own topic; otherwise its card is a message
in the group and everything about the ticket is threaded as replies to that card.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.domain.feedback import FeedbackOutcome
from bot.messaging import Messenger, Sent, compose
from bot.services import Services
from bot.telegram_text import escape
from nlp import TriageResult
from storage.models import Feedback, Ticket, TicketStatus
from storage.staff_queue import conversation, pending_tickets, sends_since
from storage.tickets import attach_staff_card, get_ticket, record_staff_copy

log = logging.getLogger(__name__)

PRIORITY_ICONS = {"high": "🔴", "normal": "🟡", "low": "🟢"}
_TOPIC_NAME_LIMIT = 128


def _short(text: str, room: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= room else flat[: room - 1] + "…"


def _chunks(lines: list[str], room: int = 3500) -> list[str]:
    pieces: list[str] = []
    current = ""
    for line in lines:
        if current and len(current) + len(line) + 1 > room:
            pieces.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        pieces.append(current)
    return pieces


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
        if ticket.staff_pending_since is not None:
            return  # its card, when it comes, carries the whole conversation
        if outcome.new_ticket or ticket.staff_card_message_id is None:
            if await self._busy(self.services.settings.staff_chat_for(ticket.topic)):
                await self._hold(ticket)
                return
            await self._open_card(ticket, outcome)
        else:
            await self.post_follow_ups(ticket, [outcome])

    async def _busy(self, chat_id: int | None) -> bool:
        """Whether the staff chat has had as many messages this minute as it should."""
        if chat_id is None:
            return False
        since = self.services.clock.now() - timedelta(minutes=1)
        async with self.services.db.session() as session:
            sent = await sends_since(session=session, chat_id=chat_id, since=since)
        return sent >= self.services.settings.staff_burst_per_minute

    async def _hold(self, ticket: Ticket) -> None:
        async with self.services.db.session() as session:
            held = await get_ticket(session=session, ticket_id=ticket.id or 0)
            if held is not None:
                held.staff_pending_since = self.services.clock.now()
                session.add(held)
        log.info("staff chat busy: %s waits for the digest", ticket.reference)

    async def flush_backlog(self) -> tuple[int, int]:
        """Announce waiting tickets in one digest per chat, then open as many cards as the
        chat's limit allows. Returns (tickets digested, cards opened)."""
        t = self.services.catalog.t
        settings = self.services.settings
        now = self.services.clock.now()
        async with self.services.db.session() as session:
            waiting = await pending_tickets(session=session)
        by_chat: dict[int, list[Ticket]] = {}
        for ticket in waiting:
            chat_id = settings.staff_chat_for(ticket.topic)
            if chat_id is not None:
                by_chat.setdefault(chat_id, []).append(ticket)
        digested = opened = 0
        for chat_id, tickets in by_chat.items():
            fresh = [tk for tk in tickets if tk.staff_digested_at is None]
            if fresh:
                lines = [t("staff.backlog_digest", self.language, count=len(fresh))]
                async with self.services.db.session() as session:
                    for ticket in fresh:
                        talk = await conversation(session=session, ticket_id=ticket.id or 0)
                        who, text = (
                            (talk[0].display_name, talk[2][0] if talk[2] else "")
                            if talk
                            else ("—", "")
                        )
                        lines.append(
                            f"{PRIORITY_ICONS.get(ticket.priority, '')} <b>{ticket.reference}</b>"
                            f" · {escape(ticket.topic)} · {escape(who)}: {escape(_short(text))}"
                        )
                        held = await get_ticket(session=session, ticket_id=ticket.id or 0)
                        if held is not None:
                            held.staff_digested_at = now
                            session.add(held)
                for piece in _chunks(lines):
                    await self.messenger.send(chat_id, piece)
                digested += len(fresh)
            since = now - timedelta(minutes=1)
            async with self.services.db.session() as session:
                room = settings.staff_burst_per_minute - await sends_since(
                    session=session, chat_id=chat_id, since=since
                )
            for ticket in tickets[: max(0, room // 2)]:  # a card may take two messages
                if await self.open_waiting(ticket):
                    opened += 1
        return digested, opened

    async def open_waiting(self, ticket: Ticket) -> bool:
        """Open the card of a ticket that waited, with everything the customer wrote."""
        async with self.services.db.session() as session:
            talk = await conversation(session=session, ticket_id=ticket.id or 0)
            current = await get_ticket(session=session, ticket_id=ticket.id or 0)
            if talk is None or current is None or current.staff_pending_since is None:
                return False
            current.staff_pending_since = None
            session.add(current)
        customer, first, texts = talk
        outcome = FeedbackOutcome(
            feedback_id=first.id or 0,
            customer_id=customer.id or 0,
            customer_name=customer.display_name,
            chat_id=first.chat_id,
            message_id=first.message_id,
            text="\n\n".join(texts),
            kind="care",
            triage=_stored_triage(first),
            language=customer.language,
            media_type=first.media_type,
            ticket_id=current.id,
            new_ticket=True,
        )
        await self._open_card(current, outcome)
        return True

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
