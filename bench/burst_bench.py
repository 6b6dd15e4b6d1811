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
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import func, select

from bench.support import (
    OTHER_TEXTS,
    Replies,
    bench_parser,
    burst_bot,
    busiest,
    customers,
    inject,
    run_main,
    warm_up,
)
from storage.models import OutboxMessage

TELEGRAM_RATE = 30.0  # messages per second, all chats together
WARM_UP = 5


async def main_async(args: argparse.Namespace) -> int:
    n = args.customers
    floor = n / TELEGRAM_RATE
    running = burst_bot(args.postgres, "burst-bench-", OTHER_TEXTS, rate_limit=True)
    async with running as (api, services, bot):
        last = await warm_up(
            api, WARM_UP, "Warm", OTHER_TEXTS, timeout=args.timeout, what="warm-up"
        )
        await bot.processed(last, timeout=args.timeout)
        await asyncio.sleep(2.0)  # let the limits' windows empty

        api.enforce_limits()
        first_call = len(api.calls)
        people = customers(api, n, "Burst")
        replies = Replies(api, [c["id"] for c in people])
        started, last = inject(api, people, OTHER_TEXTS)
        if not await replies.follow(started, timeout=args.timeout, what="acknowledged"):
            raise TimeoutError(
                f"{n - len(replies.waiting)}/{n} acknowledged in {args.timeout:.0f} s"
            )
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
    peak = busiest([c.at for c in sent_ok], 1.0)
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
    return run_main(main_async, bench_parser(__doc__, customers=1000))


if __name__ == "__main__":
    sys.exit(main())
