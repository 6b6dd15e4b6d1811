"""The one error handler: set the update aside as a dead letter, apologise to the customer."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot.core.services import Services
from bot.delivery.messaging import Messenger
from bot.intake.dead_letters import set_aside
from bot.intake.inbox import retry_later
from storage.db import is_transient

log = logging.getLogger(__name__)


class ErrorHandler:
    """Logs every handler failure and tells the customer, who must never hear nothing."""

    def __init__(self, services: Services, messenger: Messenger) -> None:
        self.services = services
        self.messenger = messenger

    async def __call__(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Handle an exception raised while processing an update."""
        update_id = update.update_id if isinstance(update, Update) else None
        if is_transient(context.error) and retry_later():
            return  # the inbox tries the update again: nothing is lost, nobody is told
        if not isinstance(update, Update) or update_id is None or context.error is None:
            log.error("update %s failed", update_id, exc_info=context.error)
            return
        # Kept aside with its error for operators (/metrics, the dead letter table); the
        # traceback only at DEBUG, so one bad update is one line, not a flood.
        try:
            await set_aside(
                self.services, update_id=update_id, payload=update.to_dict(), error=context.error
            )
        except Exception:
            log.exception("update %s failed and could not be set aside", update_id)
        chat = update.effective_chat
        user = update.effective_user
        if chat is None or chat.type != "private":
            return
        text = self.services.catalog.t("ack.error", user.language_code if user else None)
        try:
            # Through the outbox like every call, keyed by the update: told once.
            await self.messenger.send(chat.id, text, key=f"apology:{update_id}")
        except Exception:
            log.exception("could not tell chat %s about the failure", chat.id)
