"""A burst of tickets: past the staff chat's per-minute budget, new tickets are announced
together in one digest and their cards follow as the limit allows; none is dropped."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot.core.clock import FrozenClock
from bot.core.services import Services
from bot.jobs.context import JobContext
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from storage.models import Ticket
from tests.support import STAFF_CHAT_ID, make_settings, send, staff_member

PROBLEMS = [
    "My internet has been down since this morning",
    "I was charged twice on my last bill",
    "No signal at all in my flat since yesterday",
    "The app crashes every time I open my invoices",
    "My router shows a red light and nothing works",
    "Why is my bill 40 euros more than usual?",
    "Calls drop after ten seconds, every time",
    "I cannot log in to my account, password reset fails",
]


async def test_a_burst_of_tickets_becomes_a_digest_then_cards(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    staff_member(fake_api)
    services = Services(
        settings=make_settings(fake_api, services.db.url, staff_burst_per_minute=4),
        db=services.db,
        triage=services.triage,
        clock=clock,
        catalog=services.catalog,
    )
    customers = [fake_api.new_user(f"C{n}") for n in range(len(PROBLEMS))]
    async with LocalBot(services) as bot:
        for customer, text in zip(customers, PROBLEMS, strict=True):
            await send(bot, fake_api.send_text(customer, text))
        # Every customer has their reference at once, whatever the staff chat's load.
        for n, customer in enumerate(customers, start=1):
            assert f"T-{n:05d}" in fake_api.messages_to(customer["id"])[-1]["text"]
        cards = [m for m in fake_api.messages_to(STAFF_CHAT_ID) if "🆕" in m["text"]]
        assert len(cards) == 2  # the budget of the minute: a topic and a card each

        context = JobContext.for_bot(services, bot.application.bot)
        # A customer writes again on a waiting ticket: it goes into that ticket's card later.
        await send(bot, fake_api.send_text(customers[6], "Still dropping, it is urgent"))
        clock.advance(seconds=16)  # the burst is over: its waiting tickets are announced
        assert await context.desk.flush_backlog() == (6, 0)  # one digest; no room for cards
        digest = fake_api.messages_to(STAFF_CHAT_ID)[-1]["text"]
        assert "6 new tickets" in digest
        assert all(f"T-0000{n}" in digest for n in range(3, 9))
        # Each line names its customer and what they first wrote.
        for n in range(2, 8):
            assert f"C{n}: {PROBLEMS[n][:20]}" in digest
        assert await context.desk.flush_backlog() == (0, 0)  # nothing announced twice

        for _ in range(3):  # two cards a minute: six minutes' worth in three
            clock.advance(timedelta(minutes=1, seconds=1))
            await context.desk.flush_backlog()
    cards = [m for m in fake_api.messages_to(STAFF_CHAT_ID) if "🆕" in m["text"]]
    assert sorted(int(c["text"].split("T-")[1][:5]) for c in cards) == list(range(1, 9))
    late = next(c for c in cards if "T-00007" in c["text"])
    assert "Calls drop" in late["text"] and "Still dropping" in late["text"]
    assert len([m for m in fake_api.messages_to(STAFF_CHAT_ID) if "📥" in m["text"]]) == 1
    async with services.db.session() as session:
        waiting = (
            await session.exec(select(Ticket).where(col(Ticket.staff_pending_since).is_not(None)))
        ).all()
    assert waiting == []
