"""What the benchmarks share: a scratch database, customers writing to the in-process fake Bot
API server (bot.sandbox.fake_api) and the replies they get, the real bot started on it, and a
bench's command line.

The benches are scripts (``python bench/x.py``): each puts the repository on ``sys.path`` and
imports this module as ``bench.support``. Only what more than one bench uses lives here; what
one bench measures stays in its own file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.core.services import Services, open_services
from bot.core.settings import Settings, load_settings
from bot.sandbox.fake_api import FakeBotApi
from bot.sandbox.harness import LocalBot
from bot.staff_chat.courier import StaffCourier
from storage.urls import normalise_database_url, redact

BOT_TOKEN = "123456:BENCH-TOKEN-abcdefghijklmnopqrstuvwxyz"
STAFF_CHAT_ID = -1001000000001

# Triaged as "other" by the shipped model (praise, thanks): one acknowledgement each.
OTHER_TEXTS = (
    "Thanks, all good now!",
    "Thank you, the technician was great this morning!",
    "Great service, thank you very much",
    "Just wanted to say the new app is really nice",
    "Grazie mille, adesso la fibra va benissimo",
)
# Care requests about one fibre outage, in different words: the model puts them in one topic,
# so on the product's defaults they become one incident.
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


# ------------------------------------------------------------------------------------ databases


@contextlib.asynccontextmanager
async def scratch_database(postgres: str | None, tmp: Path) -> AsyncIterator[str]:
    """An empty database URL: a new SQLite file in tmp, or a new PostgreSQL database next to
    the one named in ``postgres`` (dropped afterwards)."""
    if postgres is None:
        yield normalise_database_url(f"sqlite:///{tmp / f'bench-{uuid.uuid4().hex[:8]}.db'}")
        return
    base = make_url(normalise_database_url(postgres))
    name = f"fbbench_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            try:
                await drop_database(admin, name, attempts=20, pause=0.5)
            except Exception:
                # A leftover scratch database is no reason to lose the figures printed so far.
                print(f"  (could not drop the scratch database {name})")
    finally:
        await admin.dispose()


async def drop_database(admin: AsyncEngine, name: str, *, attempts: int, pause: float) -> None:
    """DROP DATABASE, tried `attempts` times `pause` seconds apart; the last failure is raised.

    Right after a run something may still be connected for a moment: the bot's last
    connections closing, or autovacuum after a big load (PostgreSQL stops it for a plain DROP,
    but WITH (FORCE) would need rights over its backend)."""
    for attempt in range(attempts):
        try:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            return
        except Exception:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(pause)


# ------------------------------------------------------------------------------------ customers


class Replies:
    """Follows the fake server's call log: when each customer first got a message."""

    def __init__(self, api: FakeBotApi, chat_ids: Sequence[int]) -> None:
        self._api = api
        self._seen = len(api.calls)
        self.waiting = set(chat_ids)
        self.total = len(self.waiting)
        self.last_at = 0.0
        self.sends: dict[int, int] = {}

    def poll(self) -> int:
        """Read the new calls; how many customers are still waiting."""
        calls = self._api.calls
        end = len(calls)
        for call in calls[self._seen : end]:
            if not call.ok or call.method != "sendMessage":
                continue
            chat = int(call.params["chat_id"])
            self.sends[chat] = self.sends.get(chat, 0) + 1
            if chat in self.waiting:
                self.waiting.discard(chat)
                self.last_at = max(self.last_at, call.at)
        self._seen = end
        return len(self.waiting)

    async def wait(self, *, timeout: float, what: str = "replies", every: float = 0.02) -> None:
        """Until every customer has a reply."""
        deadline = time.monotonic() + timeout
        while self.poll():
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{what}: {self.total - len(self.waiting)}/{self.total} in {timeout:.0f} s"
                )
            await asyncio.sleep(every)

    async def follow(self, started: float, *, timeout: float, what: str) -> bool:
        """Until every customer has a reply, saying every 10 s how many have one (`what`:
        "acknowledged", "answered"), for bursts that take long under Telegram's limits.
        Whether all had one before `timeout` seconds after `started`."""
        progress = time.monotonic() + 10
        while self.poll():
            now = time.monotonic()
            if now - started > timeout:
                return False
            if now > progress:
                print(
                    f"  {now - started:5.1f} s: {self.total - len(self.waiting)} {what}",
                    flush=True,
                )
                progress = now + 10
            await asyncio.sleep(0.05)
        return True


async def until_polled(api: FakeBotApi, before: int, *, timeout: float = 60.0) -> None:
    """Until the bot has made a getUpdates call after the first ``before`` ones."""
    deadline = time.monotonic() + timeout
    while len(api.calls_to("getUpdates")) <= before:
        if time.monotonic() > deadline:
            raise TimeoutError("the bot never called getUpdates")
        await asyncio.sleep(0.01)


