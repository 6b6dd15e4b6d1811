"""The demo's stage shows stories the bot as it stands at their moment, whatever the real time
it took: a ticket's card that had to wait for the staff chat's per-minute limit is up when
the minute has passed, not whenever the staff courier's own timer next comes round."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.core.clock import FrozenClock
from bot.core.services import Services
from bot.core.triage import TriageService
from bot.i18n import Catalog
from bot.sandbox.demo.stage import Do, Json, Person, Stage, Story
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from nlp import Triager
from storage.db import Database
from tests.support import STAFF_CHAT_ID, make_settings

# Three care requests about different things: three tickets, no incident.
REQUESTS = [
    "I was charged twice on my last bill",
    "The app crashes every time I open it",
    "How do I activate roaming for my trip?",
]


@pytest.fixture
async def limited(
    fake_api: FakeBotApi, db: Database, triager: Triager, clock: FrozenClock
) -> AsyncIterator[Services]:
    """Services whose staff chat takes four calls a minute: two cards (a topic and a card
    each), so that the third ticket's card waits for the next minute."""
    settings = make_settings(fake_api, db.url, staff_burst_per_minute=4)
    triage = TriageService(triager)
    yield Services(settings=settings, db=db, triage=triage, clock=clock, catalog=Catalog("en"))
    triage.close()


async def test_a_card_that_waited_for_the_limit_is_up_when_staff_look_a_minute_later(
    fake_api: FakeBotApi, limited: Services, clock: FrozenClock
) -> None:
    staff = Person(fake_api.new_user("Sara"), "en", "staff")
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True, members=[staff.id])
    customers = [Person(fake_api.new_user(f"C{n}"), "en") for n in range(len(REQUESTS))]
    start = clock.now()

    async with LocalBot(limited) as bot:
        stage = Stage(
            api=fake_api, bot=bot, services=limited, clock=clock, staff_chat_id=STAFF_CHAT_ID
        )

        async def writes(person: Person, text: str) -> Story:
            async def act() -> Json:
                return stage.write(person, text)

            yield Do(start, act, window=timedelta(0))  # a batch of its own moment

        async def answers(person: Person) -> Story:
            async def act() -> Json | None:
                ticket = await stage.latest_ticket(person)
                if ticket is None or ticket.staff_thread_id is None:
                    return None  # its card is not up: tried again a minute later
                return stage.write_in_topic(staff, ticket.staff_thread_id, "We are on it.")

            # Two minutes on: the chat's minute of the first two cards is over.
            yield Do(start + timedelta(minutes=2), act)

        for person, text in zip(customers, REQUESTS, strict=True):
            await stage.start(writes(person, text))
            await stage.start(answers(person))
        await stage.play_until(start + timedelta(minutes=30))

    assert stage.retries == 0
    for person in customers:
        assert any("We are on it." in m.get("text", "") for m in fake_api.messages_to(person.id))
