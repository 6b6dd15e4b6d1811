"""Daily and weekly time series for the charts, from SQL aggregates.

Days are calendar days in the configured time zone. SQLite cannot convert time zones and
PostgreSQL's date_trunc would need the zone's name, so the local midnights are worked out here
(daylight saving included) and each row is placed in its day by comparing moments against them
(`period_index`): the same SQL, and the same answer, on both databases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select, union_all
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.metrics.sql import fetch, flag, percentiles, period_index, table, within
from storage.models import (
    Feedback,
    IdeaComment,
    Kind,
    MessageAuthor,
    Rating,
    Ticket,
    TicketMessage,
    Vote,
)

KINDS = (Kind.CARE.value, Kind.IDEA.value, Kind.OTHER.value)
SENTIMENTS = ("positive", "neutral", "negative")
STRENGTH_PERIOD = timedelta(hours=24)
DAYS_PER_WEEK = 7


@dataclass(frozen=True, slots=True)
class Period:
    """A bucket of the window: [start, end) in UTC, labelled by its first local day."""

    label: date
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class WeekBalance:
    """Interaction beside participation for one week."""

    period: Period
    staff_messages_per_ticket: float | None
    contributions_per_active_customer: float | None


@dataclass(frozen=True, slots=True)
class ReportSeries:
    """Everything the charts draw, for one window."""

    start: datetime
    end: datetime
    zone: ZoneInfo
    days: list[Period]
    volume: dict[str, list[int]] = field(default_factory=dict)
    first_response_p50: list[float | None] = field(default_factory=list)
    first_response_p90: list[float | None] = field(default_factory=list)
    sentiment: dict[str, list[int]] = field(default_factory=dict)
    topics_window: dict[str, int] = field(default_factory=dict)
    topics_recent: dict[str, int] = field(default_factory=dict)
    weeks: list[WeekBalance] = field(default_factory=list)

    @property
    def sentiment_ratio(self) -> list[float | None]:
        """Positive / negative feedback per day; None on days without negative feedback."""
        positive = self.sentiment.get("positive", [])
        negative = self.sentiment.get("negative", [])
        return [p / n if n else None for p, n in zip(positive, negative, strict=True)]


def local_days(start: datetime, end: datetime, zone: ZoneInfo) -> list[Period]:
    """The local calendar days touching [start, end), each clipped to the window."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("the window needs aware datetimes")
    if end <= start:
        raise ValueError("the window must end after it starts")
    days = []
    day = start.astimezone(zone).date()
    at = start.astimezone(UTC)
    while at < end:
        next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
        until = min(next_midnight, end).astimezone(UTC)
        days.append(Period(label=day, start=at, end=until))
        at, day = until, day + timedelta(days=1)
    return days


def weeks_of(days: Sequence[Period]) -> list[Period]:
    """Consecutive runs of seven local days from the first (the last run may be shorter)."""
    return [
        Period(label=run[0].label, start=run[0].start, end=run[-1].end)
        for run in (days[i : i + DAYS_PER_WEEK] for i in range(0, len(days), DAYS_PER_WEEK))
    ]


def _bucket(column: ColumnElement[Any], periods: Sequence[Period]) -> ColumnElement[int]:
    # Every end, the last one too: with one period the index is still a CASE, never a bare
    # constant, which SQLite would read in GROUP BY as a column position.
    return period_index(column, [p.end for p in periods])


async def daily_counts(
    *, session: AsyncSession, days: Sequence[Period], by: str, known: Sequence[str]
) -> dict[str, list[int]]:
    """Feedback messages per day, by one column of the triage (``kind`` or ``sentiment``): the
    ``known`` values always, with zeros, and any other value seen."""
    f = table(Feedback)
    day = _bucket(f.c.created_at, days)
    column = f.c[by]
    out = {value: [0] * len(days) for value in known}
    for index, value, n in await fetch(
        session,
        select(day, column, func.count())
        .where(within(f.c.created_at, days[0].start, days[-1].end))
        .group_by(day, column),
    ):
        out.setdefault(str(value), [0] * len(days))[int(index)] = int(n)
    return out


