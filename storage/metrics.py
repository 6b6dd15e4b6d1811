"""Metrics computed from stored facts with SQL aggregates: one module for every number."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, case, func, literal_column, or_, union_all
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.metrics_sql import (
    NO_VALUES,
    ONE,
    ZERO,
    count_where,
    dialect_of,
    fetch,
    flag,
    keyword_counts,
    percentiles,
    period_index,
    seconds_between,
    table,
    within,
)
from storage.models import (
    Customer,
    Feedback,
    Idea,
    IdeaComment,
    IdeaStatus,
    IdeaStatusChange,
    Kind,
    MessageAuthor,
    Rating,
    Ticket,
    TicketMessage,
    TicketStatus,
    Vote,
)


@dataclass(frozen=True, slots=True)
class Overview:
    """Volumes in a window: what customers sent and what became of it."""

    start: datetime
    end: datetime
    feedback: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    by_topic: dict[str, int] = field(default_factory=dict)
    by_sentiment: dict[str, int] = field(default_factory=dict)
    active_customers: int = 0
    tickets_opened: int = 0
    tickets_open_now: int = 0
    ideas: int = 0


async def overview(*, session: AsyncSession, start: datetime, end: datetime) -> Overview:
    """Counts of feedback by kind, topic and sentiment, tickets and ideas, in [start, end)."""
    in_window = (col(Feedback.created_at) >= start, col(Feedback.created_at) < end)

    async def grouped(column: object) -> dict[str, int]:
        rows = await session.exec(
            select(column, func.count()).where(*in_window).group_by(column)  # type: ignore[call-overload]
        )
        return {str(key): int(count) for key, count in rows.all()}

    by_kind = await grouped(Feedback.kind)
    active = (
        await session.exec(
            select(func.count(func.distinct(Feedback.customer_id))).where(*in_window)
        )
    ).one()
    opened = (
        await session.exec(
            select(func.count()).where(col(Ticket.opened_at) >= start, col(Ticket.opened_at) < end)
        )
    ).one()
    open_now = (
        await session.exec(
            select(func.count()).where(
                Ticket.status == TicketStatus.OPEN, col(Ticket.opened_at) < end
            )
        )
    ).one()
    ideas = (
        await session.exec(
            select(func.count()).where(col(Idea.created_at) >= start, col(Idea.created_at) < end)
        )
    ).one()
    return Overview(
        start=start,
        end=end,
        feedback=sum(by_kind.values()),
        by_kind=by_kind,
        by_topic=await grouped(Feedback.topic),
        by_sentiment=await grouped(Feedback.sentiment),
        active_customers=int(active),
        tickets_opened=int(opened),
        tickets_open_now=int(open_now),
        ideas=int(ideas),
    )


# --- The manager's summary ------------------------------------------------------------------

ADOPTED_STATUSES = (IdeaStatus.PLANNED.value, IdeaStatus.IN_PROGRESS.value, IdeaStatus.DONE.value)
SATISFIED_CSAT = 4
PROMOTER_NPS = 9
DETRACTOR_NPS = 6
STRENGTH_PERIOD = timedelta(hours=24)
WEEK = timedelta(days=7)


async def compute_summary(
    *, session: AsyncSession, start: datetime, end: datetime, sla_minutes: int, top: int = 5
) -> dict[str, Any]:
    """Every metric of DESIGN.md "Metrics: definitions" for the window [start, end), as JSON data.

    Times are seconds (floats), rates are 0..1, NPS is -100..100; None where there is no data.
    Percentiles are nearest-rank (see storage.metrics_sql). Choices the design leaves open:

    - FRT p50/p90: tickets whose first staff reply falls in the window.
      Resolution p50/p90: tickets resolved in the window (resolved_at, the latest resolution).
    - SLA met rate: tickets whose SLA deadline (opened + SLA) falls in the window, each judged
      once; met when the first reply came within the SLA (<=), missed otherwise.
    - backlog: tickets open at window end (opened before it, not resolved before it unless
      reopened after that resolution and before the end); oldest_open_age: end minus the
      oldest one's opening.
    - reopen rate: of the tickets resolved in the window, the share ever reopened.
    - CSAT: CSAT ratings 4-5 / CSAT ratings in the window; NPS: %9-10 minus %0-6.
    - per staff: replies and internal notes written in the window, tickets replied to,
      first responses in the window (with their p50) and tickets resolved in the window.
    - feedback/care/ideas/other: customer messages in the window, by triaged kind.
    - active customers: customers with a contribution in the window; a contribution is a
      feedback message, a vote, an idea comment or a rating. all customers: known at the end.
    - strength: each topic's share of feedback in the 24 h before the window end.
    - sentiment ratio: positive / negative messages (None without negative ones).
    - passion: active customers with 2+ feedback messages / active customers.
    - reach: customers who sent feedback / feedback messages.
    - participation: tickets opened (care requests), ideas proposed, votes, ratings and idea
      comments in the window; active customers / all customers.
    - votes per idea: votes (until the end) on the ideas proposed in the window / those ideas.
    - adoption rate: ideas moved to planned, in progress or done in the window / ideas whose
      status changed in the window. Time to first status: median over ideas whose first
      status change is in the window (to the millisecond).
    - co-creating customers: active customers who proposed an idea or voted / active customers.
    - ownership quotient: rating customers who were satisfied (CSAT 4-5 or NPS 9-10) and
      contributed (idea, vote or comment) in the window / customers who rated in the window.
    - balance: staff replies / tickets with a customer or staff message in the window, and
      contributions / active customers; weekly = consecutive 7-day periods from the start
      (the last one may be shorter).
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("the window needs timezone-aware datetimes")
    if end <= start:
        raise ValueError("the window must end after it starts")
    dialect = dialect_of(session)
    # Weeks follow the wall clock of the caller's zone; everything else is in real time (UTC),
    # so "24 h before the end" and an SLA deadline are the same instants across DST changes.
    weeks = _weeks(start, end)
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    responsiveness = await _responsiveness(
        session, start=start, end=end, sla=timedelta(minutes=sla_minutes)
    )
    activity = await _activity(session, start=start, end=end, top=top, weeks=weeks)
    cocreation = await _cocreation(
        session, start=start, end=end, dialect=dialect, activity=activity
    )
    involvement = await _involvement(
        session,
        start=start,
        end=end,
        top=top,
        dialect=dialect,
        activity=activity,
        care_requests=responsiveness["tickets_opened"],
        ideas=cocreation["ideas"],
    )
    balance = await _balance(session, start=start, end=end, activity=activity, weeks=weeks)
    return {
        "window": {"start": weeks[0][0].isoformat(), "end": weeks[-1][1].isoformat()},
        "responsiveness": responsiveness,
        "involvement": involvement,
        "cocreation": cocreation,
        "balance": balance,
    }


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


