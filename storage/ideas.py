"""Ideas: proposals on the board."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Idea


async def create_idea(
    *,
    session: AsyncSession,
    customer_id: int,
    text: str,
    topic: str,
    language: str,
    now: datetime,
) -> Idea:
    """Put a customer's idea on the board with status new."""
    idea = Idea(customer_id=customer_id, text=text, topic=topic, language=language, created_at=now)
    session.add(idea)
    await session.flush()
    return idea
