"""What the people on staff keep for themselves: the language the bot speaks to them in, and
the canned replies they send."""

from __future__ import annotations

from bot.core.services import Services
from storage.canned import save_canned_reply
from storage.people import set_person_language


async def choose_language(services: Services, telegram_user_id: int, language: str) -> None:
    """Someone on staff (or a manager) reads the bot in ``language`` from now on."""
    async with services.db.session() as session:
        await set_person_language(
            session=session,
            telegram_user_id=telegram_user_id,
            language=language,
            now=services.clock.now(),
        )


async def save_canned(services: Services, *, name: str, text: str, user_id: int) -> None:
    """A canned reply saved (or replaced) under ``name``."""
    async with services.db.session() as session:
        await save_canned_reply(
            session=session, name=name, text=text, user_id=user_id, now=services.clock.now()
        )
