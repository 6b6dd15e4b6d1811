"""Spikes: a topic's care volume today against its own last two weeks."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.metrics.sql import period_index, table
from storage.models import Feedback, Kind


@dataclass(frozen=True, slots=True)
class Spike:
    """A topic whose care volume today is far above its usual."""

    topic: str
    today: int
    mean: float
    stdev: float

    @property
    def threshold(self) -> float:
        """mean + 3 standard deviations of the trailing days."""
        return self.mean + 3 * self.stdev


async def care_spikes(
    *, session: AsyncSession, day_bounds: Sequence[datetime], min_count: int
) -> list[Spike]:
    """Topics whose care volume in the last period is above the mean + 3 σ of the ones before.

    ``day_bounds`` are the edges of the trailing days and of today: with 14 trailing days,
    15 periods and 16 bounds, the last period being today so far. Counts come from one
    GROUP BY over the whole span; the population standard deviation is used.
    """
    if len(day_bounds) < 3:
        raise ValueError("need at least one trailing day and today")
    start, end = day_bounds[0], day_bounds[-1]
    bucket = period_index(table(Feedback).c.created_at, list(day_bounds[1:])).label("day")
    rows = await session.exec(
        select(Feedback.topic, bucket, func.count())
        .where(
            Feedback.kind == Kind.CARE,
            col(Feedback.created_at) >= start,
            col(Feedback.created_at) < end,
        )
        .group_by(col(Feedback.topic), bucket)
    )
    days = len(day_bounds) - 1
    counts: dict[str, list[int]] = {}
    for topic, day, n in rows.all():
        counts.setdefault(topic, [0] * days)[int(day)] = int(n)
    spikes = []
    for topic, per_day in sorted(counts.items()):
        trailing, today = per_day[:-1], per_day[-1]
        mean = sum(trailing) / len(trailing)
        stdev = math.sqrt(sum((n - mean) ** 2 for n in trailing) / len(trailing))
        if today >= min_count and today > mean + 3 * stdev:
            spikes.append(Spike(topic=topic, today=today, mean=mean, stdev=stdev))
    return spikes
