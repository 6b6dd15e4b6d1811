"""Idea similarity: the time per idea message over 1,000 open ideas, and how long it holds the
SQLite writer turn (every other writer of the process waits for it), before and after.

- before: the old path, as a reference. Inside one write session: load the open ideas, score
  them with nlp.similarity.most_similar on the event loop, read the votes, then write.
- after: bot.domain.similar.similar_ideas before the session (a short read of the ideas' ids,
  the scoring in a worker thread over the process's index of their words, the votes of those
  that match), then the write session alone.

The write is the same in both: what receive_feedback_many does next (an idea row here). Both
paths must find the same ideas with the same scores for every message; the script checks it.
Figures: similarity per message (p50, p99), writer turn held per message (p50, p99; on
PostgreSQL, the time the write transaction is open), the longest the event loop was stalled,
and the first message of "after" apart (the index built).

    .venv/bin/python bench/similar_bench.py
    .venv/bin/python bench/similar_bench.py --ideas 5000 --messages 300
    .venv/bin/python bench/similar_bench.py --database-url postgresql://u:p@host/db
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.domain.similar import SIMILAR_SHOWN, SIMILARITY_THRESHOLD, similar_ideas
from nlp.similarity import most_similar
from storage.db import Database
from storage.ideas import open_ideas, vote_counts
from storage.migrate import upgrade_to_head
from storage.models import Customer, Idea, IdeaStatus
from storage.urls import normalise_database_url

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

WANTS = [
    "pause the wifi for the kids",
    "a dark mode in the app",
    "share data between family SIMs",
    "pay the bill with a bank transfer",
    "choose the day the bill is due",
    "see the data left this month",
    "move my plan to another address",
    "a parental filter on the router",
    "roaming included in the plan",
    "an eSIM for my watch",
    "change the wifi password from the app",
    "a notification when the bill is ready",
    "book a technician visit online",
    "a cheaper plan for students",
    "a speed test in the app",
    "block calls from unknown numbers",
    "download invoices as PDF",
    "a chat with support on weekends",
    "turn off the modem lights at night",
    "a guest wifi network with its own password",
]
OPENINGS = [
    "It would be great to have",
    "Please add",
    "I wish there was",
    "Could you give us",
    "Sarebbe bello avere",
    "You should offer",
    "Nice idea:",
    "Maybe add",
]
DETAILS = [
    "for the evenings",
    "on Android and iOS",
    "like other operators do",
    "with a schedule",
    "without calling support",
    "for the whole family",
    "in the settings page",
    "from the home screen",
    "at dinner time",
    "when travelling abroad",
    "per device",
    "every month",
]


def proposal(rng: random.Random) -> str:
    want = rng.choice(WANTS)
    extra = " ".join(rng.sample(DETAILS, rng.randint(0, 2)))
    return f"{rng.choice(OPENINGS)} {want} {extra}".strip()


@dataclass
class Figures:
    similarity_ms: list[float] = field(default_factory=list)
    turn_ms: list[float] = field(default_factory=list)
    stall_ms: float = 0.0
    first_similarity_ms: float | None = None


class Stalls:
    """The longest the event loop went without running a 1 ms ticker."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.longest = max(self.longest, now - last - 0.001)
            last = now

    def __enter__(self) -> Stalls:
        self._task = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def write_idea(session: object, customer_id: int, body: str) -> None:
    session.add(  # type: ignore[attr-defined]
        Idea(customer_id=customer_id, text=body, topic="app", language="en", created_at=NOW)
    )
    await session.flush()  # type: ignore[attr-defined]


Ranked = list[tuple[int, float]]


async def before(db: Database, customer_id: int, body: str, figures: Figures) -> Ranked:
    """The old path: everything in the writer turn, the scoring on the event loop."""
    async with db.session() as session:
        entered = time.perf_counter()
        candidates = await open_ideas(session=session)
        ranked = most_similar(
            body,
            [(idea.id or 0, idea.text) for idea in candidates],
            threshold=SIMILARITY_THRESHOLD,
            limit=SIMILAR_SHOWN,
        )
        if ranked:
            await vote_counts(session=session, idea_ids=[key for key, _ in ranked])
        scored = time.perf_counter()
        await write_idea(session, customer_id, body)
        # The commit is part of the turn, as it is in the product.
    left = time.perf_counter()
    figures.similarity_ms.append((scored - entered) * 1000)
    figures.turn_ms.append((left - entered) * 1000)
    return ranked


