"""Ratings: CSAT after a ticket or on request, NPS."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Rating


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
