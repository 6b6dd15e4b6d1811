"""The staff side of the idea board: an "Ideas" topic in the staff chat (or plain messages when
the chat has no topics) with a card per idea and its status buttons, kept current."""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.core.services import Services
from bot.delivery.compose import compose
from bot.delivery.messaging import Messenger
from bot.domain.ideas import Recipient, set_staff_message
from bot.staff_chat.desk import Desk
from bot.telegram.callbacks import IdeaStatusChange, encode
from bot.telegram.text import escape
from storage.customers import get_customer
from storage.models import Idea, IdeaStatus
from storage.staff_threads import record_staff_thread, staff_thread

log = logging.getLogger(__name__)

IDEAS_PURPOSE = "ideas"
# The statuses staff set with buttons; duplicate is set with /merge, which names the target.
BUTTON_STATUSES = (
    IdeaStatus.UNDER_REVIEW,
    IdeaStatus.PLANNED,
    IdeaStatus.IN_PROGRESS,
    IdeaStatus.DONE,
    IdeaStatus.DECLINED,
)
STATUS_ICONS = {
    IdeaStatus.NEW: "🆕",
    IdeaStatus.UNDER_REVIEW: "🔎",
    IdeaStatus.PLANNED: "🗓",
    IdeaStatus.IN_PROGRESS: "🚧",
    IdeaStatus.DONE: "✅",
    IdeaStatus.DECLINED: "🚫",
    IdeaStatus.DUPLICATE: "🔀",
}


class IdeaDesk(Desk):
    """Posts ideas for review, keeps their cards current and tells customers of changes."""

    def __init__(self, services: Services, messenger: Messenger, bot: Bot) -> None:
        super().__init__(services, messenger, bot)
        self._thread: int | None = None
        self._opening = asyncio.Lock()  # ideas of two chats at once open one topic

    @property
    def chat_id(self) -> int | None:
        """Ideas are reviewed in the main staff chat."""
        return self.services.settings.staff_chat_id

    async def post_idea(self, idea: Idea, customer_name: str) -> None:
        """A new idea appears in the staff "Ideas" topic with its status buttons."""
        if self.chat_id is None or idea.id is None:
            return
        sent = await self.messenger.send_with_body(
            self.chat_id,
            self._card_header(idea, 0, customer_name),
            idea.text,
            thread_id=await self.thread_id(),
            buttons=self.status_buttons(idea),
            key=_card_key(idea.id),
        )
        # Else still in the outbox: its id is read from there when the card is redrawn.
        if sent.message_id is not None:
            await set_staff_message(self.services, idea_id=idea.id, message_id=sent.message_id)

    async def refresh(self, idea: Idea, votes: int) -> None:
        """Redraw an idea's card after a status change or a merge."""
        if self.chat_id is None or idea.id is None:
            return
        message_id = idea.staff_message_id
        if message_id is None:  # the card went out late, after a retry: Telegram's id
            card = await self.messenger.recorded(_card_key(idea.id))
            message_id = card.message_id if card is not None else None
            if message_id is None:
                return
            await set_staff_message(self.services, idea_id=idea.id, message_id=message_id)
        async with self.services.db.session() as session:
            author = await get_customer(session=session, customer_id=idea.customer_id)
        header = self._card_header(idea, votes, author.display_name if author else "—")
        try:
            await self.messenger.edit_text(
                self.chat_id,
                message_id,
                compose(header, idea.text)[0],
                buttons=self.status_buttons(idea),
            )
        except BadRequest as exc:
            log.warning("could not redraw the card of idea %s: %s", idea.id, exc)

    async def tell(self, html_text: str, *, body: str | None = None) -> None:
        """A line for staff in the ideas topic."""
        if self.chat_id is None:
            return
        thread = await self.thread_id()
        if body is None:
            await self.messenger.send(self.chat_id, html_text, thread_id=thread)
        else:
            await self.messenger.send_with_body(self.chat_id, html_text, body, thread_id=thread)

    async def notify(self, recipients: list[Recipient], render: dict[str, str]) -> int:
        """Send each recipient the text for their language (once each); how many got it."""
        told = 0
        seen: set[int] = set()
        for person in recipients:
            if person.telegram_user_id in seen:
                continue
            seen.add(person.telegram_user_id)
            text = render.get(person.language) or render[self.language]
            try:
                await self.messenger.send(person.telegram_user_id, text)
                told += 1
            except Forbidden:
                log.info("customer %s blocked the bot; not told", person.telegram_user_id)
            except TelegramError as exc:
                log.warning("could not tell customer %s: %s", person.telegram_user_id, exc)
        return told

    def status_buttons(self, idea: Idea) -> InlineKeyboardMarkup | None:
        """One button per status the idea can move to."""
        if idea.status == IdeaStatus.DUPLICATE or idea.id is None:
            return None
        t = self.services.catalog.t
        buttons = [
            InlineKeyboardButton(
                f"{STATUS_ICONS[s]} {t(f'idea_status.{s}', self.language)}",
                callback_data=encode(IdeaStatusChange(idea.id or 0, s)),
            )
            for s in BUTTON_STATUSES
            if s != idea.status
        ]
        return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])

    async def thread_id(self) -> int | None:
        """The "Ideas" topic, opened once and remembered; None when the chat has no topics."""
        async with self._opening:
            return await self._thread_id()

    async def _thread_id(self) -> int | None:
        if self._thread is not None or self.chat_id is None:
            return self._thread
        async with self.services.db.session() as session:
            known = await staff_thread(session=session, chat_id=self.chat_id, purpose=IDEAS_PURPOSE)
        if known is not None:
            self._thread = known
            return self._thread
        name = self.services.catalog.t("staff_idea.topic_name", self.language)
        # One "Ideas" topic per chat, whichever process or crash comes first: opened again,
        # the call answers with the topic Telegram opened the first time.
        topic = await self.messenger.create_topic(
            self.chat_id, name, key=f"topic:{IDEAS_PURPOSE}:{self.chat_id}"
        )
        if topic.refused:
            log.info("no ideas topic in %s; posting ideas in the group", self.chat_id)
            return None
        if topic.thread_id is None:
            return None  # waits in the outbox: ideas go to the group meanwhile
        async with self.services.db.session() as session:
            first = await record_staff_thread(
                session=session,
                chat_id=self.chat_id,
                purpose=IDEAS_PURPOSE,
                thread_id=topic.thread_id,
                now=self.services.clock.now(),
            )
        if not first:  # another process recorded it first: the same topic, by key
            log.info("the ideas topic of %s was recorded by another process", self.chat_id)
        self._thread = topic.thread_id
        return self._thread

    def _card_header(self, idea: Idea, votes: int, customer_name: str) -> str:
        t = self.services.catalog.t
        return t(
            "staff_idea.card",
            self.language,
            idea_id=idea.id,
            status=f"{STATUS_ICONS[IdeaStatus(idea.status)]} "
            f"{t(f'idea_status.{idea.status}', self.language)}",
            votes=votes,
            customer=escape(customer_name),
            topic=idea.topic,
            language=idea.language,
        )


def _card_key(idea_id: int) -> str:
    """The dedupe key of an idea's staff card: one card per idea."""
    return f"idea:{idea_id}"
