"""A burst of customer messages against a real `feedbackbot run` process, with a fault in the
middle (kill -9, a PostgreSQL restart), and what became of it: tests/intake/test_crash_recovery.py
runs it small, bench/faults_bench.py at full size."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import col, func, select

from bot.sandbox.fake_api import FakeBotApi
from storage.db import Database
from storage.models import Feedback, InboxUpdate, Incident, OutboxMessage
from tests.support import BOT_TOKEN, STAFF_CHAT_ID
from tests.support.processes import free_port, start_bot

BURST_TEXTS = (
    "Thank you, the technician was great this morning!",
    "Grazie mille, adesso la fibra va benissimo",
    "Just wanted to say the new app is really nice",
)


@dataclass(frozen=True, slots=True)
class BurstReport:
    """What happened to a burst."""

    sent: int
    stored: int
    feedback: int
    acknowledged: int
    acknowledged_twice: int
    in_flight_at_fault: int
    seconds: float
    after_restart: float = 0.0
    resumed_after: float = 0.0
    incidents: int = 0
    # Customers whose work the dead process had claimed and not finished (an update claimed,
    # a message being sent), and when the last of them was answered after the restart.
    held_at_fault: int = 0
    held_answered_after: float = 0.0

    def lines(self) -> list[str]:
        return [
            f"messages sent by customers : {self.sent}",
            f"updates stored             : {self.stored}",
            f"feedback rows              : {self.feedback}",
            f"customers acknowledged     : {self.acknowledged}",
            f"acknowledged twice         : {self.acknowledged_twice}",
            f"acks in flight at the fault: {self.in_flight_at_fault} (delivered, not yet recorded)",
            f"seconds to recover all     : {self.seconds:.1f}",
            f"of which after the restart : {self.after_restart:.1f}",
            f"first answer after restart : {self.resumed_after:.1f} s",
            f"incidents opened           : {self.incidents}",
            f"held by the dead process   : {self.held_at_fault} customers, the last answered "
            f"{self.held_answered_after:.1f} s after the restart",
        ]


async def delivered_unrecorded(
    db: Database, fake_api: FakeBotApi, chats: list[int], *, words: str = ""
) -> int:
    """Messages (with these words) Telegram, the fake server, has whose rows still say
    "sending": the only ones a process that died now may send again."""
    async with db.session() as session:
        sending = (
            await session.exec(
                select(OutboxMessage.chat_id).where(OutboxMessage.status == "sending")
            )
        ).all()
    told = {chat for chat in chats if any(words in m["text"] for m in fake_api.messages_to(chat))}
    return sum(1 for chat in sending if chat in told)


async def held_unanswered(db: Database, fake_api: FakeBotApi, chats: list[int]) -> set[int]:
    """Customers not answered yet whose work a process holds: an update it claimed and has not
    processed, or a message it is sending. After a kill, another process must take them over."""
    async with db.session() as session:
        claimed = (
            await session.exec(
                select(InboxUpdate.chat_id).where(
                    col(InboxUpdate.claimed_by).is_not(None),
                    col(InboxUpdate.processed_at).is_(None),
                )
            )
        ).all()
        sending = (
            await session.exec(
                select(OutboxMessage.chat_id).where(OutboxMessage.status == "sending")
            )
        ).all()
    wanted = set(chats)
    return {
        chat
        for chat in {*claimed, *sending}
        if chat is not None and chat in wanted and not fake_api.messages_to(chat)
    }


async def count(db: Database, statement: Any) -> int:
    async with db.session() as session:
        return int((await session.exec(statement)).one())


async def run_burst(
    fake_api: FakeBotApi,
    db: Database,
    tmp: Path,
    *,
    messages: int,
    fault_after: int,
    fault: str = "kill",
    timeout: float = 600.0,
    texts: Sequence[str] = BURST_TEXTS,
    env_overrides: dict[str, str] | None = None,
    limits: bool = False,
) -> BurstReport:
    """Send a burst, cause the fault once `fault_after` acks went out, wait for recovery.

    `limits`: the fake server enforces Telegram's send limits; `env_overrides`: settings of
    the bot (the product's defaults otherwise, but for a short inbox lease unless given)."""
    loop = asyncio.get_running_loop()
    fake_api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True)
    env = {
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "TELEGRAM_API_BASE_URL": fake_api.base_url,
        "DATABASE_URL": db.url,
        "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
        "INBOX_LEASE_SECONDS": "3",
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "LOG_LEVEL": "WARNING",
        **(env_overrides or {}),
    }
    fake_api.enforce_limits(limits)
    log = tmp / "bot.log"
    bot = start_bot(env, log)
    try:
        while not fake_api.calls_to("getUpdates"):
            assert bot.poll() is None, log.read_text(errors="replace")
            await asyncio.sleep(0.1)
        customers = [fake_api.new_user(f"C{n}") for n in range(messages)]
        started = loop.time()
        for n, customer in enumerate(customers):
            fake_api.send_text(customer, texts[n % len(texts)])

        def acked() -> int:
            return sum(1 for c in customers if fake_api.messages_to(c["id"]))

        while acked() < fault_after:
            assert bot.poll() is None, log.read_text(errors="replace")
            assert loop.time() - started < timeout
            await asyncio.sleep(0.01)
        restarted = loop.time()
        if fault == "kill":
            bot.send_signal(signal.SIGKILL)
            bot.wait()
            restarted = loop.time()
            # Read after the death: what reached Telegram without being recorded as sent.
            in_flight = await delivered_unrecorded(db, fake_api, [c["id"] for c in customers])
            held = await held_unanswered(db, fake_api, [c["id"] for c in customers])
            bot = start_bot(env, log)
        else:
            in_flight = await delivered_unrecorded(db, fake_api, [c["id"] for c in customers])
            held = set()
        if fault == "postgres":
            restart = await asyncio.create_subprocess_exec(
                "pg_ctlcluster", os.environ.get("PG_VERSION", "15"), "main", "restart"
            )
            assert await restart.wait() == 0
        unprocessed = (
            select(func.count())
            .select_from(InboxUpdate)
            .where(col(InboxUpdate.processed_at).is_(None))
        )
        at_restart = acked()
        first_after: float | None = None
        held_after: float | None = None if held else 0.0
        while True:
            answered = acked()
            if first_after is None and answered > at_restart:
                first_after = loop.time() - restarted
            if held_after is None and all(fake_api.messages_to(chat) for chat in held):
                held_after = loop.time() - restarted
            done = answered == messages
            if done:
                try:
                    if await count(db, unprocessed) == 0:
                        break
                except OSError:  # the database is still restarting
                    pass
            assert bot.poll() is None, log.read_text(errors="replace")[-5000:]
            assert loop.time() - started < timeout, f"{acked()}/{messages} acknowledged"
            await asyncio.sleep(0.1)
        seconds = loop.time() - started
        after_restart = loop.time() - restarted
        resumed = first_after if first_after is not None else after_restart
    finally:
        if bot.poll() is None:
            bot.send_signal(signal.SIGTERM)
            try:
                bot.wait(timeout=15)
            except subprocess.TimeoutExpired:
                bot.kill()
    twice = sum(1 for c in customers if len(fake_api.messages_to(c["id"])) > 1)
    return BurstReport(
        sent=messages,
        stored=await count(db, select(func.count()).select_from(InboxUpdate)),
        feedback=await count(db, select(func.count()).select_from(Feedback)),
        acknowledged=sum(1 for c in customers if fake_api.messages_to(c["id"])),
        acknowledged_twice=twice,
        in_flight_at_fault=in_flight,
        seconds=seconds,
        after_restart=after_restart,
        resumed_after=resumed,
        incidents=await count(db, select(func.count()).select_from(Incident)),
        held_at_fault=len(held),
        held_answered_after=held_after if held_after is not None else after_restart,
    )
