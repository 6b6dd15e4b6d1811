"""Canned replies: answers staff save once and send by name."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import CannedReply


async def save_canned_reply(
    *, session: AsyncSession, name: str, text: str, user_id: int, now: datetime
) -> CannedReply:
    """Create or replace the canned reply called name."""
    result = await session.exec(select(CannedReply).where(CannedReply.name == name))
    reply = result.first() or CannedReply(name=name, text=text, created_at=now)
    reply.text = text
    reply.created_by = user_id
    reply.created_at = now
    session.add(reply)
    await session.flush()
    return reply


async def get_canned_reply(*, session: AsyncSession, name: str) -> CannedReply | None:
    """The canned reply called name, if any."""
    result = await session.exec(select(CannedReply).where(CannedReply.name == name))
    return result.first()


async def canned_reply_names(*, session: AsyncSession) -> list[str]:
    """Every name, alphabetically."""
    result = await session.exec(select(CannedReply.name).order_by(col(CannedReply.name)))
    return list(result.all())
