"""A customer's message through the real Application and the fake Bot API into the staff chat."""

from __future__ import annotations

import re

from sqlmodel import select

from bot.core.services import Services
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from storage.models import Customer, Feedback, InboxUpdate, Ticket, TicketMessage
from tests.support import STAFF_CHAT_ID

REFERENCE = re.compile(r"T-\d{5}")


async def test_care_request_reaches_staff_with_the_same_reference(
    fake_api: FakeBotApi, services: Services
) -> None:
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True, members=[])
    customer = fake_api.new_user(
        "Giulia", last_name="Romano", username="giuliar", language_code="it"
    )
    text = "Da ieri sera la fibra non funziona, il modem ha la luce rossa fissa. Aiuto!"

    async with LocalBot(services) as bot:
        update = fake_api.send_text(customer, text)
        await bot.processed(update["update_id"])

    to_customer = fake_api.messages_to(customer["id"])
    to_staff = fake_api.messages_to(STAFF_CHAT_ID)
    assert len(to_customer) == 1 and len(to_staff) == 1
    ack, card = to_customer[0]["text"], to_staff[0]["text"]
    reference = REFERENCE.search(ack)
    assert reference is not None, ack
    assert reference.group() in card
    assert "Giulia Romano (@giuliar)" in card
    assert text in card
    assert "minuti" in ack  # answered in the customer's language, with an expected time

    async with services.db.session() as session:
        stored_customer = (await session.exec(select(Customer))).one()
        feedback = (await session.exec(select(Feedback))).one()
        ticket = (await session.exec(select(Ticket))).one()
        message = (await session.exec(select(TicketMessage))).one()
        inbox = (await session.exec(select(InboxUpdate))).one()
    assert stored_customer.telegram_user_id == customer["id"]
    assert feedback.text == text and feedback.kind == "care" and feedback.ticket_id == ticket.id
    assert ticket.reference == reference.group()
    assert ticket.staff_chat_id == STAFF_CHAT_ID
    assert ticket.staff_card_message_id == to_staff[0]["message_id"]
    assert message.ticket_id == ticket.id and message.text == text
    assert inbox.update_id == update["update_id"] and inbox.processed_at is not None


async def test_idea_and_praise_are_stored_without_a_ticket(
    fake_api: FakeBotApi, services: Services
) -> None:
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True, members=[])
    customer = fake_api.new_user("Tom", language_code="en")
    async with LocalBot(services) as bot:
        for text in (
            "It would be great if the app showed my data usage in real time with an alert",
            "Thank you so much, the new 5G is really fast here!",
        ):
            update = fake_api.send_text(customer, text)
            await bot.processed(update["update_id"])

    async with services.db.session() as session:
        kinds = [f.kind for f in (await session.exec(select(Feedback).order_by(Feedback.id))).all()]
        tickets = (await session.exec(select(Ticket))).all()
    assert kinds == ["idea", "other"]
    assert tickets == []
    # Staff see only the idea, for review in their ideas topic; no ticket card.
    assert [m["text"].split("\n")[0] for m in fake_api.messages_to(STAFF_CHAT_ID)] == [
        "💡 Idea #1 · 🆕 new · 👍 0"
    ]
    acks = [m["text"] for m in fake_api.messages_to(customer["id"])]
    assert "idea" in acks[0].lower() and "thank" in acks[1].lower()


async def test_a_repeated_update_is_processed_once(
    fake_api: FakeBotApi, services: Services
) -> None:
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True, members=[])
    customer = fake_api.new_user("Aisha", language_code="en")
    async with LocalBot(services) as bot:
        update = fake_api.send_text(customer, "My bill is wrong, I was charged twice this month")
        await bot.processed(update["update_id"])
        # Telegram delivers an update again when its confirmation was lost (webhook retry,
        # restart): the inbox knows the id and nothing is handled twice.
        assert await bot.inbox.store([update]) == []
        assert await bot.inbox.drain() == 0
    async with services.db.session() as session:
        assert len((await session.exec(select(Feedback))).all()) == 1
    assert len(fake_api.messages_to(customer["id"])) == 1
