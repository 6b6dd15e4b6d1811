"""Involvement: volumes by kind, strength, sentiment, passion, reach, participation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.metrics.common import STRENGTH_PERIOD, Activity, ratio
from storage.metrics.sql import fetch, keyword_counts, table, within
from storage.models import Customer, Feedback, Kind


async def involvement_in(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    top: int,
    dialect: str,
    activity: Activity,
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
        "sentiment_ratio": ratio(sentiments.get("positive", 0), sentiments.get("negative", 0)),
        "neutral": sentiments.get("neutral", 0),
        "passion": ratio(activity.passionate, activity.active),
        "reach": ratio(activity.senders, feedback),
        "participation": {
            "care_requests": care_requests,
            "ideas": ideas,
            "votes": activity.votes,
            "ratings": activity.ratings,
            "comments": activity.comments,
            "active_customers": activity.active,
            "all_customers": int(all_customers),
            "active_share": ratio(activity.active, int(all_customers)),
        },
        "by_topic": {topic: by_topic[topic] for topic in sorted(by_topic)},
        "top_keywords": [{"keyword": str(word), "count": int(n)} for word, n in keywords[:top]],
        "top_contributors": [
            {"customer_id": cid, "name": names.get(cid), "contributions": n}
            for cid, n in activity.top
        ],
        "counts": {
            "positive": sentiments.get("positive", 0),
            "negative": sentiments.get("negative", 0),
            "senders": activity.senders,
            "passionate": activity.passionate,
        },
    }
