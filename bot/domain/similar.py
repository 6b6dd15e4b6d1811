"""Ideas already on the board that look like a new one."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from nlp.similarity import most_similar
from storage.ideas import open_ideas, vote_counts

SIMILARITY_THRESHOLD = 0.35
SIMILAR_SHOWN = 3


@dataclass(frozen=True, slots=True)
class Similar:
    """An idea on the board like the one just proposed."""

    idea_id: int
    text: str
    votes: int
    score: float


async def find_similar(session: AsyncSession, text: str) -> list[Similar]:
    """Open ideas like this text, most alike first."""
    candidates = await open_ideas(session=session)
    ranked = most_similar(
        text,
        [(idea.id or 0, idea.text) for idea in candidates],
        threshold=SIMILARITY_THRESHOLD,
        limit=SIMILAR_SHOWN,
    )
    if not ranked:
        return []
    texts = {idea.id: idea.text for idea in candidates}
    votes = await vote_counts(session=session, idea_ids=[key for key, _ in ranked])
    return [Similar(key, texts[key], votes[key], score) for key, score in ranked]
