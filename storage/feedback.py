"""Feedback: every inbound customer message with its triage result."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Feedback


async def record_feedback(
    *,
    session: AsyncSession,
    customer_id: int,
    chat_id: int,
    message_id: int,
    text: str,
    media_type: str | None,
    media_file_id: str | None,
    kind: str,
    confidence: float,
    sentiment: str,
    topic: str,
    language: str,
    keywords: Iterable[str],
    now: datetime,
) -> Feedback:
    """Store a customer's message as it was triaged."""
    feedback = Feedback(
        customer_id=customer_id,
        chat_id=chat_id,
        message_id=message_id,
        text=text,
        media_type=media_type,
        media_file_id=media_file_id,
        kind=kind,
        confidence=confidence,
        sentiment=sentiment,
        topic=topic,
        language=language,
        keywords=" ".join(keywords)[:512],
        created_at=now,
    )
    session.add(feedback)
    await session.flush()
    return feedback


async def find_feedback_by_message(
    *, session: AsyncSession, chat_id: int, message_id: int
) -> Feedback | None:
    """The feedback stored for a Telegram message."""
    result = await session.exec(
        select(Feedback).where(Feedback.chat_id == chat_id, Feedback.message_id == message_id)
    )
    return result.first()


async def mark_edited(
    *, session: AsyncSession, feedback: Feedback, text: str, now: datetime
) -> None:
    """The customer edited their message: keep the new text."""
    feedback.text = text
    feedback.edited_at = now
    session.add(feedback)
