"""Nothing lost, nothing twice: the outbox's retries, blocked customers, updates processed once
across a crash and across processes, scheduled jobs run once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from telegram.ext import Application

from bot.app.application import build_application
from bot.core.clock import FrozenClock
from bot.core.services import Services
from bot.intake.inbox import Inbox
from bot.jobs.context import JobContext, run_once
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from storage.models import Customer, Feedback, InboxUpdate, JobRun, OutboxMessage
from tests.support import STAFF_CHAT_ID, send


async def until(condition: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def staff_group(fake_api: FakeBotApi) -> dict[str, Any]:
    staff = fake_api.new_user("Sara")
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True, members=[staff["id"]])
    return staff


async def outbox_rows(services: Services) -> list[OutboxMessage]:
    async with services.db.session() as session:
        return list((await session.exec(select(OutboxMessage))).all())


async def test_server_errors_are_retried_until_delivered_once(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    staff_group(fake_api)
    customer = fake_api.new_user("Tom")
    fake_api.fail("sendMessage", status=502, times=3)
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(customer, "No internet since this morning, please help"))
        # The acknowledgement and the staff card failed; they wait in the outbox.
        assert fake_api.messages_to(customer["id"]) == []
        pending = [r for r in await outbox_rows(services) if r.status == "pending"]
        assert len(pending) == 2
        # Backoff is on the service's clock: let it pass until the worker has sent them all.
        deadline = asyncio.get_running_loop().time() + 30
        while [r for r in await outbox_rows(services) if r.status != "sent"]:
            assert asyncio.get_running_loop().time() < deadline, await outbox_rows(services)
            clock.advance(timedelta(seconds=30))
            await asyncio.sleep(0.05)
    acks = fake_api.messages_to(customer["id"])
    assert len(acks) == 1 and "T-00001" in acks[0]["text"]
    assert len([m for m in fake_api.messages_to(STAFF_CHAT_ID) if "T-00001" in m["text"]]) == 1
    assert {r.status for r in await outbox_rows(services)} == {"sent"}


async def test_flood_control_answers_are_waited_out(
    fake_api: FakeBotApi, services: Services
) -> None:
    customer = fake_api.new_user("Tom")
    fake_api.fail("sendMessage", status=429, retry_after=1, times=2)
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(customer, "Thanks, all good now!"))
    assert len(fake_api.messages_to(customer["id"])) == 1
    assert [c.status for c in fake_api.calls_to("sendMessage")] == [429, 429, 200]


async def test_a_customer_who_blocked_the_bot_is_marked_unreachable(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff = staff_group(fake_api)
    customer = fake_api.new_user("Tom")
    async with LocalBot(services) as bot:
        await send(bot, fake_api.send_text(customer, "My bill is wrong, I was charged twice"))
        thread = fake_api.messages_to(STAFF_CHAT_ID)[0]["message_thread_id"]
        await send(bot, fake_api.block(customer))
        await send(
            bot,
            fake_api.send_text(staff, "Refunded!", chat=STAFF_CHAT_ID, message_thread_id=thread),
        )
        tries = len(fake_api.calls_to("sendMessage"))
        await asyncio.sleep(1.5)  # the outbox worker must not retry a 403
        assert len(fake_api.calls_to("sendMessage")) == tries
    async with services.db.session() as session:
        stored = (await session.exec(select(Customer))).one()
    assert stored.unreachable
    failed = [r for r in await outbox_rows(services) if r.status == "failed"]
    assert len(failed) == 1 and "blocked" in (failed[0].last_error or "")


async def test_reprocessing_after_a_crash_sends_nothing_twice(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff_group(fake_api)
    customer = fake_api.new_user("Tom")
    async with LocalBot(services) as bot:
        update = fake_api.send_text(customer, "The app crashes when I open my invoices")
        await send(bot, update)
        # As if the process died after sending but before recording the update as processed.
        async with services.db.session() as session:
            await session.exec(
                update_statement(update["update_id"])  # type: ignore[call-overload]
            )
        await bot.inbox.drain()
    assert len(fake_api.messages_to(customer["id"])) == 1
    assert len(fake_api.messages_to(STAFF_CHAT_ID)) == 1


def update_statement(update_id: int) -> Any:
    return (
        update(InboxUpdate)
        .where(col(InboxUpdate.update_id) == update_id)
        .values(processed_at=None, claimed_by=None, claimed_until=None)
    )


async def test_two_processes_share_the_inbox_without_doubles(
    fake_api: FakeBotApi, services: Services
) -> None:
    staff_group(fake_api)
    applications: list[Application] = [build_application(services) for _ in range(2)]
    inboxes = [Inbox(services, application) for application in applications]
    for application in applications:
        await application.initialize()
    customers = [fake_api.new_user(f"Customer {n}") for n in range(30)]
    raw = [fake_api.send_text(c, "Thank you, the new app is great!") for c in customers]
    await inboxes[0].store(raw)
    await inboxes[1].store(raw)  # Telegram retried the webhook: stored once all the same
    try:
        done = await asyncio.gather(*(inbox.drain() for inbox in inboxes))
    finally:
        for application in applications:
            await application.shutdown()
    assert sum(done) == 30
    async with services.db.session() as session:
        feedback = (await session.exec(select(Feedback))).all()
    assert len(feedback) == 30
    for customer in customers:
        assert len(fake_api.messages_to(customer["id"])) == 1


async def test_a_scheduled_job_runs_once_per_slot_whatever_the_processes(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    runs: list[str] = []

    async def job() -> None:
        runs.append("ran")
        await asyncio.sleep(0.05)

    async with LocalBot(services) as bot:
        contexts = [JobContext.for_bot(services, bot.application.bot) for _ in range(3)]
        assert len({c.owner for c in contexts}) == 3
        results = await asyncio.gather(
            *(run_once(c, "digest", timedelta(days=1), job) for c in contexts)
        )
        clock.advance(timedelta(days=1))
        again = await run_once(contexts[0], "digest", timedelta(days=1), job)
    assert sorted(results) == [False, False, True] and again
    assert runs == ["ran", "ran"]
    async with services.db.session() as session:
        recorded = (await session.exec(select(JobRun))).all()
    assert len(recorded) == 2 and all(r.finished_at is not None for r in recorded)
