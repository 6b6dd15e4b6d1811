"""The window a manager asks about: "7d", "12h" or a calendar month, as [start, end) in a zone."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime, timedelta, tzinfo

MAX_WINDOW = timedelta(days=366)
_WINDOW = re.compile(r"(\d{1,5})([dh])")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def parse_window(value: str) -> timedelta:
    """ "7d" -> 7 days, "12h" -> 12 hours; anything else is an argparse error naming it."""
    match = _WINDOW.fullmatch(value.strip().lower())
    if match is None or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(
            f"invalid window {value!r}: use a number of days or hours such as 1d, 7d, 30d or 12h"
        )
    amount, unit = int(match.group(1)), match.group(2)
    span = timedelta(days=amount) if unit == "d" else timedelta(hours=amount)
    if span > MAX_WINDOW:
        raise argparse.ArgumentTypeError(f"invalid window {value!r}: at most 366 days")
    return span


def parse_month(value: str) -> tuple[int, int]:
    """ "2026-11" -> (2026, 11)."""
    match = _MONTH.fullmatch(value.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1970:
        raise argparse.ArgumentTypeError(f"invalid month {value!r}: use YYYY-MM such as 2026-11")
    return int(match.group(1)), int(match.group(2))


def window_bounds(
    *, now: datetime, zone: tzinfo, span: timedelta | None, month: tuple[int, int] | None
) -> tuple[datetime, datetime]:
    """[start, end) in the zone: the span ending now, or the whole calendar month."""
    if month is not None:
        year, number = month
        start = datetime(year, number, 1, tzinfo=zone)
        end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
        return start, end
    span = span or timedelta(days=7)
    end = now.astimezone(zone)
    if span % timedelta(days=1):
        # Hours are real hours: "12h" is twelve hours even across a DST change.
        return (end.astimezone(UTC) - span).astimezone(zone), end
    # Days are calendar days in the zone: "7d" starts at this time of day a week ago.
    return end - span, end
