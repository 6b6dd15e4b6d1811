"""Self-service answers through the real Application and the fake Bot API: suggested with the
acknowledgement, "solved" closes the ticket without a card, "a person" and silence send the card
with the suggestion named; only the customer's language; none for urgent anger; staff save a
reply as an answer that the next similar question gets; customers look answers up; a card
redrawn after a claim still names the suggestion (the weekly job that flags the answers that
never help: tests/jobs/test_answers_weekly.py)."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.core.clock import FrozenClock
from bot.core.services import Services
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from storage.models import AnswerOffer, Ticket, TicketStatus
from tests.support import STAFF_CHAT_ID, send, staff_member
from tests.support.answers import ROAMING_EN, ROAMING_IT

QUESTION = "How do I activate roaming for my trip abroad?"
SOLVED, PERSON = "✅ This solved it", "🙋 I still need a person"


def buttons(message: dict[str, Any]) -> dict[str, str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row if "callback_data" in b}


def cards(fake_api: FakeBotApi, reference: str) -> list[dict[str, Any]]:
    """The ticket cards (with their Claim button) of a ticket in the staff chat."""
    return [
        m
        for m in fake_api.messages_to(STAFF_CHAT_ID)
        if reference in m["text"] and any(d.startswith("t:claim:") for d in buttons(m).values())
    ]


async def staff_with_answers(fake_api: FakeBotApi, bot: LocalBot, *commands: str) -> dict[str, Any]:
    staff = staff_member(fake_api)
    for command in commands:
        await send(bot, fake_api.send_text(staff, command, chat=STAFF_CHAT_ID))
        assert "saved" in fake_api.messages_to(STAFF_CHAT_ID)[-1]["text"]
    return staff


async def asks(fake_api: FakeBotApi, bot: LocalBot) -> tuple[dict[str, Any], dict[str, Any]]:
    """Tom asks the question: he, and the acknowledgement he gets (answers suggested in it)."""
    customer = fake_api.new_user("Tom")
    await send(bot, fake_api.send_text(customer, QUESTION))
    return customer, fake_api.messages_to(customer["id"])[-1]


async def offered(
    fake_api: FakeBotApi, bot: LocalBot
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Staff keep the roaming answer and Tom asks the question: staff, Tom, and the
    acknowledgement that offers him the answer."""
    staff = await staff_with_answers(fake_api, bot, ROAMING_EN)
    customer, ack = await asks(fake_api, bot)
    return staff, customer, ack


async def offer_of(services: Services, ticket_id: int = 1) -> AnswerOffer | None:
    async with services.db.session() as session:
        rows = await session.exec(select(AnswerOffer).where(AnswerOffer.ticket_id == ticket_id))
        return rows.first()


async def test_solved_closes_the_ticket_and_staff_never_see_a_card(
    fake_api: FakeBotApi, services: Services
) -> None:
    async with LocalBot(services) as bot:
        await staff_with_answers(fake_api, bot, ROAMING_EN, ROAMING_IT)
        customer, ack = await asks(fake_api, bot)
        assert "T-00001" in ack["text"] and "Turn on roaming before a trip" in ack["text"]
        assert "Attivare" not in ack["text"]  # English answers only
        assert set(buttons(ack)) == {SOLVED, PERSON}
        assert cards(fake_api, "T-00001") == []  # the card waits for the customer

        await send(bot, fake_api.press_button(customer, ack, buttons(ack)[SOLVED]))
        assert "closed" in fake_api.messages_to(customer["id"])[-1]["text"]
        await bot.courier.settled()
        assert cards(fake_api, "T-00001") == []
    async with services.db.session() as session:
        ticket = await session.get(Ticket, 1)
        assert ticket is not None and ticket.status == TicketStatus.RESOLVED
        assert ticket.staff_pending_since is None and ticket.first_response_at is None
    offer = await offer_of(services)
    assert offer is not None and offer.outcome == "solved"


