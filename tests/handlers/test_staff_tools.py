"""Staff tools around the care loop: media, canned replies, routing by topic, SLA reminders,
command menus."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from bot.app.application import set_command_menus
from bot.core.clock import FrozenClock
from bot.core.services import Services
from bot.jobs.context import JobContext
from bot.jobs.staff import sla_check
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from storage.models import Feedback, Ticket, TicketMessage
from tests.support import MANAGER_ID, STAFF_CHAT_ID, make_settings, send

BILLING_CHAT_ID = -1001000000002


def staff_group(fake_api: FakeBotApi, *, forum: bool = True) -> dict[str, Any]:
    staff = fake_api.new_user("Sara")
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=forum, members=[staff["id"]])
    return staff


async def test_a_photo_with_a_caption_reaches_staff_as_a_copy(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff_group(fake_api)
    customer = fake_api.new_user("Tom")
    async with LocalBot(services) as bot:
        await send(
            bot,
            fake_api.send_photo(customer, caption="My router shows a red light and no internet"),
        )
    copies = [c for c in fake_api.calls_to("copyMessage") if c.ok]
    assert len(copies) == 1 and copies[0].params["chat_id"] == STAFF_CHAT_ID
    card = fake_api.messages_to(STAFF_CHAT_ID)[0]
    assert "T-00001" in card["text"] and "red light" in card["text"]
    assert "photo" in fake_api.messages_to(STAFF_CHAT_ID)[1]
    async with services.db.session() as session:
        feedback = (await session.exec(select(Feedback))).one()
    assert feedback.media_type == "photo" and feedback.kind == "care"


async def test_a_voice_note_is_kept_and_answered(fake_api: FakeBotApi, services: Services) -> None:
    staff_group(fake_api)
    customer = fake_api.new_user("Ada")
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_voice(customer))
    async with services.db.session() as session:
        feedback = (await session.exec(select(Feedback))).one()
    assert feedback.media_type == "voice"
    # Nothing to read: the customer is answered (asked what it is about), never ignored.
    assert fake_api.messages_to(customer["id"])


async def test_canned_replies_are_saved_and_sent_to_the_customer(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff = staff_group(fake_api)
    customer = fake_api.new_user("Emma")
    async with LocalBot(services) as bot:
        await send(
            bot, fake_api.send_text(customer, "My internet has been down since this morning")
        )
        thread = fake_api.messages_to(STAFF_CHAT_ID)[0]["message_thread_id"]
        await send(
            bot,
            fake_api.send_text(
                staff,
                "/canned add restart Please unplug the router for 30 seconds, then plug it in.",
                chat=STAFF_CHAT_ID,
                message_thread_id=thread,
            ),
        )
        await send(
            bot,
            fake_api.send_text(
                staff, "/canned restart", chat=STAFF_CHAT_ID, message_thread_id=thread
            ),
        )
        await send(
            bot,
            fake_api.send_text(
                staff, "/canned nosuch", chat=STAFF_CHAT_ID, message_thread_id=thread
            ),
        )
    to_customer = fake_api.messages_to(customer["id"])
    assert "unplug the router for 30 seconds" in to_customer[-1]["text"]
    assert sum("unplug the router" in m["text"] for m in to_customer) == 1
    assert "nosuch" in fake_api.messages_to(STAFF_CHAT_ID)[-1]["text"]
    async with services.db.session() as session:
        ticket = (await session.exec(select(Ticket))).one()
        replies = (
            await session.exec(select(TicketMessage).where(TicketMessage.author == "staff"))
        ).all()
    assert ticket.first_response_at is not None
    assert [r.text for r in replies] == [
        "Please unplug the router for 30 seconds, then plug it in."
    ]


async def test_topics_route_to_their_own_staff_chat(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff_group(fake_api)
    fake_api.add_supergroup(BILLING_CHAT_ID, title="Billing", is_forum=True)
    routed = Services(
        settings=make_settings(
            fake_api, services.db.url, topic_routes=f"billing={BILLING_CHAT_ID}"
        ),
        db=services.db,
        triage=services.triage,
        clock=services.clock,
        catalog=services.catalog,
    )
    customer = fake_api.new_user("Tom")
    async with LocalBot(routed) as bot:
        await send(bot, fake_api.send_text(customer, "I was charged twice on my last bill"))
        await send(bot, fake_api.send_text(fake_api.new_user("Ann"), "No signal at all in my flat"))
    assert "charged twice" in fake_api.messages_to(BILLING_CHAT_ID)[0]["text"]
    assert "No signal" in fake_api.messages_to(STAFF_CHAT_ID)[0]["text"]
    assert not any("charged" in m["text"] for m in fake_api.messages_to(STAFF_CHAT_ID))


async def test_sla_reminds_staff_then_alerts_managers_once_each(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    staff_group(fake_api)
    manager = fake_api.new_user("Elena")
    start = fake_api.send_text(manager, "/start")  # before the bot can write to managers
    services = Services(
        settings=make_settings(fake_api, services.db.url, manager_ids=str(manager["id"])),
        db=services.db,
        triage=services.triage,
        clock=clock,
        catalog=services.catalog,
    )
    customer = fake_api.new_user("Tom")
    sla = services.settings.sla_minutes
    async with LocalBot(services) as bot:
        await send(bot, start)  # its greeting must not arrive after the alert
        await send(bot, fake_api.send_text(customer, "My phone has no signal since yesterday"))
        context = JobContext.for_bot(services, bot.application.bot)
        thread = fake_api.messages_to(STAFF_CHAT_ID)[0]["message_thread_id"]

        clock.advance(timedelta(minutes=sla - 1))
        assert await sla_check(context) == (0, 0)
        clock.advance(timedelta(minutes=2))
        assert await sla_check(context) == (1, 0)
        assert await sla_check(context) == (0, 0)  # once
        reminder = fake_api.messages_to(STAFF_CHAT_ID, thread)[-1]
        assert "T-00001" in reminder["text"]

        clock.advance(timedelta(minutes=sla))
        assert await sla_check(context) == (0, 1)
        assert await sla_check(context) == (0, 0)
        alert = fake_api.messages_to(manager["id"])[-1]
        assert "T-00001" in alert["text"]
        # A wait told as people say it, not as a count of minutes.
        assert f"has waited {2 * sla + 1} minutes" not in alert["text"]
        assert "2 hours 1 minute" in alert["text"], alert["text"]


async def test_answered_tickets_are_not_reminded(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    staff = staff_group(fake_api)
    customer = fake_api.new_user("Tom")
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(customer, "My phone has no signal since yesterday"))
        thread = fake_api.messages_to(STAFF_CHAT_ID)[0]["message_thread_id"]
        await send(
            bot,
            fake_api.send_text(
                staff, "We are on it, Tom.", chat=STAFF_CHAT_ID, message_thread_id=thread
            ),
        )
        clock.advance(timedelta(days=1))
        context = JobContext.for_bot(services, bot.application.bot)
        assert await sla_check(context) == (0, 0)


async def test_each_audience_gets_its_command_menu(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff_group(fake_api)
    async with LocalBot(services) as bot:
        await set_command_menus(bot.application, services)
    menus = {key: [c["command"] for c in commands] for key, commands in fake_api.commands.items()}
    assert "rate" in menus["all_private_chats"] and "summary" not in menus["all_private_chats"]
    assert "mytickets" in menus["all_private_chats:it"]
    assert "canned" in menus[f"chat:{STAFF_CHAT_ID}"]
    assert "summary" in menus[f"chat:{MANAGER_ID}"]
