"""End-to-end intake throughput: the full pipeline against a bare python-telegram-bot echo bot.

Both run in one process against the same in-process fake Bot API server (bot.sandbox.fake_api), one
after the other:

- **echo**: a plain ``Application`` fed by PTB's own ``Updater`` (getUpdates long polling)
  with one ``MessageHandler`` that replies with the same text: the floor of what any PTB bot
  costs per message on this machine;
- **echo (PTB, aiohttp)**, for reference: the same echo bot on ``AiohttpRequest``, the HTTP
  client the real bot uses (python-telegram-bot's default one, on httpx, costs more per call);
- **pipeline**: the real bot (``bot.sandbox.harness.LocalBot``: the store-first poller, the inbox,
  triage, storage, the outbox and the acknowledgement), ``RATE_LIMIT=false``.

N distinct customers write one message each, all injected at once; the clock runs from the
injection until every customer has had a reply. Each pipeline run is compared with an echo run
made just before it. The "other" run uses praise that the model
triages as *other*, so the pipeline answers with exactly one acknowledgement; the "care" run
uses problems, so each message also opens a ticket (a forum topic and a card in the staff
chat). Targets: pipeline/echo >= 0.7 on the "other" run and on the "care" run (issue 18's
care intake), both against the same echo bot. The care run is four faults of 500 customers
each, so on the product's defaults they become four incidents; it is repeated with incidents
off (every request its own ticket, card or digest), reported beside it.

    python bench/intake_bench.py                      # SQLite in a temporary directory
    python bench/intake_bench.py --customers 2000 --care-customers 500
    python bench/intake_bench.py --postgres postgresql://user:pass@127.0.0.1:5432/db

With --postgres a scratch database is created next to the one named in the URL (the role
needs CREATEDB) for each run and dropped afterwards.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import col, func, select
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bench.support import (
    BOT_TOKEN,
    OTHER_TEXTS,
    STAFF_CHAT_ID,
    Replies,
    customers,
    inject,
    run_main,
    running_bot,
    scratch_database,
    until_polled,
    warm_up,
)
from bot.app.application import SEND_CONNECTIONS
from bot.core.services import Services
from bot.sandbox.fake_api import FakeBotApi
from bot.telegram.request import AiohttpRequest
from storage.models import InboxUpdate, Ticket

WARM_UP = 20

# Triaged as "care": an acknowledgement with the ticket reference, and a ticket for staff.
CARE_TEXTS = (
    "My internet has been down since yesterday, please help",
    "I was charged twice on my last bill, can you fix it?",
    "The router keeps disconnecting every hour",
    "The app crashes when I open the invoices page",
)


# ------------------------------------------------------------------------------------ helpers


@dataclass(frozen=True, slots=True)
class Run:
    """One timed run."""

    name: str
    messages: int
    seconds: float
    replies_per_customer: float
    extra: str = ""

    @property
    def rate(self) -> float:
        return self.messages / self.seconds

    def line(self) -> str:
        extra = f"  {self.extra}" if self.extra else ""
        return (
            f"{self.name:<20} {self.messages:>6} msgs  {self.seconds:8.2f} s  "
            f"{self.rate:8.1f} msg/s  replies/customer {self.replies_per_customer:.2f}{extra}"
        )


# ------------------------------------------------------------------------------------ echo


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await message.reply_text(message.text)


async def run_echo(
    api: FakeBotApi, n: int, *, timeout: float, name: str = "echo (PTB)", request: Any = None
) -> Run:
    """The bare PTB echo bot with its standard Updater (and, unless given, its standard
    httpx-based request)."""
    builder = Application.builder().token(api.token).base_url(api.base_url)  # default Updater
    if request is not None:
        builder = builder.request(request)
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    async with application:
        assert application.updater is not None
        before = len(api.calls_to("getUpdates"))
        await application.updater.start_polling(poll_interval=0.0, timeout=10)
        await application.start()
        try:
            await until_polled(api, before)
            await warm_up(
                api, WARM_UP, "EchoWarm", OTHER_TEXTS, timeout=timeout, what="echo warm-up"
            )

            people = customers(api, n, "Echo")
            replies = Replies(api, [c["id"] for c in people])
            started, _ = inject(api, people, OTHER_TEXTS)
            await replies.wait(timeout=timeout, what="echo")
        finally:
            await application.updater.stop()
            await application.stop()
    per = sum(replies.sends.get(c["id"], 0) for c in people) / n
    return Run(name, n, replies.last_at - started, per)


# ------------------------------------------------------------------------------------ pipeline


async def run_pipeline(
    api: FakeBotApi,
    database_url: str,
    n: int,
    texts: Sequence[str],
    *,
    name: str,
    timeout: float,
    overrides: dict[str, Any] | None = None,
) -> Run:
    """The real bot (LocalBot) on a fresh database, RATE_LIMIT=false."""
    care = texts is CARE_TEXTS
    running = running_bot(api, database_url, texts, rate_limit=False, **(overrides or {}))
    async with running as (services, bot):
        last = await warm_up(
            api, WARM_UP, f"{name}Warm", texts, timeout=timeout, what=f"{name} warm-up"
        )
        await bot.processed(last, timeout=timeout)  # its staff card too, for care

        people = customers(api, n, name)
        replies = Replies(api, [c["id"] for c in people])
        staff = Replies(api, [STAFF_CHAT_ID])
        topics_before = len(api.topics(STAFF_CHAT_ID))
        held_before = await held_tickets(services)
        started, last = inject(api, people, texts)
        await replies.wait(timeout=timeout, what=name)
        acked = replies.last_at - started
        # The last update is done a little later (its card, for care; marking it done).
        await bot.processed(last, timeout=timeout)
        done = time.monotonic() - started
        staff.poll()
        extra = f"all processed after {done:.2f} s"
        if care:
            cards = staff.sends.get(STAFF_CHAT_ID, 0)
            topics = len(api.topics(STAFF_CHAT_ID)) - topics_before
            extra += f"; staff chat: {topics} topics, {cards} messages"
            held = await held_tickets(services)
            if held is not None and held_before is not None:
                extra += f", {held - held_before} tickets held for the digest"
        async with services.db.session() as session:
            unprocessed = (
                await session.exec(
                    select(func.count())
                    .select_from(InboxUpdate)
                    .where(col(InboxUpdate.processed_at).is_(None))
                )
            ).one()
        if unprocessed:
            extra += f"  (inbox: {unprocessed} still unprocessed)"
    per = sum(replies.sends.get(c["id"], 0) for c in people) / n
    return Run(name, n, acked, per, extra)


async def held_tickets(services: Services) -> int | None:
    """Tickets waiting for the staff digest (past the staff chat's per-minute cap), where the
    bot has that feature."""
    pending = getattr(Ticket, "staff_pending_since", None)
    if pending is None:
        return None
    async with services.db.session() as session:
        statement = select(func.count()).select_from(Ticket).where(col(pending).is_not(None))
        return int((await session.exec(statement)).one())


# ------------------------------------------------------------------------------------ main


async def main_async(args: argparse.Namespace) -> int:
    # Each pipeline run is measured against an echo run made just before it: this machine's
    # speed drifts from one minute to the next (the echo bot alone has run at 280 and at 540
    # msg/s in one afternoon), and a ratio to an echo measured minutes earlier tilts with it.
    variants: list[tuple[str, str, tuple[str, ...], int, dict[str, Any]]] = [
        ("pipeline other", "pipeline, other", OTHER_TEXTS, args.customers, {})
    ]
    if args.care_customers:
        # Four faults, 500 customers each: each becomes an incident (the product's defaults).
        # Then the same without incidents, every request its own ticket: past
        # STAFF_BURST_PER_MINUTE staff messages a minute tickets wait for a digest; with the
        # cap raised every ticket gets its own topic and card as well.
        variants += [
            ("pipeline care", "pipeline, care", CARE_TEXTS, args.care_customers, {}),
            (
                "pipeline care/alone",
                "care, no incidents",
                CARE_TEXTS,
                args.care_customers,
                {"incident_min_reports": 0},
            ),
            (
                "pipeline care/alone/cap",
                "care, no incidents, cap 1000",
                CARE_TEXTS,
                args.care_customers,
                {"incident_min_reports": 0, "staff_burst_per_minute": 1000},
            ),
        ]
    pairs: list[tuple[str, Run, Run]] = []
    with tempfile.TemporaryDirectory(prefix="intake-bench-") as tmp_name:
        tmp = Path(tmp_name)
        async with FakeBotApi(token=BOT_TOKEN) as api:
            api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True)
            print(f"{args.customers} customers, one message each, injected at once")
            # For reference only: the echo bot on the HTTP client the pipeline uses.
            echo_aiohttp = await run_echo(
                api,
                args.customers,
                timeout=args.timeout,
                name="echo (PTB, aiohttp)",
                request=AiohttpRequest(SEND_CONNECTIONS),
            )
            print(echo_aiohttp.line(), flush=True)
            for name, label, texts, n, overrides in variants:
                echo = await run_echo(api, n, timeout=args.timeout)
                print(echo.line(), flush=True)
                if api.pending_updates:
                    print(f"  ({api.pending_updates} updates left unconfirmed by the echo bot)")
                async with scratch_database(args.postgres, tmp) as url:
                    run = await run_pipeline(
                        api, url, n, texts, name=name, timeout=args.timeout, overrides=overrides
                    )
                print(run.line(), flush=True)
                pairs.append((label, echo, run))
    print()
    print("each pipeline run against the echo run just before it (target >= 0.70)")
    for label, echo, run in pairs:
        ratio = run.rate / echo.rate
        targeted = label in ("pipeline, other", "pipeline, care")
        verdict = (" ok" if ratio >= 0.7 else " BELOW TARGET") if targeted else ""
        print(
            f"{label:<30}: {run.rate:8.1f} msg/s, echo {echo.rate:8.1f} msg/s, "
            f"ratio {ratio:5.2f}{verdict}"
        )
    other = pairs[0][2]
    print(
        f"{'echo on aiohttp (reference)':<30}: {echo_aiohttp.rate:8.1f} msg/s, "
        f"pipeline other/that {other.rate / echo_aiohttp.rate:.2f}"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=2000, help="customers (default 2000)")
    parser.add_argument(
        "--care-customers",
        type=int,
        default=2000,
        help="customers in the care variant (0: skip it; default 2000)",
    )
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server URL")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    return run_main(main_async, parser)


if __name__ == "__main__":
    sys.exit(main())
