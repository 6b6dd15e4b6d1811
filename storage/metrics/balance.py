"""Balance: staff messages per ticket beside contributions per active customer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.metrics.common import Activity, ratio
from storage.metrics.sql import count_where, fetch, flag, period_index, table, within
from storage.models import MessageAuthor, TicketMessage


async def balance_in(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    activity: Activity,
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
                "staff_messages_per_ticket": ratio(n_replies, n_tickets),
                "contributions_per_active_customer": ratio(n, people),
            }
        )
    return {
        "staff_messages_per_ticket": ratio(int(replies), int(tickets)),
        "contributions_per_active_customer": ratio(activity.contributions, activity.active),
        "weekly": weekly,
        "counts": {
            "staff_replies": int(replies),
            "tickets_talked": int(tickets),
            "contributions": activity.contributions,
            "active": activity.active,
        },
    }
