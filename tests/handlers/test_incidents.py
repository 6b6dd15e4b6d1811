"""Outages: alike care requests become one incident with one staff card; one staff reply
reaches everyone affected once (also across a crash); resolving tells them all; a ticket can
be taken out of an incident and put into one. With forum topics and without."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, func, select

from bot.core.clock import FrozenClock
from bot.core.services import Services
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from storage.models import Incident, OutboxMessage, Ticket, TicketStatus
from tests.support import OUTAGE, STAFF_CHAT_ID, send, staff_member

DIFFERENT = [
    "I was charged twice on my last bill",
    "The app crashes every time I open it",
    "My phone has no signal in the city centre",
    "How do I activate roaming for my trip?",
    "The shop assistant was rude to me yesterday",
]
LATER_ITALIAN = "Anche a me non funziona internet da stamattina, la fibra è giù"


def buttons(message: dict[str, Any]) -> dict[str, str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row if "callback_data" in b}


def incident_cards(fake_api: FakeBotApi) -> list[dict[str, Any]]:
    return [m for m in fake_api.messages_to(STAFF_CHAT_ID) if "🚨" in m["text"]]


async def report(fake_api: FakeBotApi, bot: LocalBot, texts: list[str], **user: Any) -> list[Any]:
    people = []
    for n, text in enumerate(texts):
        person = fake_api.new_user(f"C{n}-{len(fake_api.calls)}", **user)
        await send(bot, fake_api.send_text(person, text))
        people.append(person)
    return people


async def topics_of(services: Services, texts: list[str]) -> set[str]:
    return {t.topic for t in await services.triage.triage_many(texts)}


async def test_five_reports_about_five_topics_open_no_incident(
    fake_api: FakeBotApi, services: Services
) -> None:
    assert len(await topics_of(services, DIFFERENT)) >= 3  # the model sees different topics
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True)
    async with LocalBot(services) as bot:
        await report(fake_api, bot, DIFFERENT)
    async with services.db.session() as session:
        assert (await session.exec(select(func.count()).select_from(Incident))).one() == 0
    assert incident_cards(fake_api) == []


async def test_an_earlier_report_in_another_topic_joins_the_incident_it_describes(
    fake_api: FakeBotApi, services: Services
) -> None:
    elsewhere = "Still no internet here, is there an outage?"
    unrelated = DIFFERENT[0]
    outage_topics = await topics_of(services, OUTAGE)
    # The model files this report under another topic than the outage's five.
    assert len(outage_topics) == 1 and not outage_topics & await topics_of(services, [elsewhere])
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True)
    async with LocalBot(services) as bot:
        await report(fake_api, bot, [elsewhere, unrelated])
        await report(fake_api, bot, OUTAGE)
    async with services.db.session() as session:
        linked = (await session.exec(select(Ticket.incident_id).order_by(col(Ticket.id)))).all()
    # It joins the incident when it opens; the bill stays a ticket of its own.
    assert linked == [1, None, 1, 1, 1, 1, 1]


@pytest.mark.parametrize("forum", [True, False], ids=["forum-topics", "plain-group"])
async def test_an_outage_is_one_incident_answered_once_for_all(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock, forum: bool
) -> None:
    assert len(await topics_of(services, [*OUTAGE, LATER_ITALIAN])) == 1
    staff = fake_api.new_user("Sara")
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=forum, members=[staff["id"]])
    async with LocalBot(services) as bot:
        first = await report(fake_api, bot, OUTAGE)
        # One incident with the five tickets, one card for it.
        cards = incident_cards(fake_api)
        assert len(cards) == 1, [m["text"] for m in fake_api.messages_to(STAFF_CHAT_ID)]
        card = cards[0]
        assert "I-00001" in card["text"] and "5 customers" in card["text"]
        async with services.db.session() as session:
            linked = (await session.exec(select(Ticket.incident_id))).all()
        assert linked == [1] * 5

        # A later reporter, in Italian, is told the problem is known, in Italian.
        clock.advance(minutes=3)
        [later] = await report(fake_api, bot, [LATER_ITALIAN], language_code="it")
        ack = fake_api.messages_to(later["id"])[-1]["text"]
        assert "I-00001" in ack and "5 altri clienti" in ack and "problema" in ack
        clock.advance(minutes=2)  # the card's count is redrawn, within the group's limit
        await bot.courier.settled()
        assert "6 customers" in incident_cards(fake_api)[0]["text"]

        # One staff reply in the incident's topic (or to its card) reaches all six, once.
        where: dict[str, Any] = (
            {"message_thread_id": card["message_thread_id"]}
            if forum
            else {"reply_to_message": card}
        )
        await send(
            bot,
            fake_api.send_text(
                staff, "A fibre cable was cut; it is being repaired.", chat=STAFF_CHAT_ID, **where
            ),
        )
        await send(
            bot, fake_api.send_text(staff, "! internal: ETA 2h", chat=STAFF_CHAT_ID, **where)
        )
        everyone = [*first, later]
        await until(lambda: all(told(fake_api, p, "fibre cable was cut") for p in everyone))
        assert all(told(fake_api, p, "fibre cable was cut") == 1 for p in everyone)
        assert not any(told(fake_api, p, "ETA 2h") for p in everyone)

        # Resolving tells everyone, asks each for a rating and resolves every ticket.
        press = fake_api.press_button(staff, card, buttons(card)["✅ Resolve incident"])
        await send(bot, press)
        await until(lambda: all(rating_asked(fake_api, p) for p in everyone))
        assert [rating_asked(fake_api, p) for p in everyone] == [1] * len(everyone)
        assert "risolto" in fake_api.messages_to(later["id"])[-1]["text"]  # in their language
    async with services.db.session() as session:
        tickets = (await session.exec(select(Ticket))).all()
        assert len(tickets) == 6
        assert {t.status for t in tickets} == {TicketStatus.RESOLVED}
        assert all(t.first_response_at is not None for t in tickets)
        incident = (await session.exec(select(Incident))).one()
        assert incident.resolved_at is not None and incident.first_broadcast_at is not None


async def test_a_ticket_taken_out_of_an_incident_gets_its_own_card_and_can_go_back(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    staff = staff_member(fake_api)
    async with LocalBot(services) as bot:
        await report(fake_api, bot, OUTAGE)
        card = incident_cards(fake_api)[0]
        await send(bot, fake_api.press_button(staff, card, buttons(card)["📋 Tickets"]))
        listing = fake_api.messages_to(STAFF_CHAT_ID)[-1]
        out = buttons(listing)["↩️ T-00005 out"]
        clock.advance(minutes=1, seconds=1)  # the staff chat's minute has room again
        await send(bot, fake_api.press_button(staff, listing, out))
        # The first four had their cards before the incident opened; the fifth had none.
        own = [m for m in fake_api.messages_to(STAFF_CHAT_ID) if "🆕" in m["text"]]
        assert sum("T-00005" in m["text"] for m in own) == 1
        async with services.db.session() as session:
            assert (await session.get(Ticket, 5)).incident_id is None  # type: ignore[union-attr]
        await send(bot, fake_api.send_text(staff, "/attach T-00005 I-00001", chat=STAFF_CHAT_ID))
        assert "joined" in fake_api.messages_to(STAFF_CHAT_ID)[-1]["text"]
        async with services.db.session() as session:
            assert (await session.get(Ticket, 5)).incident_id == 1  # type: ignore[union-attr]
        await send(bot, fake_api.send_text(staff, "/detach T-00005", chat=STAFF_CHAT_ID))
        assert "out of I-00001" in fake_api.messages_to(STAFF_CHAT_ID)[-1]["text"]


async def test_a_broadcast_cut_by_a_crash_reaches_everyone_once(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    staff = staff_member(fake_api)
    async with LocalBot(services) as bot:
        people = await report(fake_api, bot, OUTAGE * 4)
        card = incident_cards(fake_api)[0]
        # The outbox worker is stopped: the broadcast is queued, then the process "dies" after
        # sending to only some of the customers.
        bot.outbox.stop()
        await send(
            bot,
            fake_api.send_text(
                staff,
                "We are on it, service back by noon.",
                chat=STAFF_CHAT_ID,
                message_thread_id=card["message_thread_id"],
            ),
        )
        async with services.db.session() as session:
            queued = (
                await session.exec(
                    select(OutboxMessage).where(col(OutboxMessage.payload).contains("by noon"))
                )
            ).all()
        assert len(queued) == len(people)
        sent_before = 0
        for row in queued[:7]:  # seven are delivered before the crash
            assert row.id is not None
            await bot.outbox.messenger.deliver(
                row.id, __import__("json").loads(row.payload), attempts=0, raise_errors=False
            )
            sent_before += 1
    clock.advance(timedelta(minutes=2))  # whatever the dead process held has run out
    async with LocalBot(services) as bot:
        await until(lambda: all(told(fake_api, p, "by noon") for p in people))
    assert sent_before == 7
    assert [told(fake_api, p, "by noon") for p in people] == [1] * len(people)


def rating_asked(fake_api: FakeBotApi, person: dict[str, Any]) -> int:
    return sum(
        "I-00001" in m["text"] and any(d.startswith("r:") for d in buttons(m).values())
        for m in fake_api.messages_to(person["id"])
    )


def told(fake_api: FakeBotApi, person: dict[str, Any], words: str) -> int:
    return sum(words in m["text"] for m in fake_api.messages_to(person["id"]))


async def until(condition: Any, timeout: float = 20.0) -> None:
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.02)
