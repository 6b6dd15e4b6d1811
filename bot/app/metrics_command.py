"""The ``metrics`` subcommand of ``feedbackbot``: the manager's summary for a window, as text or
JSON."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.reports.summary import format_summary
from bot.reports.windows import parse_month, parse_window, window_bounds


def add_commands(subparsers: Any) -> None:
    """Register ``metrics`` on an argparse subparsers object."""
    metrics = subparsers.add_parser(
        "metrics",
        help="print the metric summary for a window (responsiveness, involvement, co-creation)",
        description="Compute every metric over a window ending now (--window, default 7d) or "
        "over a calendar month (--month), in the TIMEZONE setting, from DATABASE_URL. "
        "The SLA is SLA_MINUTES.",
    )
    period = metrics.add_mutually_exclusive_group()
    period.add_argument(
        "--window",
        type=parse_window,
        default=None,
        metavar="SPAN",
        help="how far back from now: Nd or Nh, such as 1d, 7d, 30d or 12h (default: 7d)",
    )
    period.add_argument(
        "--month", type=parse_month, default=None, metavar="YYYY-MM", help="a calendar month"
    )
    metrics.add_argument("--json", action="store_true", help="print one JSON object")
    metrics.add_argument(
        "--top",
        type=_top,
        default=5,
        metavar="N",
        help="how many top keywords and contributors (1-50, default: %(default)s)",
    )
    metrics.set_defaults(func=cmd_metrics)


def _top(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 50:
        raise argparse.ArgumentTypeError(f"invalid count {value!r}: use a number from 1 to 50")
    return int(value)


def cmd_metrics(args: argparse.Namespace) -> int:
    """Compute the summary and print it."""
    import asyncio

    from bot.core.settings import load_settings

    settings = load_settings()
    start, end = window_bounds(
        now=datetime.now(UTC), zone=settings.zone, span=args.window, month=args.month
    )
    summary = asyncio.run(
        _summary(settings.database_url, start, end, settings.sla_minutes, args.top)
    )
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(
            format_summary(
                summary, sla_minutes=settings.sla_minutes, language=settings.default_language
            )
        )
    return 0


async def _summary(
    url: str, start: datetime, end: datetime, sla_minutes: int, top: int
) -> dict[str, Any]:
    from storage.db import Database, DatabaseUnavailable
    from storage.metrics import compute_summary
    from storage.migrate import current_revision, head_revision
    from storage.urls import redact

    # Connecting to SQLite creates the file: a mistyped path would leave an empty database.
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None and not sqlite_file.exists():
        raise DatabaseUnavailable(_not_migrated(redact(url), "there is no such file"))
    db = Database(url)
    try:
        await db.check()
        revision, head = await current_revision(db), head_revision()
        if revision != head:
            found = "it has no schema" if revision is None else f"it is at {revision}, not {head}"
            raise DatabaseUnavailable(_not_migrated(redact(url), found))
        async with db.read() as session:
            return await compute_summary(
                session=session, start=start, end=end, sla_minutes=sla_minutes, top=top
            )
    finally:
        await db.dispose()


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL; None for PostgreSQL and for in-memory SQLite."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _not_migrated(where: str, found: str) -> str:
    return f"the database {where} is not migrated ({found}): run `feedbackbot migrate` first"
