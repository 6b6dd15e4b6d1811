"""Managers and staff as people with their own settings (they need not be customers)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import PersonSetting


async def set_person_language(
    *, session: AsyncSession, telegram_user_id: int, language: str, now: datetime
) -> None:
    """Remember the language this person reads the bot in."""
    found = await session.get(PersonSetting, telegram_user_id)
    if found is None:
        found = PersonSetting(telegram_user_id=telegram_user_id, language=language, updated_at=now)
    else:
        found.language, found.updated_at = language, now
    session.add(found)


async def person_languages(
    *, session: AsyncSession, telegram_user_ids: Iterable[int]
) -> dict[int, str]:
    """The language each of these people chose; those who never chose are absent."""
    ids = sorted(set(telegram_user_ids))
    if not ids:
        return {}
    rows = await session.exec(
        select(PersonSetting).where(col(PersonSetting.telegram_user_id).in_(ids))
    )
    return {row.telegram_user_id: row.language for row in rows.all()}
