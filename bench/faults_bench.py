"""Faults during a burst: the bot killed with SIGKILL, and PostgreSQL restarted, mid-burst.

Runs the scenario of tests/intake/test_crash_recovery.py (``run_burst``) at full size: a real
``feedbackbot run`` subprocess polls the in-process fake Bot API server while N customers
write one message each (praise, so one acknowledgement each), and the fault strikes once
``--fault-after`` customers have been acknowledged:

(a) ``kill``: SIGKILL to the bot, then a new process is started on the same database;
(c) ``postgres``: ``pg_ctlcluster <PG_VERSION> main restart`` (only with --postgres; needs the
    right to restart the cluster, e.g. root; PG_VERSION defaults to 15).

Each prints the BurstReport lines. Every message must be stored, turned into feedback and
acknowledged; only acknowledgements in flight at the fault may go out twice.

    python bench/faults_bench.py                          # (a) on SQLite in a temp directory
    python bench/faults_bench.py --postgres postgresql://user:pass@127.0.0.1:5432/db  # (a), (c)

With --postgres each scenario gets a scratch database created next to the one named in the
URL (the role needs CREATEDB), dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import col, select

from bench.support import OUTAGE_TEXTS, run_main, scratch_database
from bot.sandbox.fake_api import FakeBotApi
from storage.db import Database
from storage.migrate import upgrade_to_head
from storage.models import Customer, Ticket
from tests.support import BOT_TOKEN, STAFF_CHAT_ID
from tests.support.bursts import BURST_TEXTS, BurstReport, delivered_unrecorded, run_burst
from tests.support.processes import free_port, start_bot


class IndexedFakeBotApi(FakeBotApi):
    """The fake server with a per-chat index for ``messages_to``.

    run_burst asks ``messages_to`` for every customer every 10 ms until the fault; the stock
    method scans every message the bot ever sent, so one pass over 2,000 customers holds the
    event loop the fake server answers the bot from for ~50 ms (~13 ms with the index), which
    would slow the bot under test. Same answers (current state, oldest first), read from an
    index kept up to date.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._by_chat: dict[int, list[tuple[int, int]]] = {}
        self._indexed = 0

    def messages_to(self, chat_id: int, thread_id: int | None = None) -> list[dict[str, Any]]:
        sent = self._bot_messages
        if len(sent) < self._indexed:  # a message was deleted: start over
            self._by_chat, self._indexed = {}, 0
        for key in sent[self._indexed :]:
            self._by_chat.setdefault(key[0], []).append(key)
        self._indexed = len(sent)
        found = []
        for key in self._by_chat.get(chat_id, ()):
            message = self._messages.get(key)
            if message is None:
                continue
            if thread_id is not None and message.get("message_thread_id") != thread_id:
                continue
            found.append(copy.deepcopy(message))
        return found


async def scenario(
    name: str, fault: str, args: argparse.Namespace, tmp: Path, *, outage: bool = False
) -> BurstReport:
    """One run_burst on a fresh migrated database; prints its report.

    `outage`: care requests about one fault, the fake server enforcing Telegram's limits, the
    product's defaults (its 15 s inbox lease included); else praise, no limits, a 3 s lease."""
    fault_after = args.fault_after if not outage else int(args.messages * 0.3)
    print(f"\n{name}: {args.messages} messages, fault after {fault_after} acks", flush=True)
    work = tmp / f"{fault}-{'outage' if outage else 'praise'}"
    work.mkdir()
    async with scratch_database(args.postgres, work) as url:
        db = Database(url)
        try:
            await upgrade_to_head(db)
            async with IndexedFakeBotApi(token=BOT_TOKEN) as api:
                report = await run_burst(
                    api,
                    db,
                    work,
                    messages=args.messages,
                    fault_after=fault_after,
                    fault=fault,
                    timeout=args.timeout,
                    texts=OUTAGE_TEXTS if outage else BURST_TEXTS,
                    limits=outage,
                    # The product's inbox lease under an outage; a short one for praise.
                    env_overrides={"INBOX_LEASE_SECONDS": "15" if outage else "3"},
                )
        finally:
            await db.dispose()
    for line in report.lines():
        print(f"  {line}")
    lost = report.sent - min(report.stored, report.feedback, report.acknowledged)
    allowed_twice = max(report.in_flight_at_fault, 1)
    verdict = "ok" if lost == 0 and report.acknowledged_twice <= allowed_twice else "FAILED"
    print(
        f"  => lost {lost}, acknowledged twice {report.acknowledged_twice} "
        f"(allowed: {allowed_twice}): {verdict}",
        flush=True,
    )
    return report


