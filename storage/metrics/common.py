"""What the parts of the summary share: thresholds, who did what in the window, weeks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, func, literal_column, or_, union_all
from sqlalchemy import select as core_select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.metrics.sql import ONE, ZERO, count_where, fetch, flag, period_index, table, within
from storage.models import Feedback, Idea, IdeaComment, IdeaStatus, Rating, Vote

ADOPTED_STATUSES = (IdeaStatus.PLANNED.value, IdeaStatus.IN_PROGRESS.value, IdeaStatus.DONE.value)
SATISFIED_CSAT = 4
PROMOTER_NPS = 9
DETRACTOR_NPS = 6
STRENGTH_PERIOD = timedelta(hours=24)
WEEK = timedelta(days=7)


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


@dataclass(frozen=True, slots=True)
class Activity:
    """Contributions in a window, totalled over customers; the top contributors; and per week
    (index -> (active customers, contributions))."""

    active: int = 0
    senders: int = 0
    passionate: int = 0
    cocreating: int = 0
    rated: int = 0
    owners: int = 0
    feedback: int = 0
    votes: int = 0
    comments: int = 0
    ratings: int = 0
    top: list[tuple[int, int]] = field(default_factory=list)
    weekly: dict[int, tuple[int, int]] = field(default_factory=dict)

    @property
    def contributions(self) -> int:
        return self.feedback + self.votes + self.comments + self.ratings


MARKS = ("f", "v", "c", "r", "i")  # feedback, vote, comment, rating, idea proposed


async def activity_in(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    top: int,
    weeks: list[tuple[datetime, datetime]],
) -> Activity:
    f, v, c, r, i = table(Feedback), table(Vote), table(IdeaComment), table(Rating), table(Idea)
    satisfied = or_(
        and_(r.c.scale == "csat", r.c.score >= SATISFIED_CSAT),
        and_(r.c.scale == "nps", r.c.score >= PROMOTER_NPS),
    )
    inner_bounds = [week_end for _, week_end in weeks[:-1]]

    def part(source: Any, which: str, s: ColumnElement[int] = ZERO) -> Any:
        return core_select(
            source.c.customer_id.label("customer_id"),
            period_index(source.c.created_at, inner_bounds).label("w"),
            *((ONE if name == which else ZERO).label(name) for name in MARKS),
            s.label("s"),
        ).where(within(source.c.created_at, start, end))

    rows = union_all(
        part(f, "f"), part(v, "v"), part(c, "c"), part(r, "r", flag(satisfied)), part(i, "i")
    ).subquery("contribution")
    # One pass over the window's rows: per customer and week, then per customer and per week.
    # Used twice, the CTE is materialised once by both databases.
    weekly_rows = (
        core_select(
            rows.c.customer_id,
            rows.c.w,
            *(func.sum(rows.c[name]).label(name) for name in MARKS),
            func.max(rows.c.s).label("s"),
        )
        .group_by(rows.c.customer_id, rows.c.w)
        .cte("customer_week")
    )
    per = (
        core_select(
            weekly_rows.c.customer_id,
            *(func.sum(weekly_rows.c[name]).label(name) for name in MARKS),
            func.max(weekly_rows.c.s).label("s"),
        )
        .group_by(weekly_rows.c.customer_id)
        .subquery("per_customer")
    )
    contributions = per.c.f + per.c.v + per.c.c + per.c.r
    active = contributions > 0

    def total(condition: ColumnElement[bool]) -> Any:
        return func.sum(flag(condition)).over()

    totals = [
        total(active),
        total(per.c.f > 0),
        total(per.c.f >= 2),
        total(and_(active, or_(per.c.i > 0, per.c.v > 0))),
        total(per.c.r > 0),
        total(and_(per.c.r > 0, per.c.s > 0, per.c.i + per.c.v + per.c.c > 0)),
        *(func.sum(per.c[name]).over() for name in ("f", "v", "c", "r")),
    ]
    leaders = (
        core_select(
            literal_column("-1", Integer).label("w"),
            per.c.customer_id.label("key"),
            contributions.label("n"),
            *(t.label(f"t{k}") for k, t in enumerate(totals)),
        )
        .order_by(contributions.desc(), per.c.customer_id)
        .limit(max(top, 1))
        .subquery("leaders")
    )
    week_contributions = weekly_rows.c.f + weekly_rows.c.v + weekly_rows.c.c + weekly_rows.c.r
    per_week = core_select(
        weekly_rows.c.w,
        count_where(week_contributions > 0),
        func.sum(week_contributions),
        *(literal_column("NULL") for _ in totals),
    ).group_by(weekly_rows.c.w)
    # Leaders come with w = -1; week rows carry (week, active customers, contributions).
    result = await fetch(session, union_all(core_select(*leaders.c), per_week))
    ranked = sorted((row for row in result if int(row[0]) < 0), key=lambda row: (-row[2], row[1]))
    weekly = {int(row[0]): (int(row[1]), int(row[2])) for row in result if int(row[0]) >= 0}
    if not ranked:
        return Activity(weekly=weekly)
    active_n, senders, passionate, cocreating, rated, owners, fb, votes, comments, ratings = (
        int(x) for x in ranked[0][3:]
    )
    return Activity(
        active=active_n,
        senders=senders,
        passionate=passionate,
        cocreating=cocreating,
        rated=rated,
        owners=owners,
        feedback=fb,
        votes=votes,
        comments=comments,
        ratings=ratings,
        top=[(int(row[1]), int(row[2])) for row in ranked[:top] if int(row[2]) > 0],
        weekly=weekly,
    )


def weeks_of(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    weeks = []
    at = start
    while at < end:
        weeks.append((at, min(at + WEEK, end)))
        at += WEEK
    return weeks
