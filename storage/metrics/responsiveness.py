"""Responsiveness: first response and resolution, SLA, backlog, reopens, CSAT, NPS, per staff."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_
from sqlalchemy import select as core_select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.metrics.common import DETRACTOR_NPS, PROMOTER_NPS, SATISFIED_CSAT, ratio
from storage.metrics.sql import NO_VALUES, ZERO, count_where, fetch, percentiles, table, within
from storage.models import MessageAuthor, Rating, Ticket, TicketMessage


async def responsiveness_in(
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
        "sla_met_rate": ratio(int(n_met), int(n_due)),
        "backlog": int(backlog),
        "oldest_open_age": (end - oldest).total_seconds() if oldest is not None else None,
        "reopen_rate": ratio(int(n_reopened), int(n_resolved)),
        "csat": ratio(n_satisfied, n_csat),
        "csat_mean": ratio(csat_sum, n_csat),
        "nps": 100 * (promoters - detractors) / n_nps if n_nps else None,
        "per_staff": await per_staff_in(session, start=start, end=end),
        # The parts of the rates above, so a reader sees "3 of 4" (compute_summary moves
        # them to summary["counts"]).
        "counts": {
            "first_responses": first.n,
            "sla_due": int(n_due),
            "sla_met": int(n_met),
            "reopened": int(n_reopened),
            "csat_ratings": n_csat,
            "csat_satisfied": n_satisfied,
            "nps_ratings": n_nps,
            "nps_promoters": promoters,
            "nps_detractors": detractors,
        },
    }


async def per_staff_in(
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
        # Their name as they signed their messages, else as they claimed a ticket.
        for staff_id, name in await fetch(
            session,
            core_select(m.c.author_user_id, func.max(m.c.author_name))
            .where(m.c.author_user_id.in_(known), m.c.author_name.is_not(None))
            .group_by(m.c.author_user_id),
        ):
            staff[staff_id]["name"] = name
        for staff_id, name in await fetch(
            session,
            core_select(t.c.assignee_id, func.max(t.c.assignee_name))
            .where(t.c.assignee_id.in_(known))
            .group_by(t.c.assignee_id),
        ):
            if staff[staff_id]["name"] is None:
                staff[staff_id]["name"] = name
    return sorted(
        staff.values(),
        key=lambda s: (-s["replies"], -s["first_responses"], -s["resolved"], s["staff_id"] or 0),
    )
