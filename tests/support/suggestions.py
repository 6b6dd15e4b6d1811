"""Messages that are two things at once (a fault and a suggestion, thanks and a request): the
texts the tests send, and what they read back through the fake Bot API and the database."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from bot.core.services import Services
from bot.domain.outcomes import IncomingMessage, Sender
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from storage.models import Customer, Idea, Ticket
from tests.support import STAFF_CHAT_ID, send

FAULT_AND_IDEA = "The app crashes when I pay; also, a dark mode would be nice"
PRAISE_AND_IDEA = (
    "Thank you so much, Marco on the phone was wonderful and solved everything in five "
    "minutes! It would be great if the app had a live chat too."
)
ITALIAN = "L'app si blocca quando pago. Sarebbe bello avere la modalità scura."
# The model is unsure what this is as a whole (it asks); the idea in it is clear.
UNCLEAR_WITH_IDEA = (
    "Your technician was here today, not sure what he did. "
    "Maybe you could add a way to book his visits from the app."
)
ONLY_A_FAULT = "My internet has been down for two days, please fix it."


def offers(fake_api: FakeBotApi, user: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages to the customer offering a suggestion (with their buttons)."""
    return [
        m
        for m in fake_api.messages_to(user["id"])
        if any(d.startswith("g:") for d in button_data(m))
    ]


def now(fake_api: FakeBotApi, message: dict[str, Any]) -> dict[str, Any]:
    """A message the bot sent, as it is now (after edits)."""
    [current] = [
        m
        for m in fake_api.messages_to(message["chat"]["id"])
        if m["message_id"] == message["message_id"]
    ]
    return current


async def ideas(services: Services) -> list[Idea]:
    async with services.db.session() as session:
        return list((await session.exec(select(Idea).order_by(col(Idea.id)))).all())


async def tickets(services: Services) -> list[Ticket]:
    async with services.db.session() as session:
        return list((await session.exec(select(Ticket))).all())


def alerts(fake_api: FakeBotApi) -> list[str]:
    """The texts of the button answers shown as alerts."""
    return [
        c.params.get("text", "")
        for c in fake_api.calls_to("answerCallbackQuery")
        if c.params.get("show_alert")
    ]


def staff_chat(fake_api: FakeBotApi) -> None:
    staff = fake_api.new_user("Sara")
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True, members=[staff["id"]])


async def sent(bot: LocalBot, queued: dict[str, Any]) -> dict[str, Any]:
    await send(bot, queued)
    message: dict[str, Any] = queued["message"]
    return message


async def customer_of(services: Services, user: dict[str, Any]) -> Customer:
    async with services.db.session() as session:
        found = (
            await session.exec(select(Customer).where(Customer.telegram_user_id == user["id"]))
        ).one()
    return found


def as_received(queued: dict[str, Any]) -> tuple[Sender, IncomingMessage]:
    message, user = queued["message"], queued["message"]["from"]
    sender = Sender(user["id"], user["first_name"], None, None, user.get("language_code"))
    return sender, IncomingMessage(message["chat"]["id"], message["message_id"], message["text"])


def button_data(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in rows for b in row if "callback_data" in b]


def button_labels(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["text"] for row in rows for b in row]
