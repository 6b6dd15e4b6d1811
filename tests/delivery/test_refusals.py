"""Telegram's refusals: a 400 is not retried (python-telegram-bot's BadRequest is a kind of
NetworkError), it is recorded with its reason; a deleted ticket topic gets a new one."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot.core.clock import FrozenClock
from bot.core.services import Services
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from storage import outbox
from storage.models import DeadLetter, OutboxMessage, Ticket
from tests.support import STAFF_CHAT_ID, send


async def test_a_refused_message_is_failed_for_good_and_kept_aside(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    customer = fake_api.new_user("Ada")
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True)
    async with LocalBot(services) as bot:
        bot.outbox.stop()  # the test runs the worker's rounds itself
        async with services.db.session() as session:
            await outbox.queue_many(
                session=session,
                messages=[
                    outbox.Queued(
                        method="sendMessage",
                        chat_id=customer["id"],
                        params={"chat_id": customer["id"], "text": "hello", "message_thread_id": 9},
                        key="refused-once",
                    )
                ],
                now=clock.now(),
            )
        before = len(fake_api.calls_to("sendMessage"))
        fake_api.fail("sendMessage", status=400, description="Bad Request: chat not found")
        assert await bot.outbox.send_due() == 0
        for _ in range(3):  # hours later: nothing is tried again
            clock.advance(timedelta(hours=1))
            assert await bot.outbox.send_due() == 0
    assert len(fake_api.calls_to("sendMessage")) - before == 1
    async with services.db.session() as session:
        row = (
            await session.exec(
                select(OutboxMessage).where(OutboxMessage.dedupe_key == "refused-once")
            )
        ).one()
        letters = (await session.exec(select(DeadLetter))).all()
    assert row.status == outbox.FAILED and "chat not found" in (row.last_error or "").lower()
    assert [(d.kind, d.item_id) for d in letters] == [("message", row.id)]


async def test_a_deleted_ticket_topic_is_opened_again_with_the_whole_conversation(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    customer = fake_api.new_user("Ada")
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True)
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(customer, "My internet is down since this morning"))
        [first] = list(fake_api.topics(STAFF_CHAT_ID))
        fake_api.delete_topic(STAFF_CHAT_ID, first)  # someone on staff deletes it
        clock.advance(timedelta(minutes=1, seconds=1))
        await send(bot, fake_api.send_text(customer, "Still nothing, the router is red"))
        await bot.courier.settled()
    topics = fake_api.topics(STAFF_CHAT_ID)
    assert len(topics) == 1 and first not in topics
    [second] = list(topics)
    card = fake_api.messages_to(STAFF_CHAT_ID, thread_id=second)[0]
    assert "T-00001" in card["text"]
    assert "internet is down" in card["text"] and "router is red" in card["text"]
    async with services.db.session() as session:
        ticket = (await session.exec(select(Ticket))).one()
        retried = (
            await session.exec(
                select(OutboxMessage).where(col(OutboxMessage.status).in_(["pending", "sending"]))
            )
        ).all()
    assert ticket.staff_thread_id == second and retried == []