async def broadcast_scenario(args: argparse.Namespace, tmp: Path) -> None:
    """(g) kill -9 in the middle of an incident's broadcast, then a restart: each affected
    customer gets the staff reply once, but for what was on the wire at the kill."""
    n = args.broadcast_customers
    print(f"\n(g) kill -9 at 30 % of a broadcast to {n} customers (Telegram's limits)", flush=True)
    work = tmp / "broadcast"
    work.mkdir()
    loop = asyncio.get_running_loop()
    async with scratch_database(args.postgres, work) as url:
        db = Database(url)
        try:
            await upgrade_to_head(db)
            async with IndexedFakeBotApi(token=BOT_TOKEN) as api:
                staff = api.new_user("Sara")
                api.add_supergroup(
                    STAFF_CHAT_ID, title="Care", is_forum=True, members=[staff["id"]]
                )
                api.enforce_limits()
                env = {
                    "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
                    "TELEGRAM_API_BASE_URL": api.base_url,
                    "DATABASE_URL": db.url,
                    "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
                    "PORT": str(free_port()),
                    "LOG_LEVEL": "WARNING",
                }
                log = work / "bot.log"
                bot = start_bot(env, log)
                try:
                    people = [api.new_user(f"B{i}") for i in range(n)]
                    for i, person in enumerate(people):
                        api.send_text(person, OUTAGE_TEXTS[i % len(OUTAGE_TEXTS)])

                    def cards() -> list[dict[str, Any]]:
                        return [m for m in api.messages_to(STAFF_CHAT_ID) if "🚨" in m["text"]]

                    deadline = loop.time() + args.timeout
                    while not cards() or any(not api.messages_to(p["id"]) for p in people):
                        assert bot.poll() is None and loop.time() < deadline, "no incident card"
                        await asyncio.sleep(0.2)
                    # The broadcast goes to the incident's customers: a report the model put
                    # in another topic before the incident opened keeps its own ticket.
                    async with db.session() as session:
                        members = set(
                            (
                                await session.exec(
                                    select(Customer.telegram_user_id)
                                    .join(Ticket, col(Ticket.customer_id) == col(Customer.id))
                                    .where(col(Ticket.incident_id).is_not(None))
                                )
                            ).all()
                        )
                    alone = n - len(members)
                    people = [p for p in people if p["id"] in members]
                    words = "The fibre cable is being repaired"
                    api.send_text(
                        staff,
                        words,
                        chat=STAFF_CHAT_ID,
                        message_thread_id=cards()[0]["message_thread_id"],
                    )

                    def told() -> list[int]:
                        return [
                            sum(words in m["text"] for m in api.messages_to(p["id"]))
                            for p in people
                        ]

                    while sum(1 for t in told() if t) < 0.3 * len(people):
                        assert bot.poll() is None and loop.time() < deadline, "no broadcast"
                        await asyncio.sleep(0.01)
                    bot.send_signal(signal.SIGKILL)
                    bot.wait()
                    killed_at = loop.time()
                    before = sum(1 for t in told() if t)
                    in_flight = await delivered_unrecorded(
                        db, api, [p["id"] for p in people], words=words
                    )
                    bot = start_bot(env, log)
                    while not all(told()):
                        assert bot.poll() is None and loop.time() < deadline, (
                            f"{sum(1 for t in told() if t)}/{len(people)} told"
                        )
                        await asyncio.sleep(0.1)
                    recovered = loop.time() - killed_at
                finally:
                    if bot.poll() is None:
                        bot.send_signal(signal.SIGTERM)
                        bot.wait(timeout=15)
                counts = told()
        finally:
            await db.dispose()
    twice = sum(1 for c in counts if c > 1)
    print(f"  customers affected          : {len(counts)} (of {n}; {alone} on their own ticket)")
    print(f"  told before the kill        : {before}")
    print(f"  delivered, unrecorded at kill: {in_flight}")
    print(f"  told once / twice / never   : {counts.count(1)} / {twice} / {counts.count(0)}")
    print(f"  all told, after the kill    : {recovered:.1f} s")
    verdict = "ok" if counts.count(0) == 0 and twice <= max(in_flight, 1) else "FAILED"
    print(f"  => {verdict}", flush=True)


async def main_async(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="faults-bench-") as tmp_name:
        tmp = Path(tmp_name)
        if "kill" in args.faults:
            await scenario("(a) kill -9 of the bot", "kill", args, tmp)
        if "outage" in args.faults:
            await scenario(
                "(f) kill -9 at 30 % of an outage burst (care, Telegram's limits, defaults)",
                "kill",
                args,
                tmp,
                outage=True,
            )
        if "broadcast" in args.faults:
            await broadcast_scenario(args, tmp)
        if "postgres" in args.faults:
            if args.postgres is None:
                print("\n(c) PostgreSQL restart: skipped (needs --postgres URL)")
            else:
                await scenario("(c) PostgreSQL restart", "postgres", args, tmp)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000, help="customers (default 2000)")
    parser.add_argument(
        "--fault-after", type=int, default=600, help="acknowledgements before the fault"
    )
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server URL")
    parser.add_argument(
        "--faults",
        nargs="+",
        choices=("kill", "postgres", "outage", "broadcast"),
        default=("kill", "postgres", "outage", "broadcast"),
        help="scenarios to run (default all; postgres only with --postgres)",
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per scenario")
    parser.add_argument(
        "--broadcast-customers", type=int, default=600, help="customers in scenario (g)"
    )
    # No logging set up: the bot under test is a subprocess with its own LOG_LEVEL.
    return run_main(main_async, parser, log_level=None)


if __name__ == "__main__":
    sys.exit(main())
