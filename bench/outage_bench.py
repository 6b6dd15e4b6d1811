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
from storage.models import Incident, Ticket
from storage.urls import normalise_database_url, redact

TELEGRAM_RATE = 30.0
OUTAGE_TEXTS = (
    "No internet since 9am, the fibre is down",
    "My internet is not working since this morning",
    "Internet down at home since 9, fibre light is off",
    "Still no internet here, is there an outage?",
    "The internet connection keeps failing, nothing loads",
    "Da stamattina internet non funziona, la fibra è giù",
    "Internet is down again in my street, please fix it",
    "No internet at all, the router shows a red light",
)


def busiest_minute(times: list[float]) -> int:
    """The most calls in any 60-second window."""
    times = sorted(times)
    peak, j = 0, 0
    for i, at in enumerate(times):
        while at - times[j] > 60.0:
            j += 1
        peak = max(peak, i - j + 1)
    return peak


async def main_async(args: argparse.Namespace) -> int:
    n = args.customers
    floor = n / TELEGRAM_RATE
    with tempfile.TemporaryDirectory(prefix="outage-bench-") as tmp_name:
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
                _env_file=None,
            )
            async with open_services(settings, migrate=True) as services:
                await services.triage.triage_many(list(OUTAGE_TEXTS))
                before = len(api.calls_to("getUpdates"))
                async with LocalBot(services, courier_gap=StaffCourier.GAP):
                    await until_polled(api, before)
                    api.enforce_limits()
                    first_call = len(api.calls)
                    people = customers(api, n, "Outage")
                    replies = Replies(api, [c["id"] for c in people])
                    started, _ = inject(api, people, OUTAGE_TEXTS)
                    progress = time.monotonic() + 10
                    while replies.poll():
                        now = time.monotonic()
                        if now - started > args.timeout:
                            break
                        if now > progress:
                            print(
                                f"  {now - started:5.1f} s: {n - len(replies.waiting)} answered",
                                flush=True,
                            )
                            progress = now + 10
                        await asyncio.sleep(0.05)
                    answered = n - len(replies.waiting)
                    seconds = (replies.last_at or time.monotonic()) - started
                    calls = api.calls[first_call:]
                    async with services.db.session() as session:
                        incidents = (
                            await session.exec(select(func.count()).select_from(Incident))
                        ).one()
                        in_incident = (
                            await session.exec(
                                select(func.count())
                                .select_from(Ticket)
                                .where(Ticket.incident_id.is_not(None))  # type: ignore[union-attr]
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
    print(f"busiest minute in the staff chat: {busiest_minute([c.at for c in staff])} (limit 20)")
    return 0 if answered == n else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=2000, help="customers (default 2000)")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server URL")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds for the burst")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    backend = redact(normalise_database_url(args.postgres)) if args.postgres else "SQLite"
    print(f"database: {backend}")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
