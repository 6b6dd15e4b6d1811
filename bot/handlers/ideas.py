"""The idea board in the chat: customers share, vote, discuss and see; staff move ideas on."""

from __future__ import annotations

import logging

from telegram.ext import Application

from bot.domain.feedback import FeedbackOutcome
from bot.messaging import Messenger
from bot.services import Services

log = logging.getLogger(__name__)


class IdeaHandlers:
    """Handlers of the idea board."""

    def __init__(self, services: Services, messenger: Messenger) -> None:
        self.services = services
        self.messenger = messenger

    def register(self, application: Application) -> None:
        """Add the handlers to the application."""

    async def on_new_idea(self, outcome: FeedbackOutcome) -> None:
        """A customer's message was triaged as an idea and put on the board: tell them."""
        text = self.services.catalog.t("ack.idea", outcome.language, idea_id=outcome.idea_id)
        await self.messenger.send(outcome.chat_id, text, reply_to=outcome.message_id)
