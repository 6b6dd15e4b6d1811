"""Self-service answers through the real Application and the fake Bot API: suggested with the
acknowledgement, "solved" closes the ticket without a card, "a person" and silence send the card
with the suggestion named; only the customer's language; none for urgent anger; staff save a
reply as an answer that the next similar question gets; customers look answers up; a card
redrawn after a claim still names the suggestion; the weekly job flags to staff exactly the
answers that never help."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.core.clock import FrozenClock
from bot.core.services import Services
from bot.core.triage import TriageService
from bot.i18n import Catalog
from bot.jobs.context import JobContext, run_once
from bot.jobs.staff import NEVER_HELPS_AFTER, answers_weekly
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from nlp import Triager
from storage.answers import decide_offer, record_offer
from storage.customers import upsert_customer
from storage.db import Database
from storage.models import AnswerOffer, OfferOutcome, Ticket, TicketStatus
from storage.tickets import open_ticket
from tests.support import STAFF_CHAT_ID, make_settings, send, staff_member

ROAMING_EN = (
    "/answer add en network | Turn on roaming before a trip | Open the app, go to Settings, "
    "Roaming, and switch roaming on before you travel abroad; it works in a few minutes."
)
ROAMING_IT = (
    "/answer add it network | Attivare il roaming prima di un viaggio | Apri l'app, vai in "
    "Impostazioni, Roaming, e attiva il roaming prima di partire per l'estero."
)
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


ROME = ZoneInfo("Europe/Rome")
MONDAY = datetime(2026, 11, 23, 8, 30, tzinfo=ROME)  # when the weekly job runs
# Each offer: (days before MONDAY, what the customer did, the answers shown). Over the last 7
# days (shown · solved · still needed a person):
#   A-1 offers 1, 2, 3: 3 · 0 · 2 -> flagged
#   A-2 offers 4-7: 4 · 1 · 1 -> helped once: not flagged
#   A-3 (Italian) offers 8, 9, 10: 3 · 0 · 0 -> flagged
#   A-4 offers 1, 11: 2 · 0 · 2 -> shown under NEVER_HELPS_AFTER times: not flagged
#   A-5 offer 12 (13-15 are 8-10 days old): 1 · 0 · 1 -> not flagged
#   A-6 offers 16, 17, 18: 3 · 0 · 0, but retired -> not flagged
WEEK = [
    (1, OfferOutcome.PERSON, [1, 4]),
    (2, OfferOutcome.TIMEOUT, [1]),
    (3, OfferOutcome.PERSON, [1]),
    (1, OfferOutcome.SOLVED, [2]),
    (2, OfferOutcome.PERSON, [2]),
    (4, OfferOutcome.TIMEOUT, [2]),
    (5, OfferOutcome.TIMEOUT, [2]),
    (1, OfferOutcome.TIMEOUT, [3]),
    (2, OfferOutcome.TIMEOUT, [3]),
    (6, OfferOutcome.TIMEOUT, [3]),
    (3, OfferOutcome.PERSON, [4]),
    (2, OfferOutcome.PERSON, [5]),
    (8, OfferOutcome.PERSON, [5]),
    (9, OfferOutcome.PERSON, [5]),
    (10, OfferOutcome.PERSON, [5]),
    (1, OfferOutcome.TIMEOUT, [6]),
    (2, OfferOutcome.TIMEOUT, [6]),
    (3, OfferOutcome.TIMEOUT, [6]),
]
BOOK = [
    ROAMING_EN,
    "/answer add en internet_devices | Router drops the wifi | Restart the router and set the "
    "wifi channel to automatic.",
    ROAMING_IT,
    "/answer add en billing | Charged twice on a bill | A double charge is refunded within 5 days.",
    "/answer add en account | Change the SIM PIN | Phone settings, SIM lock: old PIN, then new.",
    "/answer add en internet_devices | Fibre light is red | Check the fibre cable, then restart "
    "the modem.",
]
NEVER_HELP = {
    "en": "Suggested 3 times or more this week and never solved a request",
    "it": "Suggerite 3 volte o più questa settimana e mai risolutive",
}


async def add_offers(services: Services) -> None:
    """The offers of WEEK, each for its own customer's ticket, through the storage functions."""
    async with services.db.session() as session:
        for n, (days, outcome, shown) in enumerate(WEEK, start=1):
            when = MONDAY - timedelta(days=days)
            customer = await upsert_customer(
                session=session,
                telegram_user_id=50_000 + n,
                first_name=f"C{n}",
                last_name=None,
                username=None,
                language="it" if shown == [3] else "en",
                now=when,
            )
            ticket = await open_ticket(
                session=session,
                customer_id=customer.id or 0,
                topic="network",
                sentiment="neutral",
                priority="normal",
                language=customer.language,
                now=when,
            )
            offer = await record_offer(
                session=session,
                ticket_id=ticket.id or 0,
                customer_id=customer.id or 0,
                topic="network",
                language=customer.language,
                shown=[(answer_id, 0.5) for answer_id in shown],
                now=when,
                wait_until=when + timedelta(minutes=10),
            )
            decided = when + timedelta(minutes=2 if outcome != OfferOutcome.TIMEOUT else 10)
            assert await decide_offer(
                session=session, offer_id=offer.id or 0, outcome=outcome, now=decided
            )


