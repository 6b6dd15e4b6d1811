"""Scheduled jobs: spike alerts (mean + 3 σ of the trailing 14 days, once per topic and day),
the daily digest and the weekly report to managers, the scheduler's job list."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.clock import FrozenClock
from bot.core.services import Services
from bot.jobs.context import JobContext, run_once
from bot.jobs.managers import daily_digest, spike_check, weekly_report
from bot.jobs.scheduler import build_scheduler
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from storage.customers import upsert_customer
from storage.feedback import NewFeedback, insert_feedback
from storage.tickets import open_ticket
from tests.support import MANAGER_ID, send

ROME = ZoneInfo("Europe/Rome")
# Care requests about the network on each of the 14 days before "today": mean 2, σ ≈ 0.756.
TRAILING = [1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 3]


async def add_care(services: Services, topic: str, at: datetime, n: int, start: int = 0) -> None:
    async with services.db.session() as session:
        for i in range(n):
            customer = await upsert_customer(
                session=session,
                telegram_user_id=10_000 + start + i,
                first_name=f"C{start + i}",
                last_name=None,
                username=None,
                language="en",
                now=at,
            )
            assert customer.id is not None
            await insert_feedback(
                session=session,
                rows=[
                    NewFeedback(
                        customer_id=customer.id,
                        chat_id=customer.telegram_user_id,
                        message_id=int(at.timestamp()) + i,
                        text=f"{topic} problem {i}",
                        media_type=None,
                        media_file_id=None,
                        kind="care",
                        confidence=0.9,
                        sentiment="negative",
                        topic=topic,
                        language="en",
                        keywords=f"{topic} problem",
                        created_at=at,
                        held_for=None,
                        routed_at=None,
                    )
                ],
            )


def manager_start(fake_api: FakeBotApi) -> dict[str, Any]:
    """Elena, a manager, opens the bot's chat: her /start, to send before the bot may write to
    her."""
    return fake_api.send_text(fake_api.new_user("Elena", user_id=MANAGER_ID), "/start")


async def a_fortnight_of_network_care(
    services: Services, clock: FrozenClock
) -> tuple[datetime, int]:
    """The clock at 16:00 on 20 November, and TRAILING care requests about the network on each
    of the 14 days before: now, and how many customers wrote."""
    now = datetime(2026, 11, 20, 16, 0, tzinfo=ROME)
    clock.set(now)
    base = 0
    for back, n in zip(range(14, 0, -1), TRAILING, strict=True):
        await add_care(services, "network", now - timedelta(days=back), n, start=base)
        base += n
    return now, base


async def test_a_spike_alerts_managers_once_per_topic_and_day(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    start = manager_start(fake_api)
    now, base = await a_fortnight_of_network_care(services, clock)
    mean = sum(TRAILING) / 14
    stdev = (sum((n - mean) ** 2 for n in TRAILING) / 14) ** 0.5
    assert round(mean + 3 * stdev, 2) == 4.27
    await add_care(services, "network", now.replace(hour=9), 4, start=base)  # under: no alert
    await add_care(services, "billing", now.replace(hour=10), 4, start=base + 10)  # under 5

    async with LocalBot(services) as bot:
        await send(bot, start)  # its greeting must not arrive after the alert
        context = JobContext.for_bot(services, bot.application.bot)
        assert await spike_check(context) == 0
        await add_care(services, "network", now.replace(hour=11), 1, start=base + 20)  # 5 > 4.27
        assert await spike_check(context) == 1
        assert await spike_check(context) == 0  # once per topic and day
        alert = fake_api.messages_to(MANAGER_ID)[-1]["text"]
        assert "network" in alert and "5 care requests" in alert and "4.3" in alert
        clock.set(now + timedelta(days=1, hours=-6))  # the next morning: a new day, quiet
        assert await spike_check(context) == 0


async def test_daily_digest_and_weekly_report_reach_managers_once(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    start = manager_start(fake_api)
    yesterday = datetime(2026, 11, 19, 10, 0, tzinfo=ROME)
    await add_care(services, "billing", yesterday, 3)
    async with services.db.session() as session:
        await open_ticket(
            session=session,
            customer_id=1,
            topic="billing",
            sentiment="negative",
            priority="normal",
            language="en",
            now=yesterday,
        )
    clock.set(datetime(2026, 11, 20, 8, 30, tzinfo=ROME))
    async with LocalBot(services) as bot:
        await send(bot, start)  # its greeting must not arrive after the digest
        contexts = [JobContext.for_bot(services, bot.application.bot) for _ in range(2)]
        ran = [
            await run_once(c, "daily_digest", timedelta(hours=12), lambda c=c: daily_digest(c))
            for c in contexts
        ]
        assert ran == [True, False]
        digest = fake_api.messages_to(MANAGER_ID)[-1]["text"]
        assert "Thursday 19 November 2026" in digest
        assert "1 ticket opened" in digest and "3 customer messages: care 3" in digest

        assert await weekly_report(contexts[0]) == 1
        report = fake_api.messages_to(MANAGER_ID)
        assert any("Co-creation" in m.get("text", "") for m in report)
        photos = [c for c in fake_api.calls_to("sendPhoto") if c.ok]
        assert len(photos) == 5 and all(c.params["chat_id"] == MANAGER_ID for c in photos)


async def test_the_scheduler_has_every_job(fake_api: FakeBotApi, services: Services) -> None:
    async with LocalBot(services) as bot:
        scheduler = build_scheduler(JobContext.for_bot(services, bot.application.bot))
    assert {job.id for job in scheduler.get_jobs()} == {
        "hourly_snapshot",
        "sla_check",
        "flood_release",
        "spike_check",
        "staff_backlog",
        "payload_prune",
        "selfservice_expiry",
        "answers_weekly",
        "daily_digest",
        "weekly_report",
    }


async def test_a_spike_that_is_an_incident_is_not_alerted_twice(
    fake_api: FakeBotApi, services: Services, clock: FrozenClock
) -> None:
    """Managers hear of an outage once, when its incident opens: the spike of the same topic
    that day is the same news."""
    from storage.models import Incident

    start = manager_start(fake_api)
    now, base = await a_fortnight_of_network_care(services, clock)
    await add_care(services, "network", now.replace(hour=11), 5, start=base)  # a spike
    await add_care(services, "billing", now.replace(hour=11), 9, start=base + 10)  # a spike
    async with services.db.session() as session:
        session.add(
            Incident(
                topic="network",
                language="en",
                first_report_at=now.replace(hour=10, minute=58),
                opened_at=now.replace(hour=11),
            )
        )
    async with LocalBot(services) as bot:
        await send(bot, start)
        context = JobContext.for_bot(services, bot.application.bot)
        assert await spike_check(context) == 1  # billing only
    alert = fake_api.messages_to(MANAGER_ID)[-1]["text"]
    assert "billing" in alert and "network" not in alert