async def _responsiveness(
    session: AsyncSession, *, start: datetime, end: datetime, sla: timedelta
) -> dict[str, Any]:
    t = table(Ticket)
    opened = within(t.c.opened_at, start, end)
    resolved = within(t.c.resolved_at, start, end)
    due = within(t.c.opened_at, start - sla, end - sla)
    open_at_end = and_(
        t.c.opened_at < end,
        or_(
            t.c.resolved_at.is_(None),
            t.c.resolved_at >= end,
            and_(t.c.reopened_at > t.c.resolved_at, t.c.reopened_at < end),
        ),
    )
    (row,) = await fetch(
        session,
        core_select(
            count_where(opened),
            count_where(resolved),
            count_where(and_(resolved, t.c.reopened_count > 0)),
            count_where(due),
            count_where(and_(due, t.c.first_response_seconds <= sla.total_seconds())),
            count_where(open_at_end),
            func.min(case((open_at_end, t.c.opened_at))),
        ).where(t.c.opened_at < end),
    )
    n_opened, n_resolved, n_reopened, n_due, n_met, backlog, oldest = row
    first = (
        await percentiles(
            session, t.c.first_response_seconds, within(t.c.first_response_at, start, end)
        )
    ).get(None, NO_VALUES)
    resolution = (await percentiles(session, t.c.resolution_seconds, resolved)).get(None, NO_VALUES)

    r = table(Rating)
    csat, nps = r.c.scale == "csat", r.c.scale == "nps"
    (ratings,) = await fetch(
        session,
        core_select(
            count_where(csat),
            count_where(and_(csat, r.c.score >= SATISFIED_CSAT)),
            func.coalesce(func.sum(case((csat, r.c.score), else_=ZERO)), ZERO),
            count_where(nps),
            count_where(and_(nps, r.c.score >= PROMOTER_NPS)),
            count_where(and_(nps, r.c.score <= DETRACTOR_NPS)),
        ).where(within(r.c.created_at, start, end)),
    )
    n_csat, n_satisfied, csat_sum, n_nps, promoters, detractors = (int(v) for v in ratings)
    return {
        "tickets_opened": int(n_opened),
        "tickets_resolved": int(n_resolved),
        "first_response_p50": first.get(50),
        "first_response_p90": first.get(90),
        "resolution_p50": resolution.get(50),
        "resolution_p90": resolution.get(90),
        "sla_met_rate": _ratio(int(n_met), int(n_due)),
        "backlog": int(backlog),
        "oldest_open_age": (end - oldest).total_seconds() if oldest is not None else None,
        "reopen_rate": _ratio(int(n_reopened), int(n_resolved)),
        "csat": _ratio(n_satisfied, n_csat),
        "csat_mean": _ratio(csat_sum, n_csat),
        "nps": 100 * (promoters - detractors) / n_nps if n_nps else None,
        "per_staff": await _per_staff(session, start=start, end=end),
    }


