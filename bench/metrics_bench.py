"""How long the metrics take on big databases: 10k, 100k and 1M feedback items over 90 days.

For each size the script builds a fresh, migrated database, fills it with bulk inserts
(executemany on SQLite, COPY on PostgreSQL) in realistic proportions, then times
compute_summary over the last 30 days and the hourly snapshot job over the last hour.

    python bench/metrics_bench.py                                 # SQLite, 10k 100k 1M
    python bench/metrics_bench.py --sizes 10000 100000 --postgres postgresql://u:p@host/db
    python bench/metrics_bench.py --sizes 100000 --no-sqlite --postgres URL --profile

With --postgres the script creates a scratch database next to the one named in the URL (the
role needs CREATEDB) and drops it afterwards. Targets: summary <= 3 s at 1M, hourly <= 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # type: ignore[import-untyped]
from metrics_data import DATA_END, SUMMARY_WINDOW, PostgresSink, SqliteSink, load
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.support import drop_database
from bot.core.clock import FrozenClock
from bot.jobs.upkeep import hourly_snapshot
from storage.db import Database
from storage.metrics import compute_summary
from storage.migrate import upgrade_to_head
from storage.urls import normalise_database_url, redact


@dataclass
class Timing:
    """The figures for one database and size."""

    backend: str
    size: int
    rows: int
    load_seconds: float
    summary_cold: float
    summary: float
    summary_cpu: float
    hourly_ms: float


class StatementTimer:
    """Total time per SQL statement text, for --profile."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self._started: list[float] = []

    def attach(self, db: Database) -> None:
        engine = db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *args: Any) -> None:
        self._started.append(time.perf_counter())

    def _after(self, _conn: Any, _cursor: Any, statement: str, *args: Any) -> None:
        self.totals[" ".join(statement.split())] += time.perf_counter() - self._started.pop()

    def report(self, limit: int = 8) -> None:
        slowest = sorted(self.totals.items(), key=lambda item: -item[1])[:limit]
        for statement, seconds in slowest:
            print(f"      {seconds:7.3f} s  {statement[:150]}")


async def timed(run: Callable[[], Any], repeat: int) -> tuple[float, float, float]:
    """(first run, median of the next `repeat` runs, median CPU time of this process over
    them) in seconds. On a busy machine wall time wobbles; SQLite's work is CPU time here."""
    began = time.perf_counter()
    await run()
    cold = time.perf_counter() - began
    warm, cpu = [], []
    for _ in range(repeat):
        began, began_cpu = time.perf_counter(), time.process_time()
        await run()
        warm.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    return cold, statistics.median(warm), statistics.median(cpu)


async def measure(
    backend: str, url: str, size: int, sink_factory: Callable[[], Any], args: argparse.Namespace
) -> Timing:
    db = Database(url)
    try:
        await upgrade_to_head(db)
        began = time.perf_counter()
        counts = await load(size, await sink_factory())
        load_seconds = time.perf_counter() - began
        print(f"    {backend} {size:,}: " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
        if args.index:
            async with db.engine.begin() as conn:
                for statement in args.index:
                    await conn.execute(text(statement))
                if backend == "postgresql":
                    await conn.execute(text("ANALYZE"))
        profile = StatementTimer() if args.profile else None
        if profile is not None:
            profile.attach(db)

        async def summary() -> None:
            async with db.session() as session:
                await compute_summary(
                    session=session, start=DATA_END - SUMMARY_WINDOW, end=DATA_END, sla_minutes=60
                )

        cold, warm, cpu = await timed(summary, args.repeat)
        if profile is not None:
            print(f"    {backend} {size:,}: slowest statements over all summary runs")
            profile.report()
        services = cast(Any, SimpleNamespace(db=db, clock=FrozenClock(DATA_END)))

        async def hourly() -> None:
            await hourly_snapshot(services, period_end=DATA_END)

        _, hourly_warm, _ = await timed(hourly, max(args.repeat, 5))
        return Timing(
            backend, size, sum(counts.values()), load_seconds, cold, warm, cpu, hourly_warm * 1000
        )
    finally:
        await db.dispose()


async def run_sqlite(size: int, folder: Path, args: argparse.Namespace) -> Timing:
    path = folder / f"bench-{size}.sqlite3"
    path.unlink(missing_ok=True)
    url = normalise_database_url(f"sqlite:///{path}")

    async def sink() -> SqliteSink:
        return SqliteSink(path)

    return await measure("sqlite", url, size, sink, args)


async def run_postgres(size: int, server_url: str, args: argparse.Namespace) -> Timing:
    base = make_url(normalise_database_url(server_url))
    name = f"fbbench_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name)
    try:

        async def sink() -> PostgresSink:
            dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
            return PostgresSink(await asyncpg.connect(dsn))

        return await measure(
            "postgresql", url.render_as_string(hide_password=False), size, sink, args
        )
    finally:
        await drop_database(admin, name, attempts=10, pause=1.0)
        await admin.dispose()


def print_table(timings: list[Timing]) -> None:
    print()
    print(
        f"{'backend':<11}{'feedback':>10}{'all rows':>11}{'load s':>9}"
        f"{'summary s':>11}{'(cold)':>9}{'(cpu)':>8}{'growth':>8}{'hourly ms':>11}{'growth':>8}"
    )
    previous: dict[str, Timing] = {}
    for t in timings:
        before = previous.get(t.backend)
        grow = f"{t.summary / before.summary:.1f}x" if before else ""
        grow_hourly = f"{t.hourly_ms / before.hourly_ms:.1f}x" if before else ""
        print(
            f"{t.backend:<11}{t.size:>10,}{t.rows:>11,}{t.load_seconds:>9.1f}"
            f"{t.summary:>11.3f}{t.summary_cold:>9.3f}{t.summary_cpu:>8.3f}{grow:>8}"
            f"{t.hourly_ms:>11.1f}"
            f"{grow_hourly:>8}"
        )
        previous[t.backend] = t
    print(f"(summary: {SUMMARY_WINDOW.days}-day window, median of warm runs; cpu: this "
          "process only, so all of SQLite's work but only the client side of PostgreSQL's; "
          "targets: summary <= 3 s at 1M, hourly <= 100 ms)")  # fmt: skip


async def main_async(args: argparse.Namespace) -> int:
    timings: list[Timing] = []
    with tempfile.TemporaryDirectory(prefix="metrics-bench-") as scratch:
        folder = Path(args.sqlite_dir or scratch)
        for size in args.sizes:
            if not args.no_sqlite:
                timing = await run_sqlite(size, folder, args)
                print(f"  sqlite {size:,}: summary {timing.summary:.3f} s", flush=True)
                timings.append(timing)
            if args.postgres:
                timing = await run_postgres(size, args.postgres, args)
                print(f"  postgresql {size:,}: summary {timing.summary:.3f} s", flush=True)
                timings.append(timing)
    timings.sort(key=lambda t: (t.backend != "sqlite", t.size))
    print_table(timings)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000], metavar="N"
    )
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL server")
    parser.add_argument("--no-sqlite", action="store_true", help="skip SQLite")
    parser.add_argument(
        "--sqlite-dir", type=Path, help="keep the SQLite files in this folder (default: deleted)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs after a warm-up")
    parser.add_argument("--profile", action="store_true", help="print the slowest statements")
    parser.add_argument(
        "--index",
        action="append",
        metavar="SQL",
        help="a CREATE INDEX statement to apply after loading (to try an index)",
    )
    args = parser.parse_args()
    if args.postgres:
        print(f"PostgreSQL server: {redact(normalise_database_url(args.postgres))}")
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    raise SystemExit(main())
