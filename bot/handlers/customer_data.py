"""A customer's data, in their private chat: what is stored (/privacy), all of it as a file
(/mydata), and erasing it (/forget, after a confirmation)."""

from __future__ import annotations

import json
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.core.services import Services
from bot.delivery.messaging import Messenger
from bot.domain import privacy
from bot.handlers.context import UpdateContext
from bot.telegram.callbacks import Forget, encode
from storage.privacy import StaffTopic

log = logging.getLogger(__name__)


class CustomerDataHandlers:
    """/privacy, /mydata and /forget (registered by ``CustomerHandlers``)."""

    def __init__(self, services: Services, messenger: Messenger) -> None:
        self.services = services
        self.messenger = messenger

    async def privacy(self, update: Update, context: UpdateContext) -> None:
        """What is stored, why, and how to see or erase it."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        await self.messenger.send(
            chat.id,
            self.services.catalog.t("privacy.notice", await context.customer_language(user)),
        )

    async def my_data(self, update: Update, context: UpdateContext) -> None:
        """Everything stored about the customer, as a JSON file."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        lang = await context.customer_language(user)
        data = await privacy.customer_data(self.services, user.id)
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
        topics = await privacy.forget(self.services, user.id, update.update_id)
        log.info("customer data erased on request")
        await self.messenger.send(user.id, t("privacy.forgotten", lang))
        # The confirmation went through the outbox too: its copy goes now that it is sent.
        await privacy.erase_copies(self.services, user.id)
        await _rename_topics(self.messenger, topics)


async def _rename_topics(messenger: Messenger, topics: list[StaffTopic]) -> None:
    """A forgotten customer's ticket topics keep their reference, not their name."""
    for topic in topics:
        try:
            await messenger.rename_topic(topic.chat_id, topic.thread_id, topic.reference)
        except BadRequest as exc:  # the topic was deleted
            log.info("topic of %s not renamed: %s", topic.reference, exc)
