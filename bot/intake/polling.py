"""Long polling that stores updates before confirming them to Telegram."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram.error import Conflict, NetworkError, RetryAfter, TimedOut

from bot.intake.inbox import Inbox
from bot.telegram.errors import retry_after_seconds
from storage.inbox import highest_update_id, update_id_of

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member", "chat_member"]


class Poller:
    """getUpdates → store → (next getUpdates confirms) → process from the store."""

    def __init__(self, inbox: Inbox, *, timeout: int = 25, limit: int = 100) -> None:
        self.inbox = inbox
        self.timeout = timeout
        self.limit = limit
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Ask the loop to end after the current request."""
        self._stopping.set()

    async def run(self) -> None:
        """Poll until stopped; process what was stored and unprocessed before a restart first."""
        bot = self.inbox.application.bot
        await bot.delete_webhook(drop_pending_updates=False)
        await self.inbox.drain()
        async with self.inbox.services.db.session() as session:
            last = await highest_update_id(session=session)
        offset = (last + 1) if last is not None else None
        backoff = db_backoff = 1.0
        # Updates given back for a retry, or held by a process that died, are swept up too.
        sweeper = asyncio.create_task(self.inbox.sweep(self._stopping), name="inbox-sweep")
        try:
            while not self._stopping.is_set():
                try:
                    raw = await self._get_updates(offset)
                    backoff = 1.0
                except RetryAfter as exc:
                    await self._sleep(retry_after_seconds(exc))
                    continue
                except (NetworkError, TimedOut, Conflict) as exc:
                    log.warning("getUpdates failed (%s); retrying in %.0f s", exc, backoff)
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, 30.0)
                    continue
                try:
                    if raw:
                        # Stored before the next getUpdates confirms them by offset: a crash
                        # loses nothing. Processed meanwhile, while the next page comes.
                        # What cannot be stored is set aside as a dead letter, and confirmed
                        # all the same: fetched again, it would stop the bot again.
                        await self.inbox.store(raw)
                        ids = [i for i in map(update_id_of, raw) if i is not None]
                        if ids:
                            offset = max(ids) + 1
                        self.inbox.kick()
                    db_backoff = 1.0
                except (SQLAlchemyError, OSError) as exc:
                    # The database is away: keep the offset (Telegram keeps the updates) and wait.
                    log.warning("database unavailable (%s); retrying in %.0f s", exc, db_backoff)
                    await self._sleep(db_backoff)
                    db_backoff = min(db_backoff * 2, 30.0)
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await self.inbox.stop_draining()

    async def _get_updates(self, offset: int | None) -> list[dict[str, Any]]:
        """The next updates as JSON: stored as they came, before they become objects."""
        bot = self.inbox.application.bot
        result = await bot.call_json(
            "getUpdates",
            {
                **({"offset": offset} if offset is not None else {}),
                "timeout": self.timeout,
                "limit": self.limit,
                "allowed_updates": ALLOWED_UPDATES,
            },
            read_timeout=self.timeout + 10,
        )
        return list(result) if isinstance(result, list) else []

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
