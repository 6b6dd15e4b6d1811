"""The metrics bench's data: a firm's 90 days of feedback, tickets, ideas and ratings in realistic
proportions, generated from a seed and written in bulk (executemany on SQLite, COPY on
PostgreSQL). Used by bench/metrics_bench.py."""

from __future__ import annotations

import bisect
import itertools
import math
import random
import sqlite3
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # type: ignore[import-untyped]

DAYS = 90
DATA_END = datetime(2026, 11, 20, tzinfo=UTC)
DATA_START = DATA_END - timedelta(days=DAYS)
EPOCH_MS = int(DATA_START.timestamp() * 1000)
END_MS = int(DATA_END.timestamp() * 1000)
DAY_MS = 86_400_000
MINUTE_MS = 60_000
SUMMARY_WINDOW = timedelta(days=30)

TOPICS = ["billing", "network", "app", "delivery", "account", "pricing", "support", "other"]
TOPIC_WEIGHTS = [22, 18, 16, 12, 10, 8, 6, 8]
KINDS = ["care", "idea", "other"]
KIND_WEIGHTS = [50, 10, 40]
SENTIMENTS = ["negative", "neutral", "positive"]
SENTIMENT_WEIGHTS = {"care": [55, 35, 10], "idea": [10, 50, 40], "other": [10, 60, 30]}
FIRST_STATUS = ["under_review", "planned", "declined", "duplicate", "in_progress", "done"]
FIRST_STATUS_WEIGHTS = [40, 20, 20, 5, 10, 5]
CSAT_WEIGHTS = [6, 6, 12, 30, 46]  # scores 1..5
NPS_WEIGHTS = [3, 2, 2, 3, 3, 5, 7, 12, 18, 25, 20]  # scores 0..10
STAFF = [(700_000 + i, f"Agent {i}") for i in range(25)]
TEXTS = [
    f"Sample message {i}: the {t} thing did not work as expected this morning, please check."
    for i, t in enumerate(TOPICS * 6)
]

COLUMNS: dict[str, tuple[str, ...]] = {
    "customer": (
        "id", "telegram_user_id", "first_name", "language", "created_at", "last_seen_at",
        "unreachable",
    ),
    "ticket": (
        "id", "customer_id", "status", "topic", "sentiment", "priority", "language",
        "assignee_id", "assignee_name", "assigned_at", "opened_at", "first_response_at",
        "first_response_seconds", "resolved_at", "resolution_seconds", "resolved_by",
        "reopened_count", "reopened_at",
    ),
    "idea": (
        "id", "customer_id", "text", "topic", "language", "status", "created_at",
        "first_status_at", "status_changed_at",
    ),
    "feedback": (
        "id", "customer_id", "chat_id", "message_id", "text", "kind", "confidence", "sentiment",
        "topic", "language", "keywords", "created_at", "routed_at",
    ),
    "ticketmessage": ("id", "ticket_id", "author", "author_user_id", "text", "created_at"),
    "ideastatuschange": ("id", "idea_id", "old_status", "new_status", "changed_by", "changed_at"),
    "vote": ("id", "idea_id", "customer_id", "created_at"),
    "ideacomment": ("id", "idea_id", "customer_id", "text", "created_at"),
    "rating": ("id", "customer_id", "ticket_id", "scale", "score", "created_at"),
}  # fmt: skip
# Which columns hold a moment (as integer milliseconds while generating).
MOMENTS = {
    name: {i for i, column in enumerate(columns) if column.endswith("_at")}
    for name, columns in COLUMNS.items()
}

Rows = dict[str, list[tuple[Any, ...]]]


def lognormal_ms(rng: random.Random, median_minutes: float, sigma: float) -> int:
    """A positive duration with a long tail, in milliseconds."""
    return int(median_minutes * MINUTE_MS * math.exp(rng.gauss(0.0, sigma))) + 1000


