"""Forum topics the bot opened in a staff chat for a purpose (the "Ideas" topic): one per chat
and purpose, whichever process opened it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import StaffThread


async def staff_thread(*, session: AsyncSession, chat_id: int, purpose: str) -> int | None:
    """The thread id of the chat's topic for this purpose, if one was recorded."""
    mine = (StaffThread.chat_id == chat_id, StaffThread.purpose == purpose)
    known = (await session.exec(select(StaffThread).where(*mine))).first()
    return None if known is None else known.thread_id


async def record_staff_thread(
    *, session: AsyncSession, chat_id: int, purpose: str, thread_id: int, now: datetime
) -> bool:
    """Remember the chat's topic for this purpose; False when another process recorded it
    first (the same topic: it was opened by key)."""
    try:
        async with session.begin_nested():
            session.add(
                StaffThread(chat_id=chat_id, purpose=purpose, thread_id=thread_id, created_at=now)
            )
    except IntegrityError:
        return False
    return True
