"""Builds the python-telegram-bot Application: handlers wired to the services, no Updater.

Updates never come from PTB's own Updater: it fetches ahead and confirms updates still in its
queue, so a crash would lose them. bot.intake stores each update first, then hands it here.
"""

from __future__ import annotations

import logging
from typing import cast

from telegram import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import Application
from telegram.request import HTTPXRequest

from bot.core.services import Services
from bot.core.settings import Settings
from bot.delivery.messaging import Messenger
from bot.delivery.worker import OutboxWorker
from bot.handlers.answers import AnswerHandlers
from bot.handlers.context import CONTEXT_TYPES, SERVICES_KEY
from bot.handlers.customer import CustomerHandlers
from bot.handlers.errors import ErrorHandler
from bot.handlers.idea_staff import IdeaStaffHandlers
from bot.handlers.ideas import IdeaHandlers
from bot.handlers.incidents import IncidentHandlers
from bot.handlers.manager import ManagerHandlers
from bot.handlers.membership import MembershipHandlers
from bot.handlers.staff import StaffHandlers
from bot.staff_chat.courier import StaffCourier
from bot.staff_chat.ideas import IdeaDesk
from bot.staff_chat.tickets import StaffDesk
from bot.telegram.bot import FeedbackBot
from bot.telegram.pacing import OldestFirstRateLimiter
from bot.telegram.request import AiohttpRequest
from bot.telegram.staff_access import StaffAccess

log = logging.getLogger(__name__)

# Connections to the Bot API for everything but getUpdates: enough to keep ~30 messages a
# second flowing at Telegram's round-trip times (a request takes 50-150 ms).
SEND_CONNECTIONS = 8


def build_bot(settings: Settings) -> FeedbackBot:
    """The Bot every process talks to Telegram with: the configured server, the project's
    request class, and (unless RATE_LIMIT is off) the rate limiter."""
    limiter = None
    if settings.rate_limit:
        # Keeps under Telegram's limits: 29 messages a second as a steady flow (the default
        # lets 30 go at once, then Telegram answers 429 and everything pauses), the message
        # queued first going first, 20 a minute per group. A 429 all the same is waited out
        # and tried again.
        limiter = OldestFirstRateLimiter(overall_rate=29, max_retries=5)
    return FeedbackBot(
        settings.require_token(),
        base_url=settings.telegram_api_base_url,
        base_file_url=_file_url(settings.telegram_api_base_url),
        request=AiohttpRequest(SEND_CONNECTIONS),
        get_updates_request=HTTPXRequest(connection_pool_size=1),
        rate_limiter=limiter,
    )


def build_application(services: Services) -> Application:
    """The Application for these services, talking to the configured Bot API server."""
    settings = services.settings
    application: Application = (
        Application.builder()
        .bot(build_bot(settings))
        .updater(None)
        .application_class(FeedbackApplication)
        .context_types(CONTEXT_TYPES)
        .build()
    )
    application.bot_data[SERVICES_KEY] = services
    bot = application.bot
    messenger = Messenger(bot, services)
    desk = StaffDesk(services, messenger, bot)
    cast(FeedbackApplication, application).staff_courier = StaffCourier(desk)
    access = StaffAccess(bot, settings.staff_chats)
    MembershipHandlers(services, access).register(application)  # before all: group -1
    idea_desk = IdeaDesk(services, messenger, bot)
    ideas = IdeaHandlers(services, messenger, idea_desk)
    ideas.register(application)  # first: replies to an idea are comments, not new feedback
    IdeaStaffHandlers(services, messenger, idea_desk, access).register(application)
    answers = AnswerHandlers(services, messenger, desk)
    answers.register(application)
    customers = CustomerHandlers(services, messenger, desk, ideas, answers)
    customers.register(application)
    StaffHandlers(services, messenger, desk, access, services.triage.topics).register(application)
    IncidentHandlers(services, messenger, desk, access).register(application)
    ManagerHandlers(services, messenger).register(application)
    customers.register_fallback(application)
    application.add_error_handler(ErrorHandler(services, messenger))
    return application


async def set_command_menus(application: Application, services: Services) -> None:
    """Each audience sees its own commands in Telegram's menu."""
    t = services.catalog.t
    settings = services.settings
    customer = ["start", "ideas", "idea", "comment", "mytickets", "rate", "privacy", "mydata"]
    customer.append("forget")
    staff = ["help", "note", "canned", "status", "merge", "incidents", "detach", "attach"]
    staff += ["answer", "answers", "whoami", "language"]
    manager = ["help", "summary", "involvement", "topics", "ideas_report", "report", "export"]
    manager += ["tickets", "dashboard", "triage", "incidents", "status", "merge"]
    manager += ["whoami", "language"]
    bot = application.bot
    try:
        for language in services.catalog.languages:
            code = None if language == settings.default_language else language
            await bot.set_my_commands(
                [BotCommand(c, t(f"menu.{c}", language)) for c in customer],
                scope=BotCommandScopeAllPrivateChats(),
                language_code=code,
            )
        for chat_id in sorted(settings.staff_chats):
            await bot.set_my_commands(
                [BotCommand(c, t(f"menu.{c}", settings.default_language)) for c in staff],
                scope=BotCommandScopeChat(chat_id),
            )
        for user_id in sorted(settings.manager_ids):
            await bot.set_my_commands(
                [
                    BotCommand(c, t(f"menu.{c}", settings.default_language))
                    for c in customer + manager
                ],
                scope=BotCommandScopeChat(user_id),
            )
    except TelegramError as exc:  # menus are a comfort; the bot works without them
        log.warning("could not set the command menus: %s", exc)


class FeedbackApplication(Application):
    """PTB's Application, with the staff courier that posts to the staff chats beside it."""

    staff_courier: StaffCourier


def staff_courier(application: Application) -> StaffCourier:
    """The courier of an application built by build_application (run it beside it)."""
    return cast(FeedbackApplication, application).staff_courier


def outbox_worker(application: Application, services: Services) -> OutboxWorker:
    """The worker that retries what this application's bot could not send at once."""
    return OutboxWorker(Messenger(application.bot, services), services)


def _file_url(base_url: str) -> str:
    """Telegram serves files under /file/bot<token>/ beside /bot<token>/."""
    root, _, last = base_url.rstrip("/").rpartition("/")
    return f"{root}/file/{last}" if last.startswith("bot") else base_url
