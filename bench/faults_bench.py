"""Faults during a burst: the bot killed with SIGKILL, and PostgreSQL restarted, mid-burst.

Runs the scenario of tests/bot/test_crash_recovery.py (``run_burst``) at full size: a real
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
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.intake_bench import scratch_database
from bench.outage_bench import OUTAGE_TEXTS
from bot.fake_api import FakeBotApi
from storage.db import Database
from storage.migrate import upgrade_to_head
from storage.urls import normalise_database_url, redact
from tests.bot.test_crash_recovery import BurstReport, run_burst
from tests.support import BOT_TOKEN


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
                    **(
                        {
                            "texts": OUTAGE_TEXTS,
                            "limits": True,
                            "env_overrides": {"INBOX_LEASE_SECONDS": "15"},
                        }
                        if outage
                        else {}
                    ),
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
        choices=("kill", "postgres", "outage"),
        default=("kill", "postgres", "outage"),
        help="scenarios to run (default all; postgres only with --postgres)",
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per scenario")
    args = parser.parse_args()
    backend = redact(normalise_database_url(args.postgres)) if args.postgres else "SQLite"
    print(f"database: {backend}")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
