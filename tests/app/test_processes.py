"""Real processes: two `feedbackbot web` and two `feedbackbot clock` on one database, driven
through the webhook. No update is processed twice; no scheduled run happens twice."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlmodel import col, func, select

from bot.sandbox.fake_api import FakeBotApi
from storage.db import Database
from storage.models import Feedback, InboxUpdate, JobRun, Ticket
from tests.support import BOT_TOKEN, STAFF_CHAT_ID

SECRET = "process-test-secret"
FEEDBACKBOT = str(Path(sys.executable).with_name("feedbackbot"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Processes:
    """Child processes of one test, stopped with SIGTERM at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.children: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, command: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{name}.log").open("wb")
        child = subprocess.Popen(
            [FEEDBACKBOT, command],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.tmp,
        )
        self.children.append(child)
        return child

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted(self.tmp.glob("*.log"))
        )

    def stop(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in self.children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()


@pytest.fixture
async def processes(tmp_path: Path) -> AsyncIterator[Processes]:
    running = Processes(tmp_path)
    yield running
    running.stop()


async def wait_healthy(port: int, processes: Processes, timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(f"http://127.0.0.1:{port}/health") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"web on {port} never became healthy\n{processes.logs()}")
            await asyncio.sleep(0.2)


async def count(db: Database, statement: Any) -> int:
    async with db.session() as session:
        return int((await session.exec(statement)).one())


async def test_two_web_and_two_clock_processes_share_the_work(
    fake_api: FakeBotApi, db: Database, processes: Processes
) -> None:
    staff = fake_api.new_user("Sara")
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True, members=[staff["id"]])
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
    for n, port in enumerate(ports):
        processes.start(f"web{n}", "web", {**env, "PORT": str(port)})
    for n in range(2):
        processes.start(f"clock{n}", "clock", env)
    for port in ports:
        await wait_healthy(port, processes)

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