@pytest.mark.parametrize("language", ["en", "it"])
async def test_the_weekly_job_flags_exactly_the_answers_that_never_help(
    fake_api: FakeBotApi, db: Database, triager: Triager, clock: FrozenClock, language: str
) -> None:
    assert NEVER_HELPS_AFTER == 3  # the plan above is worked out for it
    settings = make_settings(fake_api, db.url, default_language=language)
    triage = TriageService(triager)
    services = Services(
        settings=settings, db=db, triage=triage, clock=clock, catalog=Catalog(language)
    )
    try:
        clock.set(MONDAY - timedelta(days=12))  # staff wrote the answers before the offers
        async with LocalBot(services) as bot:
            staff = fake_api.new_user("Sara")
            fake_api.add_supergroup(
                STAFF_CHAT_ID, title="Care", is_forum=True, members=[staff["id"]]
            )
            for n, command in enumerate(BOOK, start=1):
                await send(bot, fake_api.send_text(staff, command, chat=STAFF_CHAT_ID))
                assert f"A-{n} " in fake_api.messages_to(STAFF_CHAT_ID)[-1]["text"]
            await send(bot, fake_api.send_text(staff, "/answer retire A-6", chat=STAFF_CHAT_ID))
            assert "A-6" in fake_api.messages_to(STAFF_CHAT_ID)[-1]["text"]
            await add_offers(services)
            clock.set(MONDAY)

            before = len(fake_api.messages_to(STAFF_CHAT_ID))
            contexts = [JobContext.for_bot(services, bot.application.bot) for _ in range(2)]

            async def weekly(c: JobContext) -> bool:
                return await run_once(
                    c, "answers_weekly", timedelta(days=3), lambda: answers_weekly(c)
                )

            ran = [await weekly(c) for c in contexts]
            assert ran == [True, False]  # two clock processes: one message
            [flag] = fake_api.messages_to(STAFF_CHAT_ID)[before:]
            text = flag["text"]
            assert NEVER_HELP[language] in text
            assert all(NEVER_HELP[other] not in text for other in NEVER_HELP if other != language)
            assert set(re.findall(r"A-(\d+) \[", text)) == {"1", "3"}
            assert "A-1 [en · network] Turn on roaming before a trip — 3 · 0 · 2" in text
            assert "A-3 [it · network] Attivare il roaming prima di un viaggio — 3 · 0 · 0" in text

            # Staff retire the two: nothing qualifies any more, and nothing is posted.
            for answer in ("A-1", "A-3"):
                await send(
                    bot, fake_api.send_text(staff, f"/answer retire {answer}", chat=STAFF_CHAT_ID)
                )
            before = len(fake_api.messages_to(STAFF_CHAT_ID))
            assert await answers_weekly(contexts[0]) == 0
            assert len(fake_api.messages_to(STAFF_CHAT_ID)) == before
    finally:
        triage.close()
