"""Ratings: CSAT after a ticket or on request, NPS."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Rating, Ticket


async def record_rating(
    *,
    session: AsyncSession,
    customer_id: int,
    scale: str,
    score: int,
    ticket_id: int | None,
    now: datetime,
) -> Rating:
    """Store a score; the comment may follow later."""
    limits = {"csat": (1, 5), "nps": (0, 10)}
    low, high = limits[scale]
    if not low <= score <= high:
        raise ValueError(f"{scale} score must be {low}-{high}, not {score}")
    rating = Rating(
        customer_id=customer_id, scale=scale, score=score, ticket_id=ticket_id, created_at=now
    )
    session.add(rating)
    await session.flush()
    return rating


async def add_rating_comment(*, session: AsyncSession, rating_id: int, comment: str) -> None:
    """Attach the customer's words to their score."""
    rating = await session.get(Rating, rating_id)
    if rating is not None:
        rating.comment = comment
        session.add(rating)


async def rated_generally_since(
    *, session: AsyncSession, customer_id: int, since: datetime
) -> bool:
    """Whether the customer gave a general rating (of no ticket) at or after `since`."""
    found = (
        await session.exec(
            select(Rating.id).where(
                Rating.customer_id == customer_id,
                col(Rating.ticket_id).is_(None),
                col(Rating.created_at) >= since,
            )
        )
    ).first()
    return found is not None


async def rated_since_resolution(*, session: AsyncSession, ticket: Ticket) -> bool:
    """Whether the ticket was rated at or after its (latest) resolution."""
    found = (
        await session.exec(
            select(Rating.id).where(
                Rating.ticket_id == ticket.id,
                col(Rating.created_at) >= ticket.resolved_at,
            )
        )
    ).first()
    return found is not None
