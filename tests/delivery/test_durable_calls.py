"""Every outgoing Bot API call goes through the outbox and records what Telegram returned:
one topic and one card per ticket however often its card is drawn, and charts, documents and
media relayed to customers that meet a 5xx are delivered later by the outbox worker, once.

Through the real Application against the fake Bot API server; the fake server holds or fails
calls where Telegram would be slow or down.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from bot.core.clock import FrozenClock
from bot.core.services import Services
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from storage import outbox
from storage.models import InboxUpdate, MessageAuthor, OutboxMessage, Ticket, TicketMessage
from tests.support import MANAGER_ID, STAFF_CHAT_ID, send

PROBLEM = "My internet is down since this morning, the router light is red"


async def until(condition: Callable[[], Any], *, timeout: float = 15.0) -> Any:
    """Wait for a condition on what the fake server saw; its value once true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (value := condition()):
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
    return value


async def until_stored(condition: Callable[[], Awaitable[Any]], *, timeout: float = 15.0) -> Any:
    """Wait for a condition on the database; its value once true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (value := await condition()):
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
    return value


async def the_ticket(services: Services) -> Ticket:
    async with services.db.session() as session:
        return (await session.exec(select(Ticket))).one()


async def rows(services: Services) -> list[OutboxMessage]:
    async with services.db.session() as session:
        return list((await session.exec(select(OutboxMessage))).all())


def cards(fake_api: FakeBotApi, reference: str = "T-00001") -> list[dict[str, Any]]:
    """The ticket's cards in the staff chat: its messages with the ticket's buttons."""
    return [
        m
        for m in fake_api.messages_to(STAFF_CHAT_ID)
        if reference in m.get("text", "") and "t:claim:" in str(m.get("reply_markup"))
    ]


# One topic, one card ------------------------------------------------------------------------


async def test_a_card_drawn_by_two_rounds_at_once_opens_one_topic_and_one_card(
    fake_api: FakeBotApi, services: Services
) -> None:
    """The courier's round is opening a ticket's topic (Telegram is slow to answer) when
    another round draws the same ticket (the scheduler's backlog job, or a process whose
    chat turn came while the first round overran its own): one createForumTopic call."""
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True)
    customer = fake_api.new_user("Ada")
    fake_api.hold("createForumTopic")
    async with LocalBot(services) as bot:
        update = fake_api.send_text(customer, PROBLEM)
        await until(lambda: fake_api.calls_to("createForumTopic"))  # the first round waits
        second = asyncio.create_task(bot.courier.desk.flush_backlog())
        # The second round either makes its own call or finds the first one's and gives up.
        await until(lambda: second.done() or len(fake_api.calls_to("createForumTopic")) > 1)
        fake_api.release("createForumTopic")
        await second
        await send(bot, update)
        await bot.courier.settled()
    assert len(fake_api.calls_to("createForumTopic")) == 1
    [thread] = list(fake_api.topics(STAFF_CHAT_ID))
    [card] = cards(fake_api)
    assert card["message_thread_id"] == thread
    ticket = await the_ticket(services)
    assert (ticket.staff_thread_id, ticket.staff_card_message_id) == (thread, card["message_id"])
    assert ticket.staff_pending_since is None


async def test_a_card_sent_late_is_recorded_and_the_next_message_follows_it(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    """In a group without topics the card is what everything about the ticket replies to:
    when its first send meets a 5xx and the outbox worker delivers it later, Telegram's id for
    it is recorded, and the customer's next message reaches staff as a reply to that card."""
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=False)
    customer = fake_api.new_user("Ada")
    fake_api.fail("sendMessage", status=502, chat_id=STAFF_CHAT_ID)
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(customer, PROBLEM))
        assert cards(fake_api) == []  # the card waits in the outbox
        clock.advance(timedelta(seconds=30))  # its backoff passes on the service's clock
        [card] = await until(lambda: cards(fake_api))

        async def recorded() -> bool:
            return (await the_ticket(services)).staff_card_message_id == card["message_id"]

        await until_stored(recorded)
        await send(bot, fake_api.send_text(customer, "Still nothing, I restarted it twice"))
        more = await until(
            lambda: [
                m
                for m in fake_api.messages_to(STAFF_CHAT_ID)
                if "restarted it twice" in m.get("text", "")
            ]
        )
    assert len(cards(fake_api)) == 1
    assert [m["reply_to_message"]["message_id"] for m in more] == [card["message_id"]]
    assert not fake_api.calls_to("createForumTopic") or all(
        not c.ok for c in fake_api.calls_to("createForumTopic")
    )


