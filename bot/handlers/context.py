"""The context every handler gets: python-telegram-bot's CallbackContext, plus the services and
the sender's language, looked up once per update.

python-telegram-bot makes one context per update and hands it to every handler that takes the
update, group after group; what is kept on it is read at most once per update, however many
handlers and callbacks ask. The Application is built with ``CONTEXT_TYPES`` and the services in
``bot_data`` (``bot.app.application``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from telegram import Update, User
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.core.services import Services
from storage.customers import get_customer_by_telegram_id

SERVICES_KEY = "services"


class UpdateContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """A handler's context: ``services``, and ``customer_language()`` read once per update."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        self._languages: dict[int, str] = {}

    @property
    def services(self) -> Services:
        """The services the Application was built with."""
        return cast(Services, self.bot_data[SERVICES_KEY])

    async def customer_language(self, user: User) -> str:
        """The language the sender reads the bot in as a customer: the one stored with them,
        else their Telegram app's (when the catalogs have it), else the default. Read once per
        update."""
        if user.id not in self._languages:
            services = self.services
            async with services.db.read() as session:
                customer = await get_customer_by_telegram_id(
                    session=session, telegram_user_id=user.id
                )
            self._languages[user.id] = (
                customer.language
                if customer is not None
                else services.catalog.language_for(user.language_code)
            )
        return self._languages[user.id]


CONTEXT_TYPES = ContextTypes(context=UpdateContext)


def private_only(services: Services) -> Callable[[Update], str]:
    """The alert for a customer's button pressed outside the customer's private chat."""

    def text(update: Update) -> str:
        user = update.effective_user
        catalog = services.catalog
        code = user.language_code if user is not None else None
        return catalog.t("access.button_private_only", catalog.language_for(code))

    return text