@dataclass
class Generator:
    """Deterministic fake activity for `size` feedback items, produced one day at a time."""

    size: int
    seed: int = 7
    rng: random.Random = field(init=False)
    ids: dict[str, Iterator[int]] = field(init=False)
    customers: int = field(init=False)
    cum_weights: list[float] = field(init=False)
    vocab: list[str] = field(init=False)
    vocab_weights: list[float] = field(init=False)
    open_ideas: list[tuple[int, int]] = field(default_factory=list)  # today's (id, created ms)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.ids = {name: itertools.count(1) for name in COLUMNS}
        self.still_open: set[int] = set()  # customers with a ticket open at the end
        self.customers = max(50, self.size // 8)
        # A few customers write a lot, most write once or twice (Zipf-like).
        self.cum_weights = list(
            itertools.accumulate(1.0 / (rank**0.8) for rank in range(1, self.customers + 1))
        )
        self.vocab = [f"word{i}" for i in range(3000)]
        self.vocab_weights = list(itertools.accumulate(1.0 / r for r in range(1, 3001)))

    def customer_rows(self) -> list[tuple[Any, ...]]:
        rows = []
        for cid in range(1, self.customers + 1):
            created = EPOCH_MS - 180 * DAY_MS + int(self.rng.random() * 268 * DAY_MS)
            rows.append((cid, 5_000_000 + cid, f"Customer {cid}", "en", created, created, False))
        return rows

    def pick_customers(self, k: int) -> list[int]:
        return [
            bisect.bisect_left(self.cum_weights, self.rng.random() * self.cum_weights[-1]) + 1
            for _ in range(k)
        ]

    def day(self, index: int) -> Rows:
        """Every row caused by the feedback of one day (tickets, ideas and their follow-ups)."""
        rng = self.rng
        rows: Rows = {name: [] for name in COLUMNS}
        per_day = self.size // DAYS + (1 if index < self.size % DAYS else 0)
        start = EPOCH_MS + index * DAY_MS
        moments = sorted(start + int(rng.random() * DAY_MS) for _ in range(per_day))
        kinds = rng.choices(KINDS, KIND_WEIGHTS, k=per_day)
        topics = rng.choices(TOPICS, TOPIC_WEIGHTS, k=per_day)
        for at, kind, topic, cid in zip(
            moments, kinds, topics, self.pick_customers(per_day), strict=True
        ):
            sentiment = rng.choices(SENTIMENTS, SENTIMENT_WEIGHTS[kind])[0]
            words = rng.choices(self.vocab, cum_weights=self.vocab_weights, k=rng.randint(0, 5))
            fid = next(self.ids["feedback"])
            rows["feedback"].append(
                (fid, cid, 5_000_000 + cid, fid, rng.choice(TEXTS), kind, 0.9, sentiment, topic,
                 "en", " ".join(dict.fromkeys(words)), at, at)
            )  # fmt: skip
            # One open ticket per customer, as the product keeps it: a customer whose ticket
            # is still open at the end joins it rather than opening another.
            if kind == "care" and rng.random() < 0.4 and cid not in self.still_open:
                self._ticket(rows, at, cid, topic, sentiment)
            elif kind == "idea" and rng.random() < 0.8:
                self._idea(rows, at, cid, topic)
            if rng.random() < 0.01 and at + 5 * MINUTE_MS < END_MS:
                score = rng.choices(range(11), NPS_WEIGHTS)[0]
                rows["rating"].append(
                    (next(self.ids["rating"]), cid, None, "nps", score, at + 5 * MINUTE_MS)
                )
        self._votes(rows)
        return rows

    def _ticket(self, rows: Rows, opened: int, cid: int, topic: str, sentiment: str) -> None:
        rng = self.rng
        tid = next(self.ids["ticket"])
        messages: list[tuple[int, str, int | None]] = [(opened, "customer", None)]
        staff_id, staff_name = rng.choice(STAFF)
        first = opened + lognormal_ms(rng, 25, 1.2) if rng.random() < 0.93 else None
        if first is not None and first >= END_MS:
            first = None
        resolved = reopened = None
        reopens = 0
        if first is not None:
            messages.append((first, "staff", staff_id))
            if rng.random() < 0.88:
                resolved = first + lognormal_ms(rng, 300, 1.3)
            if rng.random() < 0.3:
                messages.append((first + lognormal_ms(rng, 10, 1.0), "note", staff_id))
            last = resolved or first + DAY_MS
            for _ in range(rng.randint(0, 3)):
                messages.append((rng.randint(first, last), "customer", None))
                messages.append((rng.randint(first, last), "staff", staff_id))
        if resolved is not None and resolved >= END_MS:
            resolved = None
        if resolved is not None and rng.random() < 0.06:
            reopens, reopened = 1, resolved + lognormal_ms(rng, 600, 1.0)
            if reopened >= END_MS:
                reopens, reopened = 0, None
            elif rng.random() < 0.7:
                again = reopened + lognormal_ms(rng, 60, 0.5)
                resolved = again if again < END_MS else resolved
        still_open = resolved is None or (reopened is not None and reopened > resolved)
        if still_open:
            self.still_open.add(cid)
        rows["ticket"].append(
            (tid, cid, "open" if still_open else "resolved", topic, sentiment, "normal", "en",
             staff_id if first else None, staff_name if first else None, first, opened, first,
             (first - opened) / 1000 if first else None, resolved,
             (resolved - opened) / 1000 if resolved else None,
             staff_id if resolved else None, reopens, reopened)
        )  # fmt: skip
        for at, author, who in messages:
            if at < END_MS:
                rows["ticketmessage"].append(
                    (next(self.ids["ticketmessage"]), tid, author, who, "reply text", at)
                )
        if resolved is not None and not still_open and rng.random() < 0.6:
            score = rng.choices(range(1, 6), CSAT_WEIGHTS)[0]
            when = resolved + lognormal_ms(rng, 5, 0.5)
            if when < END_MS:
                rows["rating"].append((next(self.ids["rating"]), cid, tid, "csat", score, when))

    def _idea(self, rows: Rows, created: int, cid: int, topic: str) -> None:
        rng = self.rng
        iid = next(self.ids["idea"])
        status, first, changed = "new", None, None
        if rng.random() < 0.45:
            at = created + lognormal_ms(rng, 3 * 24 * 60, 1.0)
            if at < END_MS:
                status = rng.choices(FIRST_STATUS, FIRST_STATUS_WEIGHTS)[0]
                first = changed = at
                self._status(rows, iid, "new", status, at)
                if status == "under_review" and rng.random() < 0.5:
                    later = at + lognormal_ms(rng, 7 * 24 * 60, 0.8)
                    if later < END_MS:
                        new = rng.choice(["planned", "in_progress", "done", "declined"])
                        self._status(rows, iid, status, new, later)
                        status, changed = new, later
        rows["idea"].append((iid, cid, "an idea", topic, "en", status, created, first, changed))
        self.open_ideas.append((iid, created))
        for _ in range(int(rng.expovariate(2.5))):
            at = created + lognormal_ms(rng, 2 * 24 * 60, 1.0)
            if at < END_MS:
                who = self.pick_customers(1)[0]
                rows["ideacomment"].append((next(self.ids["ideacomment"]), iid, who, "+1", at))

    def _status(self, rows: Rows, iid: int, old: str, new: str, at: int) -> None:
        change = (next(self.ids["ideastatuschange"]), iid, old, new, STAFF[0][0], at)
        rows["ideastatuschange"].append(change)

    def _votes(self, rows: Rows) -> None:
        """Votes are cast on recent ideas: about four per idea, most in its first days."""
        rng = self.rng
        for iid, created in self.open_ideas:
            voters = set(self.pick_customers(int(rng.expovariate(1 / 4.0))))
            for who in sorted(voters):
                at = created + int(rng.expovariate(1 / (5 * DAY_MS)))
                if at < END_MS:
                    rows["vote"].append((next(self.ids["vote"]), iid, who, at))
        self.open_ideas = []


class Sink(Protocol):
    """Where generated rows go."""

    async def write(self, table: str, rows: Sequence[tuple[Any, ...]]) -> None: ...

    async def finish(self) -> None: ...


class SqliteSink:
    """executemany in one transaction per batch, with moments stored as the app stores them."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path)
        self.conn.execute("PRAGMA synchronous=OFF")
        self.base = DATA_START.replace(tzinfo=None) - timedelta(milliseconds=EPOCH_MS)

    def _moment(self, ms: int | None) -> str | None:
        if ms is None:
            return None
        return (self.base + timedelta(milliseconds=ms)).isoformat(" ", "microseconds")

    async def write(self, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        columns = COLUMNS[table]
        moments = MOMENTS[table]
        converted = [
            tuple(self._moment(v) if i in moments else v for i, v in enumerate(row)) for row in rows
        ]
        marks = ", ".join("?" * len(columns))
        with self.conn:
            self.conn.executemany(
                f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})', converted
            )

    async def finish(self) -> None:
        self.conn.close()


class PostgresSink:
    """COPY through asyncpg, then move the id sequences past the copied ids and ANALYZE (as
    autovacuum would soon do)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _moment(ms: int | None) -> datetime | None:
        return None if ms is None else DATA_START + timedelta(milliseconds=ms - EPOCH_MS)

    async def write(self, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        moments = MOMENTS[table]
        converted = [
            tuple(self._moment(v) if i in moments else v for i, v in enumerate(row)) for row in rows
        ]
        await self.conn.copy_records_to_table(table, records=converted, columns=COLUMNS[table])

    async def finish(self) -> None:
        for table in COLUMNS:
            await self.conn.execute(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'COALESCE((SELECT max(id) FROM "{table}"), 1))'
            )
        await self.conn.execute("ANALYZE")
        await self.conn.close()


# Parents first: foreign keys are checked row by row while copying.
LOAD_ORDER = [
    "ticket", "idea", "feedback", "ticketmessage", "ideastatuschange", "vote", "ideacomment",
    "rating",
]  # fmt: skip


async def load(size: int, sink: Sink) -> Counter[str]:
    """Fill the database through the sink; return row counts per table."""
    generator = Generator(size)
    counts: Counter[str] = Counter()
    customers = generator.customer_rows()
    await sink.write("customer", customers)
    counts["customer"] = len(customers)
    for day in range(DAYS):
        rows = generator.day(day)
        for table in LOAD_ORDER:
            await sink.write(table, rows[table])
            counts[table] += len(rows[table])
    await sink.finish()
    return counts
