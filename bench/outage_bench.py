"""An outage: N customers report the same fault at once, under Telegram's limits.

The in-process fake Bot API server enforces Telegram's limits (``enforce_limits()``: 30
messages/s overall, 1/s per private chat, 20/min per group; 429 with retry_after past them) and
the real bot runs on the product's defaults (``RATE_LIMIT=true``, a forum staff chat,
``STAFF_BURST_PER_MINUTE=10``, ``INCIDENT_MIN_REPORTS=5``). Every customer sends a care request
about one fibre outage, in different words. The clock runs from the injection of all updates
until every customer has had their first answer, compared with the least time Telegram allows,
N / 30 s. Targets: ratio <= 1.15, 429s under 1 % of sends, one incident, and the staff chat
within 20 messages in any minute.

    python bench/outage_bench.py                         # 2,000 customers, SQLite
    python bench/outage_bench.py --postgres postgresql://user:pass@host/db
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import func, select

from bench.support import (
    OUTAGE_TEXTS,
    STAFF_CHAT_ID,
    Replies,
    bench_parser,
    burst_bot,
    busiest,
    customers,
    inject,
    run_main,
)
from storage.models import Incident, Ticket

TELEGRAM_RATE = 30.0


async def main_async(args: argparse.Namespace) -> int:
    n = args.customers
    floor = n / TELEGRAM_RATE
    async with burst_bot(args.postgres, "outage-bench-", OUTAGE_TEXTS) as (api, services, _):
        api.enforce_limits()
        first_call = len(api.calls)
        people = customers(api, n, "Outage")
        replies = Replies(api, [c["id"] for c in people])
        started, _ = inject(api, people, OUTAGE_TEXTS)
        await replies.follow(started, timeout=args.timeout, what="answered")
        answered = n - len(replies.waiting)
        seconds = (replies.last_at or time.monotonic()) - started
        calls = api.calls[first_call:]
        async with services.db.session() as session:
            incidents = (await session.exec(select(func.count()).select_from(Incident))).one()
            in_incident = (
                await session.exec(
                    select(func.count()).select_from(Ticket).where(Ticket.incident_id.is_not(None))  # type: ignore[union-attr]
                )
            ).one()
    sends = [c for c in calls if c.method in {"sendMessage", "createForumTopic"}]
    statuses = Counter(c.status for c in sends)
    refused = statuses.get(429, 0)
    staff = [
        c
        for c in calls
        if c.ok
        and c.method in {"sendMessage", "createForumTopic", "editMessageText"}
        and int(c.params.get("chat_id", 0)) == STAFF_CHAT_ID
    ]
    ratio = seconds / floor
    print(f"customers reporting at once    : {n} (care requests about one fault)")
    print(f"customers answered             : {answered}")
    print(f"time until the last first answer: {seconds:.1f} s")
    print(f"least possible at 30 msg/s     : {floor:.1f} s")
    print(
        f"ratio                          : {ratio:.3f}   "
        f"(target <= 1.15: {'ok' if ratio <= 1.15 and answered == n else 'ABOVE TARGET'})"
    )
    print(f"sends by status                : {dict(sorted(statuses.items()))}")
    print(
        f"429s                           : {refused} of {len(sends)} "
        f"({100 * refused / max(1, len(sends)):.2f} %, target < 1 %)"
    )
    print(f"incidents opened               : {incidents} ({in_incident} tickets in them)")
    print(f"calls to the staff chat        : {len(staff)}")
    cards = [c.at - started for c in staff if c.method == "sendMessage"]
    print(
        "incident card in the staff chat: "
        + (f"{min(cards):.1f} s after the burst" if cards else "NOT YET, staff know nothing")
    )
    print(f"busiest minute in the staff chat: {busiest([c.at for c in staff], 60.0)} (limit 20)")
    return 0 if answered == n else 1


def main() -> int:
    return run_main(main_async, bench_parser(__doc__, customers=2000), log_level=logging.ERROR)


if __name__ == "__main__":
    sys.exit(main())
