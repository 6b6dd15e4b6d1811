"""Volumes of a window: what the hourly snapshot stores and /summary's first lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Feedback, Idea, Ticket, TicketStatus


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