async def after(db: Database, customer_id: int, body: str, figures: Figures) -> Ranked:
    """The new path: similar_ideas outside any session, then the write alone."""
    started = time.perf_counter()
    found = await similar_ideas(db, [body])
    scored = time.perf_counter()
    async with db.session() as session:
        entered = time.perf_counter()
        await write_idea(session, customer_id, body)
    left = time.perf_counter()
    if figures.first_similarity_ms is None:
        figures.first_similarity_ms = (scored - started) * 1000
    else:
        figures.similarity_ms.append((scored - started) * 1000)
    figures.turn_ms.append((left - entered) * 1000)
    return [(s.idea_id, s.score) for s in found.get(body, ())]


async def fill(db: Database, rng: random.Random, ideas: int) -> int:
    async with db.session() as session:
        customer = Customer(telegram_user_id=1, created_at=NOW, last_seen_at=NOW)
        session.add(customer)
        await session.flush()
        assert customer.id is not None
        session.add_all(
            Idea(
                customer_id=customer.id,
                text=proposal(rng),
                topic="app",
                language="en",
                status=IdeaStatus.NEW,
                created_at=NOW,
            )
            for _ in range(ideas)
        )
        return customer.id


async def run(
    url: str,
    ideas: int,
    messages: int,
    path: Callable[[Database, int, str, Figures], Awaitable[Ranked]],
    seed: int,
) -> tuple[Figures, list[Ranked]]:
    db = Database(url)
    await upgrade_to_head(db)
    rng = random.Random(seed)
    customer_id = await fill(db, rng, ideas)
    figures = Figures()
    found = []
    # Each message's idea is written, as on the board: the candidates change every time, as
    # they do in the product (and the index follows them).
    bodies = [proposal(rng) for _ in range(messages)]
    gc.collect()  # what the other path left behind is not collected in this one's time
    with Stalls() as stalls:
        for body in bodies:
            found.append(await path(db, customer_id, body, figures))
    figures.stall_ms = stalls.longest * 1000
    await db.dispose()
    return figures, found


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def scratch_url(base: str | None, tmp: Path) -> tuple[str, Callable[[], Awaitable[None]]]:
    if base is None:
        path = tmp / f"similar-{uuid.uuid4().hex[:8]}.sqlite3"
        url = normalise_database_url(f"sqlite:///{path}")

        async def nothing() -> None:
            return None

        return url, nothing
    base = normalise_database_url(base)
    name = f"similar_bench_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))

    async def drop() -> None:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await admin.dispose()

    return base.rsplit("/", 1)[0].split("?")[0] + f"/{name}", drop


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ideas", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="PostgreSQL (default: SQLite)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in (("before", before), ("after", after)):
            url, drop = await scratch_url(args.database_url, Path(tmp))
            try:
                results[name] = await run(url, args.ideas, args.messages, path, args.seed)
            finally:
                await drop()
    (old, old_found), (new, new_found) = results["before"], results["after"]
    same = sum(a == b for a, b in zip(old_found, new_found, strict=True))
    kind = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"{kind}: {args.messages} idea messages, over {args.ideas} open ideas and growing "
        f"(each message's idea is added); same ideas and scores found: {same}/{args.messages}"
    )
    print(f"{'':34}{'before':>12}{'after':>12}")
    rows = [
        ("similarity per message p50 (ms)", old.similarity_ms, new.similarity_ms, 0.5),
        ("similarity per message p99 (ms)", old.similarity_ms, new.similarity_ms, 0.99),
        ("writer turn per message p50 (ms)", old.turn_ms, new.turn_ms, 0.5),
        ("writer turn per message p99 (ms)", old.turn_ms, new.turn_ms, 0.99),
    ]
    for label, a, b, q in rows:
        print(f"{label:34}{pct(a, q):12.2f}{pct(b, q):12.2f}")
    total_old, total_new = sum(old.turn_ms), sum(new.turn_ms)
    print(f"{'writer turn, all messages (ms)':34}{total_old:12.0f}{total_new:12.0f}")
    print(f"{'longest event-loop stall (ms)':34}{old.stall_ms:12.1f}{new.stall_ms:12.1f}")
    print(
        f"after: the first message (index built from {args.ideas} ideas) took "
        f"{new.first_similarity_ms or 0:.1f} ms; mean similarity "
        f"{statistics.fmean(old.similarity_ms):.2f} → {statistics.fmean(new.similarity_ms):.2f} ms"
    )
    if same != args.messages:
        raise SystemExit("the two paths found different ideas")


if __name__ == "__main__":
    asyncio.run(main())
