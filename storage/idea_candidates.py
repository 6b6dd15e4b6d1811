"""What the search for ideas like a new one reads: the newest open ideas, their texts, and the
votes of those that match."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.ideas import CLOSED_STATUSES
from storage.models import Idea, Vote


async def newest_open_ideas(*, session: AsyncSession, limit: int) -> list[int]:
    """The ids of the newest open ideas (not done, declined or merged), newest first."""
    rows = await session.exec(
        select(col(Idea.id))
        .where(col(Idea.status).not_in([str(s) for s in CLOSED_STATUSES]))
        .order_by(col(Idea.id).desc())
        .limit(limit)
    )
    return [int(idea_id or 0) for idea_id in rows.all()]


async def idea_texts(*, session: AsyncSession, idea_ids: Sequence[int]) -> dict[int, str]:
    """The text of each of these ideas."""
    rows = await session.exec(
        select(col(Idea.id), col(Idea.text)).where(col(Idea.id).in_(list(idea_ids)))
    )
    return {int(idea_id or 0): text for idea_id, text in rows.all()}


async def ideas_with_votes(
    *, session: AsyncSession, idea_ids: Sequence[int]
) -> dict[int, tuple[str, int]]:
    """The text and the number of votes of each of these ideas, in one query."""
    connection = await session.connection()
    counted = await connection.execute(
        sa_select(col(Idea.id), col(Idea.text), func.count(col(Vote.id)))
        .outerjoin(Vote, col(Vote.idea_id) == col(Idea.id))
        .where(col(Idea.id).in_(idea_ids))
        .group_by(col(Idea.id), col(Idea.text))
    )
    return {int(i or 0): (text, int(votes)) for i, text, votes in counted.all()}
