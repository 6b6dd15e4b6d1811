"""A burst under Telegram's flood limits: N customers write at once, each is acknowledged.

The in-process fake Bot API server enforces Telegram's limits (``enforce_limits()``: 30
messages/s overall, bursts of 3 then 1/s per private chat, 20/min per group; a 429 with
retry_after past them) and the real bot (``bot.sandbox.harness.LocalBot``) runs with
``RATE_LIMIT=true`` (python-telegram-bot's AIORateLimiter). The messages are praise the model
triages as *other*, so each customer gets exactly one acknowledgement. The clock runs from the
injection of all updates until every customer has been acknowledged, and is compared with the
least time Telegram allows, N / 30 s (33.3 s for 1,000). Target: ratio <= 1.15.

    python bench/burst_bench.py                       # 1,000 customers, SQLite in a temp dir
    python bench/burst_bench.py --customers 1000 --postgres postgresql://user:pass@host/db
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import func, select

from bench.intake_bench import (
    BOT_TOKEN,
    OTHER_TEXTS,
    STAFF_CHAT_ID,
    Replies,
    customers,
    inject,
    scratch_database,
    until_polled,
)
from bot.core.services import open_services
from bot.core.settings import load_settings
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from bot.staff_chat.courier import StaffCourier
from storage.models import OutboxMessage
from storage.urls import normalise_database_url, redact

TELEGRAM_RATE = 30.0  # messages per second, all chats together
WARM_UP = 5


async def main_async(args: argparse.Namespace) -> int:
    n = args.customers
    floor = n / TELEGRAM_RATE
    with tempfile.TemporaryDirectory(prefix="burst-bench-") as tmp_name:
        async with (
            FakeBotApi(token=BOT_TOKEN) as api,
            scratch_database(args.postgres, Path(tmp_name)) as url,
        ):
            api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True)
            settings = load_settings(
                telegram_bot_token=api.token,
                telegram_api_base_url=api.base_url,
                database_url=url,
                staff_chat_id=STAFF_CHAT_ID,
                rate_limit=True,
                _env_file=None,
            )
            async with open_services(settings, migrate=True) as services:
                await services.triage.triage_many(list(OTHER_TEXTS))
                before = len(api.calls_to("getUpdates"))
                async with LocalBot(services, courier_gap=StaffCourier.GAP) as bot:
                    await until_polled(api, before)
                    warm = customers(api, WARM_UP, "Warm")
                    replies = Replies(api, [c["id"] for c in warm])
                    _, last = inject(api, warm, OTHER_TEXTS)
                    await replies.wait(timeout=args.timeout, what="warm-up")
                    await bot.processed(last, timeout=args.timeout)
                    await asyncio.sleep(2.0)  # let the limits' windows empty

                    api.enforce_limits()
                    first_call = len(api.calls)
                    people = customers(api, n, "Burst")
                    replies = Replies(api, [c["id"] for c in people])
                    started, last = inject(api, people, OTHER_TEXTS)
                    progress = time.monotonic() + 10
                    while replies.poll():
                        now = time.monotonic()
                        if now - started > args.timeout:
                            raise TimeoutError(
                                f"{n - len(replies.waiting)}/{n} acknowledged in "
                                f"{args.timeout:.0f} s"
                            )
                        if now > progress:
                            print(
                                f"  {now - started:5.1f} s: "
                                f"{n - len(replies.waiting)} acknowledged",
                                flush=True,
                            )
                            progress = now + 10
                        await asyncio.sleep(0.05)
                    seconds = replies.last_at - started
                    await bot.processed(last, timeout=args.timeout)
                    calls = api.calls[first_call:]
                    async with services.db.session() as session:
                        retried = (
                            await session.exec(
                                select(func.count())
                                .select_from(OutboxMessage)
                                .where(OutboxMessage.attempts > 1)
                            )
                        ).one()
    sends = [c for c in calls if c.method == "sendMessage"]
    statuses = Counter(c.status for c in sends)
    sent_ok = [c for c in sends if c.ok]
    per_customer = sum(replies.sends.get(c["id"], 0) for c in people) / n
    # The busiest 1-second window of delivered messages, as the fake server counts them.
    times = sorted(c.at for c in sent_ok)
    peak, j = 0, 0
    for i, at in enumerate(times):
        while at - times[j] > 1.0:
            j += 1
        peak = max(peak, i - j + 1)
    ratio = seconds / floor
    verdict = "ok" if ratio <= 1.15 else "ABOVE TARGET"
    print(f"customers writing at once     : {n}")
    print(f"acknowledged                  : {n - len(replies.waiting)} ({per_customer:.2f} each)")
    print(
        f"sendMessage calls             : {len(sends)}  by status {dict(sorted(statuses.items()))}"
    )
    print(f"outbox rows tried twice or more: {retried}")
    print(f"busiest 1 s window (delivered): {peak} messages")
    print(f"time until all acknowledged   : {seconds:.1f} s")
    print(f"least possible at 30 msg/s    : {floor:.1f} s")
    print(f"effective rate                : {n / seconds:.1f} msg/s")
    print(f"ratio                         : {ratio:.3f}   (target <= 1.15: {verdict})")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=1000, help="customers (default 1000)")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server URL")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds for the burst")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    backend = redact(normalise_database_url(args.postgres)) if args.postgres else "SQLite"
    print(f"database: {backend}")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
