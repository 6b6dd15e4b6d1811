"""Co-creation: ideas, votes, adoption, time to first status, ownership."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func
from sqlalchemy import select as core_select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.metrics.common import ADOPTED_STATUSES, Activity, ratio
from storage.metrics.sql import NO_VALUES, fetch, percentiles, seconds_between, table, within
from storage.models import Idea, IdeaStatusChange, Vote


async def cocreation_in(
    session: AsyncSession, *, start: datetime, end: datetime, dialect: str, activity: Activity
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
        "votes_per_idea": ratio(int(cohort_votes), int(ideas)),
        "adoption_rate": ratio(int(adopted), int(decided)),
        "median_time_to_first_status": round(median_wait, 3) if median_wait is not None else None,
        "cocreating_customers": ratio(activity.cocreating, activity.active),
        "ownership_quotient": ratio(activity.owners, activity.rated),
        "counts": {
            "cohort_votes": int(cohort_votes),
            "ideas_decided": int(decided),
            "ideas_adopted": int(adopted),
            "first_statuses": waits.get(None, NO_VALUES).n,
            "cocreating": activity.cocreating,
            "active": activity.active,
            "owners": activity.owners,
            "rated": activity.rated,
        },
    }