async def _per_staff(
    session: AsyncSession, *, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    m, t = table(TicketMessage), table(Ticket)
    staff: dict[int | None, dict[str, Any]] = {}

    def entry(staff_id: int | None) -> dict[str, Any]:
        return staff.setdefault(
            staff_id,
            {
                "staff_id": staff_id,
                "name": None,
                "replies": 0,
                "notes": 0,
                "tickets": 0,
                "first_responses": 0,
                "first_response_p50": None,
                "resolved": 0,
            },
        )

    reply = m.c.author == MessageAuthor.STAFF.value
    for staff_id, replies, notes, tickets in await fetch(
        session,
        core_select(
            m.c.author_user_id,
            count_where(reply),
            count_where(m.c.author == MessageAuthor.NOTE.value),
            func.count(func.distinct(case((reply, m.c.ticket_id)))),
        )
        .where(
            m.c.author.in_((MessageAuthor.STAFF.value, MessageAuthor.NOTE.value)),
            within(m.c.created_at, start, end),
        )
        .group_by(m.c.author_user_id),
    ):
        item = entry(staff_id)
        item.update(replies=int(replies), notes=int(notes), tickets=int(tickets))

    # The reply that set first_response_at was written at that very moment.
    first_reply = and_(m.c.ticket_id == t.c.id, reply, m.c.created_at == t.c.first_response_at)
    answered = within(t.c.first_response_at, start, end)
    firsts = await percentiles(
        session,
        t.c.first_response_seconds,
        answered,
        ps=(50,),
        group=m.c.author_user_id,
        select_from=t.join(m, first_reply),
    )
    for staff_id, ranked in firsts.items():
        item = entry(staff_id)
        item["first_responses"] = ranked.n
        item["first_response_p50"] = ranked.get(50)

    for staff_id, n in await fetch(
        session,
        core_select(t.c.resolved_by, func.count())
        .where(within(t.c.resolved_at, start, end), t.c.resolved_by.is_not(None))
        .group_by(t.c.resolved_by),
    ):
        entry(staff_id)["resolved"] = int(n)

    known = [s for s in staff if s is not None]
    if known:
        for staff_id, name in await fetch(
            session,
            core_select(t.c.assignee_id, func.max(t.c.assignee_name))
            .where(t.c.assignee_id.in_(known))
            .group_by(t.c.assignee_id),
        ):
            staff[staff_id]["name"] = name
    return sorted(
        staff.values(),
        key=lambda s: (-s["replies"], -s["first_responses"], -s["resolved"], s["staff_id"] or 0),
    )


@dataclass(frozen=True, slots=True)
class _Activity:
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


_MARKS = ("f", "v", "c", "r", "i")  # feedback, vote, comment, rating, idea proposed


async def _activity(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    top: int,
    weeks: list[tuple[datetime, datetime]],
) -> _Activity:
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
            *((ONE if name == which else ZERO).label(name) for name in _MARKS),
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
            *(func.sum(rows.c[name]).label(name) for name in _MARKS),
            func.max(rows.c.s).label("s"),
        )
        .group_by(rows.c.customer_id, rows.c.w)
        .cte("customer_week")
    )
    per = (
        core_select(
            weekly_rows.c.customer_id,
            *(func.sum(weekly_rows.c[name]).label(name) for name in _MARKS),
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
        return _Activity(weekly=weekly)
    active_n, senders, passionate, cocreating, rated, owners, fb, votes, comments, ratings = (
        int(x) for x in ranked[0][3:]
    )
    return _Activity(
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


async def _involvement(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    top: int,
    dialect: str,
    activity: _Activity,
    care_requests: int,
    ideas: int,
) -> dict[str, Any]:
    f = table(Feedback)
    in_window = within(f.c.created_at, start, end)
    by_topic: dict[str, dict[str, dict[str, int]]] = {}
    kinds: dict[str, int] = {}
    sentiments: dict[str, int] = {}
    for topic, kind, sentiment, n in await fetch(
        session,
        core_select(f.c.topic, f.c.kind, f.c.sentiment, func.count())
        .where(in_window)
        .group_by(f.c.topic, f.c.kind, f.c.sentiment),
    ):
        n = int(n)
        slot = by_topic.setdefault(topic, {"kinds": {}, "sentiments": {}})
        slot["kinds"][kind] = slot["kinds"].get(kind, 0) + n
        slot["sentiments"][sentiment] = slot["sentiments"].get(sentiment, 0) + n
        kinds[kind] = kinds.get(kind, 0) + n
        sentiments[sentiment] = sentiments.get(sentiment, 0) + n
    feedback = sum(kinds.values())

    recent = {
        str(topic): int(n)
        for topic, n in await fetch(
            session,
            core_select(f.c.topic, func.count())
            .where(within(f.c.created_at, end - STRENGTH_PERIOD, end))
            .group_by(f.c.topic),
        )
    }
    recent_total = sum(recent.values())
    keywords = await fetch(
        session, keyword_counts(f.c.keywords, in_window, dialect=dialect, limit=max(top, 1))
    )
    customers = table(Customer)
    (all_customers,) = (
        await fetch(session, core_select(func.count()).where(customers.c.created_at < end))
    )[0]
    names = (
        {
            customer.id: customer.display_name
            for customer in (
                await session.exec(
                    select(Customer).where(col(Customer.id).in_([cid for cid, _ in activity.top]))
                )
            ).all()
        }
        if activity.top
        else {}
    )
    return {
        "feedback": feedback,
        "care": kinds.get(Kind.CARE.value, 0),
        "ideas": kinds.get(Kind.IDEA.value, 0),
        "other": kinds.get(Kind.OTHER.value, 0),
        "active_customers": activity.active,
        "strength_by_topic": {topic: n / recent_total for topic, n in sorted(recent.items())},
        "sentiment_ratio": _ratio(sentiments.get("positive", 0), sentiments.get("negative", 0)),
        "neutral": sentiments.get("neutral", 0),
        "passion": _ratio(activity.passionate, activity.active),
        "reach": _ratio(activity.senders, feedback),
        "participation": {
            "care_requests": care_requests,
            "ideas": ideas,
            "votes": activity.votes,
            "ratings": activity.ratings,
            "comments": activity.comments,
            "active_customers": activity.active,
            "all_customers": int(all_customers),
            "active_share": _ratio(activity.active, int(all_customers)),
        },
        "by_topic": {topic: by_topic[topic] for topic in sorted(by_topic)},
        "top_keywords": [{"keyword": str(word), "count": int(n)} for word, n in keywords[:top]],
        "top_contributors": [
            {"customer_id": cid, "name": names.get(cid), "contributions": n}
            for cid, n in activity.top
        ],
    }


async def _cocreation(
    session: AsyncSession, *, start: datetime, end: datetime, dialect: str, activity: _Activity
) -> dict[str, Any]:
    i, v, sc = table(Idea), table(Vote), table(IdeaStatusChange)
    proposed = within(i.c.created_at, start, end)
    (ideas,) = (await fetch(session, core_select(func.count()).where(proposed)))[0]
    (cohort_votes,) = (
        await fetch(
            session,
            core_select(func.count())
            .select_from(v.join(i, v.c.idea_id == i.c.id))
            .where(proposed, v.c.created_at < end),
        )
    )[0]
    decided, adopted = (
        await fetch(
            session,
            core_select(
                func.count(func.distinct(sc.c.idea_id)),
                func.count(
                    func.distinct(case((sc.c.new_status.in_(ADOPTED_STATUSES), sc.c.idea_id)))
                ),
            ).where(within(sc.c.changed_at, start, end)),
        )
    )[0]
    waits = await percentiles(
        session,
        seconds_between(i.c.first_status_at, i.c.created_at, dialect),
        within(i.c.first_status_at, start, end),
        ps=(50,),
    )
    median_wait = waits.get(None, NO_VALUES).get(50)
    return {
        "ideas": int(ideas),
        "votes": activity.votes,
        "votes_per_idea": _ratio(int(cohort_votes), int(ideas)),
        "adoption_rate": _ratio(int(adopted), int(decided)),
        "median_time_to_first_status": round(median_wait, 3) if median_wait is not None else None,
        "cocreating_customers": _ratio(activity.cocreating, activity.active),
        "ownership_quotient": _ratio(activity.owners, activity.rated),
    }


def _weeks(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    weeks = []
    at = start
    while at < end:
        weeks.append((at, min(at + WEEK, end)))
        at += WEEK
    return weeks


async def _balance(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    activity: _Activity,
    weeks: list[tuple[datetime, datetime]],
) -> dict[str, Any]:
    m = table(TicketMessage)
    reply = m.c.author == MessageAuthor.STAFF.value
    conversation = m.c.author.in_((MessageAuthor.CUSTOMER.value, MessageAuthor.STAFF.value))
    in_window = within(m.c.created_at, start, end)
    replies, tickets = (
        await fetch(
            session,
            core_select(count_where(reply), func.count(func.distinct(m.c.ticket_id))).where(
                in_window, conversation
            ),
        )
    )[0]

    inner_bounds = [week_end for _, week_end in weeks[:-1]]
    messages = (
        core_select(
            period_index(m.c.created_at, inner_bounds).label("w"),
            m.c.ticket_id,
            flag(reply).label("reply"),
        )
        .where(in_window, conversation)
        .subquery("weekly_messages")
    )
    weekly_staff = {
        int(w): (int(n_replies), int(n_tickets))
        for w, n_replies, n_tickets in await fetch(
            session,
            core_select(
                messages.c.w,
                func.sum(messages.c.reply),
                func.count(func.distinct(messages.c.ticket_id)),
            ).group_by(messages.c.w),
        )
    }
    weekly = []
    for index, (week_start, week_end) in enumerate(weeks):
        n_replies, n_tickets = weekly_staff.get(index, (0, 0))
        people, n = activity.weekly.get(index, (0, 0))
        weekly.append(
            {
                "start": week_start.isoformat(),
                "end": week_end.isoformat(),
                "staff_messages_per_ticket": _ratio(n_replies, n_tickets),
                "contributions_per_active_customer": _ratio(n, people),
            }
        )
    return {
        "staff_messages_per_ticket": _ratio(int(replies), int(tickets)),
        "contributions_per_active_customer": _ratio(activity.contributions, activity.active),
        "weekly": weekly,
    }