def customers(api: FakeBotApi, n: int, prefix: str) -> list[dict[str, Any]]:
    """N new customers (distinct users and private chats)."""
    return [api.new_user(f"{prefix}{i}", language_code="en") for i in range(n)]


def inject(
    api: FakeBotApi, people: Sequence[dict[str, Any]], texts: Sequence[str]
) -> tuple[float, int]:
    """Every customer writes one message, all at once: when the injection started, and the
    last update's id."""
    started = time.monotonic()
    last = 0
    for i, person in enumerate(people):
        last = int(api.send_text(person, texts[i % len(texts)])["update_id"])
    return started, last


async def warm_up(
    api: FakeBotApi, n: int, prefix: str, texts: Sequence[str], *, timeout: float, what: str
) -> int:
    """N customers write once and are answered before the clock starts, so that the timed run
    pays for no first connection or lazy import: the last update's id."""
    warm = customers(api, n, prefix)
    replies = Replies(api, [c["id"] for c in warm])
    _, last = inject(api, warm, texts)
    await replies.wait(timeout=timeout, what=what)
    return last


def busiest(times: Sequence[float], window: float) -> int:
    """The most calls in any `window` seconds, from the calls' times: what the fake server
    saw against a Telegram limit (30 a second overall, 20 a minute per group)."""
    times = sorted(times)
    peak, j = 0, 0
    for i, at in enumerate(times):
        while at - times[j] > window:
            j += 1
        peak = max(peak, i - j + 1)
    return peak


# ------------------------------------------------------------------------------------ the bot


def bench_settings(api: FakeBotApi, database_url: str, **overrides: Any) -> Settings:
    """The product's settings for a bench on the fake server: its token and URL, the database,
    the bench's staff chat, nothing from a .env file (a developer's must not tilt the figures),
    and the bench's own `overrides` (``rate_limit=False`` and the like)."""
    return load_settings(
        telegram_bot_token=api.token,
        telegram_api_base_url=api.base_url,
        database_url=database_url,
        staff_chat_id=STAFF_CHAT_ID,
        _env_file=None,
        **overrides,
    )


@contextlib.asynccontextmanager
async def running_bot(
    api: FakeBotApi, database_url: str, warm_texts: Sequence[str], **overrides: Any
) -> AsyncIterator[tuple[Services, LocalBot]]:
    """The real bot (LocalBot, with the staff courier's real pause) on a migrated database,
    already polling the fake server. The model triages `warm_texts` first: its lazy parts
    load then, not during the timed run."""
    settings = bench_settings(api, database_url, **overrides)
    async with open_services(settings, migrate=True) as services:
        await services.triage.triage_many(list(warm_texts))
        before = len(api.calls_to("getUpdates"))
        async with LocalBot(services, courier_gap=StaffCourier.GAP) as bot:
            await until_polled(api, before)
            yield services, bot


@contextlib.asynccontextmanager
async def burst_bot(
    postgres: str | None, tmp_prefix: str, warm_texts: Sequence[str], **overrides: Any
) -> AsyncIterator[tuple[FakeBotApi, Services, LocalBot]]:
    """A fake server with the forum staff chat, and the real bot on it (``running_bot``) on a
    scratch database (SQLite in a temporary directory named `tmp_prefix`..., or PostgreSQL
    next to `postgres`): all a one-burst bench needs, torn down in order afterwards."""
    with tempfile.TemporaryDirectory(prefix=tmp_prefix) as tmp_name:
        async with (
            FakeBotApi(token=BOT_TOKEN) as api,
            scratch_database(postgres, Path(tmp_name)) as url,
        ):
            api.add_supergroup(STAFF_CHAT_ID, title="Care", is_forum=True)
            async with running_bot(api, url, warm_texts, **overrides) as (services, bot):
                yield api, services, bot


# ------------------------------------------------------------------------------------ main


def bench_parser(doc: str, *, customers: int) -> argparse.ArgumentParser:
    """The command line of a one-burst bench: --customers, --postgres and --timeout. Its
    description is the first paragraph of `doc`, the bench's module docstring."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument(
        "--customers", type=int, default=customers, help=f"customers (default {customers})"
    )
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server URL")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds for the burst")
    return parser


def run_main(
    main_async: Callable[[argparse.Namespace], Coroutine[Any, Any, int]],
    parser: argparse.ArgumentParser,
    *,
    log_level: int | None = logging.WARNING,
) -> int:
    """Parse the command line (it must have --postgres), log at `log_level` (None: leave
    logging as Python has it), say which database the figures are for, and run the bench:
    its exit status."""
    args = parser.parse_args()
    if log_level is not None:
        logging.basicConfig(level=log_level, format="%(levelname)s %(name)s: %(message)s")
    backend = redact(normalise_database_url(args.postgres)) if args.postgres else "SQLite"
    print(f"database: {backend}")
    return asyncio.run(main_async(args))
