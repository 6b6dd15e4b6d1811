"""Updates set aside: one that cannot be read or processed must not hold up the ones behind it."""

from __future__ import annotations

import logging

from bot.core.services import Services
from storage.dead_letters import describe, record_dead_letter

log = logging.getLogger(__name__)


async def set_aside(
    services: Services, *, update_id: int, payload: object, error: BaseException
) -> str:
    """Record the update as a dead letter (one ERROR line); return the error text, safe to
    store as the update's last_error."""
    text = describe(error)
    # The traceback is for developers who ask for it, not a flood in every operator's log.
    log.debug("update %s failed", update_id, exc_info=error)
    async with services.db.session() as session:
        await record_dead_letter(
            session=session,
            kind="update",
            item_id=update_id,
            error=text,
            payload=payload,
            now=services.clock.now(),
        )
    return text
