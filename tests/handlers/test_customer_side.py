"""What customers do besides reporting: their data, ratings, edits, unclear messages, floods."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlmodel import select

from bot.core.clock import FrozenClock
from bot.core.services import Services
from bot.jobs.context import JobContext
from bot.jobs.staff import flood_release
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from storage.models import Customer, Feedback, Label, Rating, Ticket, TicketMessage
from tests.support import STAFF_CHAT_ID, button_with, make_settings, send


def staff_chat(fake_api: FakeBotApi) -> dict[str, Any]:
    staff = fake_api.new_user("Sara")
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True, members=[staff["id"]])
    return staff


async def test_mydata_returns_what_is_stored_and_forget_erases_it(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff_chat(fake_api)
    customer = fake_api.new_user(
        "Giulia", last_name="Romano", username="giuliar", language_code="it"
    )
    problem = "La bolletta di ottobre è sbagliata, mi avete addebitato 40 euro in più"
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(customer, problem))
        await send(bot, fake_api.send_text(customer, "/mydata"))
        document = fake_api.calls_to("sendDocument")[-1]
        data = json.loads(fake_api.file_content(document))
        assert data["customer"]["first_name"] == "Giulia"
        assert data["customer"]["username"] == "giuliar"
        assert [m["text"] for m in data["messages"]] == [problem]
        assert len(data["tickets"]) == 1

        await send(bot, fake_api.send_text(customer, "/forget"))
        confirm = fake_api.messages_to(customer["id"])[-1]
        await send(bot, fake_api.press_button(customer, confirm, button_with(confirm, "f:yes")))

    async with services.db.session() as session:
        stored = (await session.exec(select(Customer))).one()
        feedback = (await session.exec(select(Feedback))).all()
        messages = (await session.exec(select(TicketMessage))).all()
        tickets = (await session.exec(select(Ticket))).all()
    assert (stored.first_name, stored.last_name, stored.username) == (None, None, None)
    assert stored.telegram_user_id != customer["id"] and stored.forgotten_at is not None
    assert [f.text for f in feedback] == [""] and all(m.text == "" for m in messages)
    # Anonymous counts remain: the message and its ticket still count.
    assert len(feedback) == 1 and feedback[0].kind == "care" and len(tickets) == 1


async def test_forget_cancelled_erases_nothing(fake_api: FakeBotApi, services: Services) -> None:
    customer = fake_api.new_user("Tom")
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(customer, "Thanks for the quick help yesterday!"))
        await send(bot, fake_api.send_text(customer, "/forget"))
        confirm = fake_api.messages_to(customer["id"])[-1]
        await send(bot, fake_api.press_button(customer, confirm, "f:no"))
    async with services.db.session() as session:
        stored = (await session.exec(select(Customer))).one()
        feedback = (await session.exec(select(Feedback))).one()
    assert stored.first_name == "Tom" and feedback.text.startswith("Thanks")


async def test_rate_command_with_comment(fake_api: FakeBotApi, services: Services) -> None:
    customer = fake_api.new_user("Emma")
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(customer, "/rate"))
        ask = fake_api.messages_to(customer["id"])[-1]
        await send(bot, fake_api.press_button(customer, ask, button_with(ask, "r:0:4")))
        await send(bot, fake_api.press_button(customer, ask, button_with(ask, "r:0:5")))
        await send(bot, fake_api.send_text(customer, "quick and friendly"))
    async with services.db.session() as session:
        ratings = (await session.exec(select(Rating))).all()
        feedback = (await session.exec(select(Feedback))).all()
    # One rating per question: the second press was ignored; the next text is its comment.
    assert [(r.score, r.comment, r.ticket_id) for r in ratings] == [(4, "quick and friendly", None)]
    assert feedback == []  # the comment was taken as a comment, not as new feedback


async def test_mytickets_lists_the_customers_tickets(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff_chat(fake_api)
    customer = fake_api.new_user("Tom")
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(customer, "/mytickets"))
        assert "no requests" in fake_api.messages_to(customer["id"])[-1]["text"]
        await send(bot, fake_api.send_text(customer, "My router keeps rebooting every hour"))
        await send(bot, fake_api.send_text(customer, "/mytickets"))
    assert "T-00001" in fake_api.messages_to(customer["id"])[-1]["text"]


async def test_an_edited_message_is_shown_to_staff_as_edited(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff_chat(fake_api)
    customer = fake_api.new_user("Aisha")
    async with LocalBot(services) as bot:
        first = fake_api.send_text(customer, "The app crashes when I open my bills on Android")
        await send(bot, first)
        await send(bot, fake_api.edit_text(first, "The app crashes when I open my bills on iOS"))
    edited = fake_api.messages_to(STAFF_CHAT_ID)[-1]
    assert "edited" in edited["text"] and "on iOS" in edited["text"]
    async with services.db.session() as session:
        feedback = (await session.exec(select(Feedback))).one()
    assert feedback.text.endswith("on iOS") and feedback.edited_at is not None


async def test_unclear_message_asks_and_the_answer_routes_it(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff_chat(fake_api)
    unsure = replace(
        services, settings=make_settings(fake_api, services.db.url, triage_min_confidence=1.0)
    )
    customer = fake_api.new_user("Luca", language_code="it")
    async with LocalBot(unsure) as bot:
        await send(bot, fake_api.send_text(customer, "la fattura"))
        question = fake_api.messages_to(customer["id"])[-1]
        assert fake_api.messages_to(STAFF_CHAT_ID) == []
        care = button_with(question, "k:care:")
        await send(bot, fake_api.press_button(customer, question, care))
        await send(bot, fake_api.press_button(customer, question, care))  # a second press
    assert len(fake_api.messages_to(STAFF_CHAT_ID)) == 1
    async with services.db.session() as session:
        label = (await session.exec(select(Label))).one()
        feedback = (await session.exec(select(Feedback))).one()
        tickets = (await session.exec(select(Ticket))).all()
    assert (label.field, label.value, label.source) == ("kind", "care", "customer")
    assert feedback.kind == "care" and feedback.routed_at is not None and len(tickets) == 1


async def test_flood_gets_one_notice_and_is_routed_together(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    staff_chat(fake_api)
    customer = fake_api.new_user("Marco", language_code="it")
    limit = services.settings.flood_limit_per_minute
    async with LocalBot(services) as bot:
        for n in range(limit + 4):
            await send(bot, fake_api.send_text(customer, f"il modem non va, tentativo {n}"))
            clock.advance(seconds=2)
        to_customer = fake_api.messages_to(customer["id"])
        notices = [m for m in to_customer if "più veloce" in m["text"]]
        assert len(notices) == 1
        staff_before = len(fake_api.messages_to(STAFF_CHAT_ID))
        clock.advance(timedelta(minutes=2))
        released = await flood_release(JobContext.for_bot(services, bot.application.bot))
    assert released == 4
    staff_after = fake_api.messages_to(STAFF_CHAT_ID)
    assert len(staff_after) == staff_before + 1
    grouped = staff_after[-1]["text"]
    assert all(f"tentativo {n}" in grouped for n in range(limit, limit + 4))
    async with services.db.session() as session:
        feedback = (await session.exec(select(Feedback))).all()
    assert len(feedback) == limit + 4 and all(f.routed_at is not None for f in feedback)
