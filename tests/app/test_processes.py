"""Real processes: two `feedbackbot web` and two `feedbackbot clock` on one database, driven
through the webhook. No update is processed twice; no scheduled run happens twice."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import aiohttp
from sqlmodel import col, func, select

from bot.sandbox.fake_api import FakeBotApi
from storage.db import Database
from storage.models import Feedback, InboxUpdate, JobRun, Ticket
from tests.support import BOT_TOKEN, STAFF_CHAT_ID, staff_member
from tests.support.processes import Processes, free_port, healthy

SECRET = "process-test-secret"


async def count(db: Database, statement: Any) -> int:
    async with db.session() as session:
        return int((await session.exec(statement)).one())


async def test_two_web_and_two_clock_processes_share_the_work(
    fake_api: FakeBotApi, db: Database, processes: Processes
) -> None:
    staff_member(fake_api)
    ports = [free_port(), free_port()]
    hook = f"http://127.0.0.1:{ports[0]}/tg/hook"
    env = {
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_BASE_URL": fake_api.base_url,
        "DATABASE_URL": db.url,
        "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
        "WEBHOOK_URL": hook,
        "WEBHOOK_SECRET": SECRET,
        "HOST": "127.0.0.1",
        "SLA_MINUTES": "30",
        "SLA_CHECK_SECONDS": "1",
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT": "false",  # the fake server enforces no limits here; bursts are tested apart
        "STAFF_BURST_PER_MINUTE": "1000",
    }
    for port in ports:
        processes.start_web(env, port)
    for n in range(2):
        processes.start(f"clock{n}", "clock", env)
    async with aiohttp.ClientSession() as http:
        await processes.until(lambda: healthy(http, ports), "both web processes healthy", 60)

    # Telegram delivers to the registered webhook (web 0); a load balancer's retry hands the
    # same updates to web 1 as well.
    customers = [fake_api.new_user(f"Customer {n}") for n in range(20)]
    updates = [
        fake_api.send_text(c, f"My internet is down since this morning, modem {n} is red")
        for n, c in enumerate(customers)
    ]
    async with aiohttp.ClientSession() as http:
        for raw in updates:
            async with http.post(
                f"http://127.0.0.1:{ports[1]}/tg/hook",
                json=raw,
                headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
            ) as response:
                assert response.status == 200

    deadline = asyncio.get_running_loop().time() + 60
    while any(len(fake_api.messages_to(c["id"])) < 1 for c in customers):
        assert asyncio.get_running_loop().time() < deadline, processes.logs()
        await asyncio.sleep(0.2)
    while await count(
        db,
        select(func.count())
        .select_from(InboxUpdate)
        .where(col(InboxUpdate.processed_at).is_(None)),
    ):
        assert asyncio.get_running_loop().time() < deadline, processes.logs()
        await asyncio.sleep(0.2)

    # Every ticket is now older than the SLA: the clocks remind staff, once per ticket.
    async with db.session() as session:
        for ticket in (await session.exec(select(Ticket))).all():
            ticket.opened_at -= timedelta(minutes=31)
            session.add(ticket)
    while await count(
        db, select(func.count()).select_from(Ticket).where(col(Ticket.sla_reminded_at).is_(None))
    ):
        assert asyncio.get_running_loop().time() < deadline, processes.logs()
        await asyncio.sleep(0.2)
    await asyncio.sleep(2.5)  # a few more clock ticks: nothing more may be sent

    for customer in customers:
        assert len(fake_api.messages_to(customer["id"])) == 1, processes.logs()
    assert await count(db, select(func.count()).select_from(Feedback)) == 20
    reminders = [m for m in fake_api.messages_to(STAFF_CHAT_ID) if "SLA" in m["text"]]
    assert len(reminders) == 20, [m["text"] for m in fake_api.messages_to(STAFF_CHAT_ID)][-5:]
    owners = {
        r.claimed_by for r in (await _all(db, select(JobRun).where(JobRun.job == "sla_check")))
    }
    assert len(owners) >= 1
    async with db.session() as session:
        periods = (await session.exec(select(JobRun.period).where(JobRun.job == "sla_check"))).all()
    assert len(periods) == len(set(periods))


async def _all(db: Database, statement: Any) -> list[Any]:
    async with db.session() as session:
        return list((await session.exec(statement)).all())
