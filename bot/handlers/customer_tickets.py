"""A customer's tickets and ratings, in their private chat: /mytickets, /rate and the rating
buttons under a resolved ticket."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.core.services import Services
from bot.delivery.messaging import Messenger
from bot.domain import care
from bot.domain.feedback import register_customer
from bot.handlers.context import UpdateContext
from bot.handlers.people import sender_of
from bot.staff_chat.tickets import StaffDesk
from bot.telegram.callbacks import Rating, encode
from storage.customers import get_customer_by_telegram_id
from storage.tickets import customer_tickets


class CustomerTicketHandlers:
    """/mytickets, /rate and ratings (registered by ``CustomerHandlers``)."""

    def __init__(self, services: Services, messenger: Messenger, desk: StaffDesk) -> None:
        self.services = services
        self.messenger = messenger
        self.desk = desk

    async def my_tickets(self, update: Update, context: UpdateContext) -> None:
        """The customer's tickets and where each stands."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        t = self.services.catalog.t
        lang = await context.customer_language(user)
        async with self.services.db.read() as session:
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
        lang = await register_customer(self.services, sender_of(user))
        stars = [
            InlineKeyboardButton(f"{score} ⭐", callback_data=encode(Rating(0, score)))
            for score in range(1, 6)
        ]
        await self.messenger.send(
            chat.id,
            self.services.catalog.t("rate.ask", lang),
            buttons=InlineKeyboardMarkup([stars]),
        )

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
