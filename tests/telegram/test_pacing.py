"""Telegram's pace, oldest message first: when calls wait for the overall limit, the one first
queued goes first (a dead process's acknowledgements, taken over late, before the live
traffic that queued after them), and the flow stays under Telegram's limit."""

from __future__ import annotations

import asyncio
import random

from telegram.ext import ExtBot

from bot.sandbox.fake_api import FakeBotApi
from bot.telegram.pacing import OldestFirstRateLimiter, queued_at, queued_since
from tests.support import BOT_TOKEN, STAFF_CHAT_ID

RATE = 20.0


def _customers(fake_api: FakeBotApi, n: int) -> list[int]:
    """Customers who wrote to the bot (so that it may write to them)."""
    users = [fake_api.new_user(f"c{k}") for k in range(n)]
    for user in users:
        fake_api.send_text(user, "hello")
    return [user["id"] for user in users]


async def test_waiting_calls_go_oldest_first_within_the_limit(fake_api: FakeBotApi) -> None:
    fake_api.enforce_limits()
    customers = _customers(fake_api, 24)
    # Queued at times that are not the order in which they reach the limiter.
    stamps = list(range(len(customers)))
    random.Random(7).shuffle(stamps)
    limiter = OldestFirstRateLimiter(overall_rate=RATE, max_retries=0)
    bot = ExtBot(BOT_TOKEN, base_url=fake_api.base_url, rate_limiter=limiter)
    async with bot:

        async def send(chat_id: int, stamp: int) -> None:
            with queued_at(1_000_000.0 + stamp):
                await bot.send_message(chat_id, f"queued {stamp}")

        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.gather(*(send(c, s) for c, s in zip(customers, stamps, strict=True)))
        elapsed = loop.time() - started

    calls = fake_api.calls_to("sendMessage")
    assert len(calls) == len(customers)
    assert all(c.ok for c in calls), [c.response for c in calls if not c.ok]  # no 429
    order = [int(c.params["text"].split()[1]) for c in calls]
    # The first goes at once (nothing waits yet); every other waited and went oldest first.
    assert order[1:] == sorted(order[1:])
    assert elapsed >= (len(customers) - 1) / RATE * 0.9


async def test_a_call_to_the_staff_chat_goes_before_the_waiting_answers(
    fake_api: FakeBotApi,
) -> None:
    """An outage: hundreds of answers wait for Telegram's pace, all written before the incident
    opened. The incident's card, queued last, goes next, not after them all."""
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=False)
    customers = _customers(fake_api, 12)
    limiter = OldestFirstRateLimiter(overall_rate=RATE, max_retries=0)
    bot = ExtBot(BOT_TOKEN, base_url=fake_api.base_url, rate_limiter=limiter)
    async with bot:

        async def answer(chat_id: int, n: int) -> None:
            with queued_at(1_000_000.0 + n):
                await bot.send_message(chat_id, f"answer {n}")

        answers = [asyncio.create_task(answer(c, n)) for n, c in enumerate(customers)]
        await asyncio.sleep(0)  # the answers reach the limiter and wait
        with queued_at(2_000_000.0):  # later than every answer
            await bot.send_message(STAFF_CHAT_ID, "incident card")
        await asyncio.gather(*answers)

    texts = [c.params["text"] for c in fake_api.calls_to("sendMessage")]
    # The first answer went at once (nothing waited yet); the card right after it.
    assert texts.index("incident card") <= 2, texts
    assert len(texts) == len(customers) + 1


async def test_a_cancelled_wait_does_not_hold_the_others(fake_api: FakeBotApi) -> None:
    customers = _customers(fake_api, 6)
    limiter = OldestFirstRateLimiter(overall_rate=RATE, max_retries=0)
    bot = ExtBot(BOT_TOKEN, base_url=fake_api.base_url, rate_limiter=limiter)
    async with bot:
        sends = [asyncio.create_task(bot.send_message(c, f"m{n}")) for n, c in enumerate(customers)]
        await asyncio.sleep(0)  # all of them reach the limiter
        sends[2].cancel()
        done = await asyncio.gather(*sends, return_exceptions=True)
    assert isinstance(done[2], asyncio.CancelledError)
    texts = sorted(c.params["text"] for c in fake_api.calls_to("sendMessage") if c.ok)
    assert texts == ["m0", "m1", "m3", "m4", "m5"]


def test_an_answer_is_as_old_as_the_message_it_answers() -> None:
    """Nested, the earliest time holds: a call made while answering a message written at 100
    counts as queued at 100 even though the outbox stored it later."""
    assert queued_since() is None
    with queued_at(100.0):
        with queued_at(250.0):
            assert queued_since() == 100.0
        with queued_at(50.0):
            assert queued_since() == 50.0
        assert queued_since() == 100.0
    assert queued_since() is None