# Files --------------------------------------------------------------------------------------


async def test_charts_that_meet_a_server_error_are_delivered_later_once(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True)
    customer = fake_api.new_user("Ada")
    manager = fake_api.new_user("Elena", user_id=MANAGER_ID)
    fake_api.fail("sendPhoto", status=502)
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(customer, PROBLEM))
        await send(bot, fake_api.send_text(manager, "/report week"))
        delivered = [c for c in fake_api.calls_to("sendPhoto") if c.ok]
        failed = [c for c in fake_api.calls_to("sendPhoto") if not c.ok]
        assert len(failed) == 1 and len(delivered) == 4  # the others are not held up
        clock.advance(timedelta(seconds=30))
        await until(lambda: len([c for c in fake_api.calls_to("sendPhoto") if c.ok]) == 5)
        clock.advance(timedelta(minutes=10))  # nothing more is due, however long one waits
        assert await bot.outbox.send_due() == 0
    photos = [c for c in fake_api.calls_to("sendPhoto") if c.ok]
    assert len(photos) == 5
    captions = [c.params["caption"] for c in photos]
    assert len(set(captions)) == 5 and failed[0].params["caption"] == captions[-1]
    assert fake_api.file_content(photos[-1]) == fake_api.file_content(failed[0])
    assert fake_api.file_content(photos[-1]).startswith(b"\x89PNG\r\n\x1a\n")
    assert len(fake_api.messages_to(MANAGER_ID)) == 5
    stored = [r for r in await rows(services) if r.method == "sendPhoto"]
    # Sent: the rows keep their outcome, not the pictures.
    assert {r.status for r in stored} == {outbox.SENT} and {r.payload for r in stored} == {"{}"}


async def test_an_export_that_meets_a_server_error_is_delivered_later_once(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True)
    customer = fake_api.new_user("Ada")
    manager = fake_api.new_user("Elena", user_id=MANAGER_ID)
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(customer, PROBLEM))
        clock.advance(timedelta(minutes=1))  # the window ends now: the ticket is inside it
        fake_api.fail("sendDocument", status=503)
        await send(bot, fake_api.send_text(manager, "/export week"))
        assert len([c for c in fake_api.calls_to("sendDocument") if c.ok]) == 1
        clock.advance(timedelta(seconds=30))
        await until(lambda: len([c for c in fake_api.calls_to("sendDocument") if c.ok]) == 2)
        clock.advance(timedelta(minutes=10))
        assert await bot.outbox.send_due() == 0
    documents = [c for c in fake_api.calls_to("sendDocument") if c.ok]
    names = sorted(c.uploads["document"].filename.split("-")[0] for c in documents)
    assert names == ["ideas", "tickets"]
    tickets = next(c for c in documents if c.uploads["document"].filename.startswith("tickets"))
    [row] = list(csv.DictReader(io.StringIO(fake_api.file_content(tickets).decode())))
    assert "T-00001" in row.values()
    stored = [r for r in await rows(services) if r.method == "sendDocument"]
    assert {r.status for r in stored} == {outbox.SENT} and {r.payload for r in stored} == {"{}"}