async def daily_first_response(
    *, session: AsyncSession, days: Sequence[Period]
) -> tuple[list[float | None], list[float | None]]:
    """Nearest-rank p50 and p90 of first response seconds, by the day of the first reply."""
    t = table(Ticket)
    by_day = await percentiles(
        session,
        t.c.first_response_seconds,
        within(t.c.first_response_at, days[0].start, days[-1].end),
        ps=(50, 90),
        group=_bucket(t.c.first_response_at, days),
    )
    p50: list[float | None] = [None] * len(days)
    p90: list[float | None] = [None] * len(days)
    for index, values in by_day.items():
        p50[int(index)], p90[int(index)] = values.get(50), values.get(90)
    return p50, p90


async def topic_counts(*, session: AsyncSession, start: datetime, end: datetime) -> dict[str, int]:
    """Feedback messages per topic in [start, end)."""
    f = table(Feedback)
    rows = await fetch(
        session,
        select(f.c.topic, func.count())
        .where(within(f.c.created_at, start, end))
        .group_by(f.c.topic),
    )
    return {str(topic): int(n) for topic, n in rows}


async def weekly_balance(*, session: AsyncSession, weeks: Sequence[Period]) -> list[WeekBalance]:
    """Per week: staff replies / tickets with a conversation message, and customer
    contributions (feedback, votes, idea comments, ratings) / customers who contributed."""
    start, end = weeks[0].start, weeks[-1].end
    m = table(TicketMessage)
    reply = m.c.author == MessageAuthor.STAFF
    conversation = m.c.author.in_((MessageAuthor.CUSTOMER, MessageAuthor.STAFF))
    messages = (
        select(
            _bucket(m.c.created_at, weeks).label("w"),
            m.c.ticket_id.label("ticket_id"),
            flag(reply).label("reply"),
        )
        .where(within(m.c.created_at, start, end), conversation)
        .subquery("weekly_messages")
    )
    staff = {
        int(w): (int(replies), int(tickets))
        for w, replies, tickets in await fetch(
            session,
            select(
                messages.c.w,
                func.sum(messages.c.reply),
                func.count(func.distinct(messages.c.ticket_id)),
            ).group_by(messages.c.w),
        )
    }
    parts = [
        select(
            _bucket(source.c.created_at, weeks).label("w"),
            source.c.customer_id.label("customer_id"),
        ).where(within(source.c.created_at, start, end))
        for source in (table(Feedback), table(Vote), table(IdeaComment), table(Rating))
    ]
    contributions = union_all(*parts).subquery("weekly_contributions")
    per_customer = (
        select(contributions.c.w, contributions.c.customer_id, func.count().label("n"))
        .group_by(contributions.c.w, contributions.c.customer_id)
        .subquery("weekly_customers")
    )
    people = {
        int(w): (int(active), int(n))
        for w, active, n in await fetch(
            session,
            select(per_customer.c.w, func.count(), func.sum(per_customer.c.n)).group_by(
                per_customer.c.w
            ),
        )
    }
    out = []
    for index, week in enumerate(weeks):
        replies, tickets = staff.get(index, (0, 0))
        active, n = people.get(index, (0, 0))
        out.append(
            WeekBalance(
                period=week,
                staff_messages_per_ticket=replies / tickets if tickets else None,
                contributions_per_active_customer=n / active if active else None,
            )
        )
    return out


async def load_series(
    *, session: AsyncSession, start: datetime, end: datetime, zone: ZoneInfo
) -> ReportSeries:
    """Every series of the report for the window [start, end), days in `zone`."""
    days = local_days(start, end, zone)
    p50, p90 = await daily_first_response(session=session, days=days)
    return ReportSeries(
        start=start,
        end=end,
        zone=zone,
        days=days,
        volume=await daily_counts(session=session, days=days, by="kind", known=KINDS),
        first_response_p50=p50,
        first_response_p90=p90,
        sentiment=await daily_counts(session=session, days=days, by="sentiment", known=SENTIMENTS),
        topics_window=await topic_counts(session=session, start=start, end=end),
        # The design's strength looks at the last 24 h before the end, as the summary does.
        topics_recent=await topic_counts(session=session, start=end - STRENGTH_PERIOD, end=end),
        weeks=await weekly_balance(session=session, weeks=weeks_of(days)),
    )