async def test_a_person_gets_the_card_at_once_with_the_suggestion_named(
    fake_api: FakeBotApi, services: Services
) -> None:
    async with LocalBot(services) as bot:
        _, customer, ack = await offered(fake_api, bot)
        assert cards(fake_api, "T-00001") == []
        await send(bot, fake_api.press_button(customer, ack, buttons(ack)[PERSON]))
        assert "goes to the team now" in fake_api.messages_to(customer["id"])[-1]["text"]
        await bot.courier.settled()
        [card] = cards(fake_api, "T-00001")
        assert "Suggested first: A-1 «Turn on roaming before a trip»" in card["text"]
        assert "still needs a person" in card["text"] and QUESTION in card["text"]
        # Pressing again changes nothing.
        await send(bot, fake_api.press_button(customer, ack, buttons(ack).get(SOLVED, "s:ok:1")))
        await bot.courier.settled()
        assert len(cards(fake_api, "T-00001")) == 1
    async with services.db.session() as session:
        ticket = await session.get(Ticket, 1)
        assert ticket is not None and ticket.status == TicketStatus.OPEN


async def test_silence_sends_the_card_after_the_wait(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    async with LocalBot(services) as bot:
        await offered(fake_api, bot)
        clock.advance(minutes=9)
        await bot.courier.settled()
        assert cards(fake_api, "T-00001") == []
        clock.advance(minutes=1)
        await bot.courier.settled()
        [card] = cards(fake_api, "T-00001")
        assert "no answer from the customer within 10 minutes" in card["text"]
        assert "A-1 «Turn on roaming before a trip»" in card["text"]
    offer = await offer_of(services)
    assert offer is not None and offer.outcome == "timeout"


async def test_italian_gets_italian_answers_and_urgent_anger_gets_none(
    fake_api: FakeBotApi, services: Services
) -> None:
    async with LocalBot(services) as bot:
        await staff_with_answers(fake_api, bot, ROAMING_EN, ROAMING_IT)
        giulia = fake_api.new_user("Giulia", language_code="it")
        await send(
            bot,
            fake_api.send_text(giulia, "Come attivo il roaming per il mio viaggio all'estero?"),
        )
        ack = fake_api.messages_to(giulia["id"])[-1]
        assert "Attivare il roaming prima di un viaggio" in ack["text"]
        assert "Turn on roaming" not in ack["text"]
        assert set(buttons(ack)) == {"✅ Ho risolto così", "🙋 Mi serve comunque una persona"}

        angry = fake_api.new_user("Max")
        text = "URGENT: roaming still not working abroad, this is unacceptable, I am furious!"
        await send(bot, fake_api.send_text(angry, text))
        told = fake_api.messages_to(angry["id"])[-1]
        assert "T-00002" in told["text"] and "Turn on roaming" not in told["text"]
        assert buttons(told) == {}
        [card] = cards(fake_api, "T-00002")  # straight to staff
        assert "Suggested" not in card["text"]
    assert await offer_of(services, 2) is None


async def test_a_staff_reply_saved_as_an_answer_serves_the_next_question(
    fake_api: FakeBotApi, services: Services
) -> None:
    async with LocalBot(services) as bot:
        staff = await staff_with_answers(fake_api, bot)
        first = fake_api.new_user("Tom")
        await send(
            bot, fake_api.send_text(first, "The wifi from my router disconnects every night")
        )
        [card] = cards(fake_api, "T-00001")
        thread = card["message_thread_id"]
        reply = fake_api.send_text(
            staff,
            "Hi Tom, restart the router and move it away from the microwave; set the wifi "
            "channel to automatic in the router settings.",
            chat=STAFF_CHAT_ID,
            message_thread_id=thread,
        )
        await send(bot, reply)
        assert "restart the router" in fake_api.messages_to(first["id"])[-1]["text"]
        await send(
            bot,
            fake_api.send_text(
                staff,
                "/answer save",
                chat=STAFF_CHAT_ID,
                message_thread_id=thread,
                reply_to_message=reply["message"],
            ),
        )
        draft = fake_api.messages_to(STAFF_CHAT_ID)[-1]["text"]
        assert "Take out anything about the customer" in draft
        command = draft.split("\n", 1)[1]
        assert command.startswith("/answer add en ") and "Hi Tom" in command
        cleaned = command.replace("Hi Tom, r", "R").replace("| Hi Tom, restart", "| Restart")
        await send(bot, fake_api.send_text(staff, cleaned, chat=STAFF_CHAT_ID))
        assert "Answer A-1 saved" in fake_api.messages_to(STAFF_CHAT_ID)[-1]["text"]

        second = fake_api.new_user("Ann")
        await send(
            bot,
            fake_api.send_text(
                second,
                "The wifi drops every evening: should I restart the router? It sits next to "
                "the microwave.",
            ),
        )
        ack = fake_api.messages_to(second["id"])[-1]
        assert "move it away from the microwave" in ack["text"] and "Tom" not in ack["text"]
        assert set(buttons(ack)) == {SOLVED, PERSON}

        # Staff see the answers with their usefulness, and retire one.
        await send(bot, fake_api.send_text(staff, "/answers", chat=STAFF_CHAT_ID))
        listing = fake_api.messages_to(STAFF_CHAT_ID)[-1]["text"]
        assert "A-1 [en · " in listing and "— 1 · 0 · 0" in listing
        await send(bot, fake_api.send_text(staff, "/answer retire A-1", chat=STAFF_CHAT_ID))
        assert "retired" in fake_api.messages_to(STAFF_CHAT_ID)[-1]["text"]


async def test_customers_look_answers_up_and_managers_keep_their_guide(
    fake_api: FakeBotApi, services: Services
) -> None:
    from tests.support import MANAGER_ID

    async with LocalBot(services) as bot:
        await staff_with_answers(fake_api, bot, ROAMING_EN, ROAMING_IT)
        customer = fake_api.new_user("Tom")
        await send(bot, fake_api.send_text(customer, "/help roaming abroad"))
        found = fake_api.messages_to(customer["id"])[-1]["text"]
        assert "Answers for “roaming abroad”" in found and "Turn on roaming" in found
        await send(bot, fake_api.send_text(customer, "/help"))
        top = fake_api.messages_to(customer["id"])[-1]["text"]
        assert "most used answers" in top and "Turn on roaming" in top
        await send(bot, fake_api.send_text(customer, "/help invoice refund"))
        assert "No answer found" in fake_api.messages_to(customer["id"])[-1]["text"]
        manager = fake_api.new_user("Elena", user_id=MANAGER_ID)
        await send(bot, fake_api.send_text(manager, "/help"))
        assert "What the numbers count" in fake_api.messages_to(MANAGER_ID)[-1]["text"]


async def test_a_customer_who_asked_for_a_person_is_not_offered_again(
    fake_api: FakeBotApi, services: Services
) -> None:
    async with LocalBot(services) as bot:
        staff, customer, ack = await offered(fake_api, bot)
        await send(bot, fake_api.press_button(customer, ack, buttons(ack)[PERSON]))
        [card] = cards(fake_api, "T-00001")
        await send(bot, fake_api.press_button(staff, card, "t:resolve:1"))
        await send(
            bot, fake_api.send_text(customer, "How can I turn on roaming before travelling?")
        )
        again = [m for m in fake_api.messages_to(customer["id"]) if "T-00002" in m["text"]]
        assert again and buttons(again[-1]) == {}
        assert cards(fake_api, "T-00002")
    assert await offer_of(services, 2) is None


async def test_a_card_redrawn_after_a_claim_still_names_the_suggestion(
    fake_api: FakeBotApi, services: Services
) -> None:
    async with LocalBot(services) as bot:
        staff, customer, ack = await offered(fake_api, bot)
        await send(bot, fake_api.press_button(customer, ack, buttons(ack)[PERSON]))
        await bot.courier.settled()
        [card] = cards(fake_api, "T-00001")
        named = "Suggested first: A-1 «Turn on roaming before a trip»; the customer still needs"
        assert named in card["text"] and "Claimed by" not in card["text"]

        await send(bot, fake_api.press_button(staff, card, buttons(card)["🙋 Claim"]))
        edits = [
            c
            for c in fake_api.calls_to("editMessageText")
            if c.ok and c.params["message_id"] == card["message_id"]
        ]
        assert len(edits) == 1  # the claim redrew the card once...
        [redrawn] = [m for m in cards(fake_api, "T-00001") if m["message_id"] == card["message_id"]]
        assert "Claimed by Sara" in redrawn["text"]
        assert named in redrawn["text"]  # ...and the suggestion is still named on it
        assert QUESTION in redrawn["text"]