async def test_a_customers_data_file_that_meets_a_server_error_is_delivered_later_once(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    customer = fake_api.new_user("Ada", username="ada_l")
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(customer, "Thanks, the technician was great!"))
        fake_api.fail("sendDocument", status=500)
        await send(bot, fake_api.send_text(customer, "/mydata"))
        clock.advance(timedelta(seconds=30))
        [document] = await until(lambda: [c for c in fake_api.calls_to("sendDocument") if c.ok])
        clock.advance(timedelta(minutes=10))
        assert await bot.outbox.send_due() == 0
    assert b"ada_l" in fake_api.file_content(document)
    assert len([m for m in fake_api.messages_to(customer["id"]) if "document" in m]) == 1
    [row] = [r for r in await rows(services) if r.method == "sendDocument"]
    # Telegram has the file: the row keeps neither it nor the customer's chat.
    assert (row.status, row.payload, row.chat_id) == (outbox.SENT, "{}", 0)


# Edits --------------------------------------------------------------------------------------


async def test_a_card_edit_that_meets_a_server_error_never_undoes_a_later_one(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    """Claimed, the card's redraw meets a 5xx and waits for a retry; resolved a moment later,
    the card is redrawn at once. The claim goes on (staff hear who claimed it) and the retry
    of the older redraw is never made: the card stays resolved."""
    staff = fake_api.new_user("Sara")
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True, members=[staff["id"]])
    customer = fake_api.new_user("Ada")
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(customer, PROBLEM))
        [card] = cards(fake_api)
        fake_api.fail("editMessageText", status=502)
        await send(bot, fake_api.press_button(staff, card, "t:claim:1"))
        await send(bot, fake_api.press_button(staff, card, "t:resolve:1"))
        clock.advance(timedelta(minutes=5))
        assert await bot.outbox.send_due() == 0
    thread = fake_api.messages_to(STAFF_CHAT_ID, thread_id=card["message_thread_id"])
    assert any("Sara claimed this ticket" in m.get("text", "") for m in thread)
    [now] = [m for m in thread if m["message_id"] == card["message_id"]]
    assert "✅ Resolved" in now["text"] and "t:reopen:1" in str(now["reply_markup"])
    edits = fake_api.calls_to("editMessageText")
    assert [c.status for c in edits] == [502, 200]


# Media relayed to customers -----------------------------------------------------------------


async def test_a_photo_staff_send_a_customer_is_delivered_after_a_server_error(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    staff = fake_api.new_user("Sara")
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True, members=[staff["id"]])
    customer = fake_api.new_user("Ada")
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(customer, PROBLEM))
        [card] = cards(fake_api)
        fake_api.fail("copyMessage", status=500)
        reply = fake_api.send_photo(
            staff,
            caption="Press the reset button for 10 seconds, as here",
            chat=STAFF_CHAT_ID,
            message_thread_id=card["message_thread_id"],
        )
        await send(bot, reply)

        def photos() -> list[dict[str, Any]]:
            return [m for m in fake_api.messages_to(customer["id"]) if "photo" in m]

        assert photos() == []
        clock.advance(timedelta(seconds=30))
        await until(photos)
        async with services.db.session() as session:
            replies = (
                await session.exec(
                    select(TicketMessage).where(TicketMessage.author == MessageAuthor.STAFF)
                )
            ).all()
        assert len(replies) == 1  # recorded although its photo went later
        # Processed again (a crash before the update was marked done): nothing goes twice.
        async with services.db.session() as session:
            await session.exec(
                update(InboxUpdate)  # type: ignore[call-overload]
                .where(col(InboxUpdate.update_id) == reply["update_id"])
                .values(processed_at=None, claimed_by=None, claimed_until=None)
            )
        await bot.inbox.drain()
        await send(bot, reply)
    [photo] = photos()
    assert photo["caption"] == "Press the reset button for 10 seconds, as here"
    headers = [m for m in fake_api.messages_to(customer["id"]) if "T-00001" in m.get("text", "")]
    assert len(headers) == 2  # the acknowledgement and the reply's header, once each
    assert len([c for c in fake_api.calls_to("copyMessage") if c.ok]) == 1
