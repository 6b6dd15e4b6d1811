"""Who sent an update, as the domain sees them; and what each audience is told about itself:
/whoami for anyone, /language for managers and staff, the staff chat's /help, the manager's
/start and /help."""

from __future__ import annotations

import logging

from telegram import Bot, Update, User
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from bot.core.services import Services
from bot.delivery.messaging import Messenger
from bot.domain.outcomes import Sender
from bot.domain.staff_tools import choose_language
from bot.telegram.staff_access import is_full_member
from bot.telegram.text import escape
from storage.metrics.definitions import DEFINITIONS
from storage.people import person_languages

log = logging.getLogger(__name__)

# What each audience can do, in the order /start and /help list them.
MANAGER_COMMANDS = (
    "summary",
    "involvement",
    "topics",
    "ideas_report",
    "report",
    "export",
    "tickets",
    "dashboard",
    "triage",
    "incidents",
    "status",
    "merge",
    "language",
    "whoami",
    "help",
)
STAFF_COMMANDS = (
    "note",
    "canned",
    "status",
    "merge",
    "detach",
    "attach",
    "incidents",
    "language",
    "whoami",
)


def sender_of(user: User) -> Sender:
    """The domain's view of a Telegram user."""
    return Sender(
        telegram_user_id=user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
    )


async def person_language(services: Services, user_id: int) -> str:
    """The language a manager or staff member chose with /language, else DEFAULT_LANGUAGE."""
    return (await people_languages(services, [user_id]))[user_id]


async def people_languages(services: Services, user_ids: list[int]) -> dict[int, str]:
    """Each person's language (the scheduled digests and alerts ask for all managers at once)."""
    async with services.db.read() as session:
        chosen = await person_languages(session=session, telegram_user_ids=user_ids)
    default = services.settings.default_language
    return {user_id: chosen.get(user_id, default) for user_id in user_ids}


def explain_metric(services: Services, key: str, language: str) -> str:
    """One line on what a metric counts (``metric.<key>``; the English ones are those of
    storage.metrics.definitions, the dashboard's)."""
    return services.catalog.t(f"metric.{key}", language)


def manager_guide(services: Services, language: str, *, with_metrics: bool) -> str:
    """The manager's /start (their commands, one line each) and /help (also every metric)."""
    t = services.catalog.t
    lines = [t("manager.start_title", language), ""]
    lines += [f"/{name} — {t(f'manager.command.{name}', language)}" for name in MANAGER_COMMANDS]
    lines += ["", t("manager.start_footer", language)]
    if with_metrics:
        lines += ["", t("manager.metrics_title", language)]
        lines += [
            f"• <b>{escape(t(f'manager.metric_name.{key}', language))}</b>: "
            f"{escape(explain_metric(services, key, language))}"
            for key in DEFINITIONS
        ]
    return "\n".join(lines)


class PeopleHandlers:
    """/whoami, /language, and /help in the staff chat."""

    def __init__(self, services: Services, messenger: Messenger) -> None:
        self.services = services
        self.messenger = messenger

    def register(self, application: Application) -> None:
        """Add the handlers to the application."""
        in_staff = filters.Chat(chat_id=sorted(self.services.settings.staff_chats))
        application.add_handler(CommandHandler("whoami", self.whoami))
        application.add_handler(
            CommandHandler("language", self.language, filters=filters.ChatType.PRIVATE | in_staff)
        )
        application.add_handler(CommandHandler(["help", "start"], self.staff_help, in_staff))

    async def whoami(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Anyone: their Telegram user id (what MANAGER_IDS takes); in a staff chat, their role."""
        user, chat, message = update.effective_user, update.effective_chat, update.effective_message
        if user is None or chat is None:
            return
        t = self.services.catalog.t
        is_manager = user.id in self.services.settings.manager_ids
        if chat.id in self.services.settings.staff_chats:
            lang = await person_language(self.services, user.id)
            staff = await _is_member(context.bot, chat.id, user.id)
            role = {(True, True): "manager_staff", (True, False): "manager"}.get(
                (is_manager, staff), "staff" if staff else "none"
            )
            text = t(
                "people.whoami_staff",
                lang,
                name=escape(user.first_name),
                id=user.id,
                role=t(f"people.role.{role}", lang),
            )
        else:
            lang = (
                await person_language(self.services, user.id)
                if is_manager
                else self.services.catalog.language_for(user.language_code)
            )
            key = "people.whoami_manager" if is_manager else "people.whoami"
            text = t(key, lang, name=escape(user.first_name), id=user.id)
        await self.messenger.send(
            chat.id,
            text,
            thread_id=message.message_thread_id
            if message is not None and message.is_topic_message
            else None,
        )

    async def language(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/language en|it: the language a manager or staff member reads the bot in."""
        user, chat, message = update.effective_user, update.effective_chat, update.effective_message
        if user is None or chat is None:
            return
        services, t = self.services, self.services.catalog.t
        thread = message.message_thread_id if message and message.is_topic_message else None
        allowed = user.id in services.settings.manager_ids or (
            chat.id in services.settings.staff_chats
            or (chat.type == ChatType.PRIVATE and await _is_staff(context.bot, services, user.id))
        )
        current = await person_language(services, user.id)
        if not allowed:
            lang = services.catalog.language_for(user.language_code)
            await self.messenger.send(chat.id, t("people.language_customers", lang))
            return
        wanted = (context.args or [""])[0].strip().lower()
        choices = ", ".join(services.catalog.languages)
        if wanted not in services.catalog.languages:
            await self.messenger.send(
                chat.id,
                t("people.language_usage", current, current=current, choices=choices),
                thread_id=thread,
            )
            return
        await choose_language(services, user.id, wanted)
        log.info("user %s reads the bot in %s now", user.id, wanted)
        await self.messenger.send(chat.id, t("people.language_set", wanted), thread_id=thread)

    async def staff_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/help in the staff chat: the staff commands, one line each."""
        user, chat, message = update.effective_user, update.effective_chat, update.effective_message
        if user is None or chat is None:
            return
        t, lang = self.services.catalog.t, await person_language(self.services, user.id)
        lines = [t("people.staff_help_title", lang), ""]
        lines += [f"/{name} — {t(f'people.staff_command.{name}', lang)}" for name in STAFF_COMMANDS]
        lines += [
            "",
            t("people.staff_help_footer", lang, prefix=escape(self.services.settings.note_prefix)),
        ]
        await self.messenger.send(
            chat.id,
            "\n".join(lines),
            thread_id=message.message_thread_id
            if message is not None and message.is_topic_message
            else None,
        )


async def _is_member(bot: Bot, chat_id: int, user_id: int) -> bool:
    try:
        return is_full_member(await bot.get_chat_member(chat_id, user_id))
    except TelegramError as exc:
        log.warning("could not check user %s in chat %s: %s", user_id, chat_id, exc)
        return False


async def _is_staff(bot: Bot, services: Services, user_id: int) -> bool:
    for chat_id in sorted(services.settings.staff_chats):
        if await _is_member(bot, chat_id, user_id):
            return True
    return False
