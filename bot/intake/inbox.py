"""Processes stored updates exactly once each, in update_id order."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.services import Services
from storage.inbox import mark_processed, pending_updates, store_updates

log = logging.getLogger(__name__)


class Inbox:
    """Stores raw updates, then feeds them to the Application and marks them done."""

    def __init__(self, services: Services, application: Application) -> None:
        self.services = services
        self.application = application
        self._lock = asyncio.Lock()

    async def store(self, raw_updates: Sequence[dict[str, Any]]) -> list[int]:
        """Durably store updates; returns the ids not seen before."""
        async with self.services.db.session() as session:
            return await store_updates(
                session=session, updates=raw_updates, now=self.services.clock.now()
            )

    async def drain(self) -> int:
        """Process every stored, unprocessed update; returns how many were processed."""
        # One drainer at a time in a process: updates of one chat must stay in order.
        async with self._lock:
            done = 0
            while True:
                async with self.services.db.session() as session:
                    batch = await pending_updates(session=session)
                if not batch:
                    return done
                for row in batch:
                    await self._process(row.update_id, json.loads(row.payload))
                    done += 1

    async def _process(self, update_id: int, payload: dict[str, Any]) -> None:
        error: str | None = None
        try:
            update = Update.de_json(payload, self.application.bot)
            await self.application.process_update(update)
        except Exception as exc:  # a malformed update must not block the ones behind it
            log.exception("update %s could not be processed", update_id)
            error = f"{type(exc).__name__}: {exc}"
        async with self.services.db.session() as session:
            await mark_processed(
                session=session, update_id=update_id, now=self.services.clock.now(), error=error
            )
