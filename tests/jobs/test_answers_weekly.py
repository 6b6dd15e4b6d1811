"""The weekly answers job through the real Application and the fake Bot API: it flags to staff,
in their language, exactly the answers that never help, once across two clock processes."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

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
from storage.models import OfferOutcome
from storage.tickets import open_ticket
from tests.support import STAFF_CHAT_ID, make_settings, send
from tests.support.answers import ROAMING_EN, ROAMING_IT

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
