"""Managers in a private chat: numbers on demand."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.messaging import Messenger
from bot.render.summary import render_overview
from bot.services import Services
from storage.metrics import overview

log = logging.getLogger(__name__)


class ManagerHandlers:
    """Commands only managers (MANAGER_IDS) may use."""

    def __init__(self, services: Services, messenger: Messenger) -> None:
        self.services = services
        self.messenger = messenger

    def register(self, application: Application) -> None:
        """Add the handlers to the application."""
        application.add_handler(CommandHandler("summary", self.summary))

    def _is_manager(self, update: Update) -> bool:
        user = update.effective_user
        allowed = user is not None and user.id in self.services.settings.manager_ids
        if not allowed:
            log.info("refused a manager command from user %s", user.id if user else None)
        return allowed

    async def summary(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """What customers sent in the last 7 days and what became of it."""
        chat = update.effective_chat
        if chat is None:
            return
        lang = update.effective_user.language_code if update.effective_user else None
        if not self._is_manager(update):
            await self.messenger.send(chat.id, self.services.catalog.t("manager.refused", lang))
            return
        end = self.services.clock.now()
        async with self.services.db.session() as session:
            numbers = await overview(session=session, start=end - timedelta(days=7), end=end)
        text = render_overview(
            numbers, catalog=self.services.catalog, language=lang, zone=self.services.settings.zone
        )
        await self.messenger.send(chat.id, text)
