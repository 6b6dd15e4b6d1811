"""Processes stored updates exactly once each, in update_id order."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.messaging import sending_for_update
from bot.observability import UPDATES_PROCESSED, UPDATES_STORED
from bot.services import Services
from storage.inbox import claim_pending, mark_processed, store_updates

log = logging.getLogger(__name__)


class Inbox:
    """Stores raw updates, then feeds them to the Application and marks them done."""

    def __init__(self, services: Services, application: Application) -> None:
        self.services = services
        self.application = application
        self.owner = process_identity()
        self.lease = timedelta(seconds=services.settings.inbox_lease_seconds)
        self._lock = asyncio.Lock()

    async def store(self, raw_updates: Sequence[dict[str, Any]]) -> list[int]:
        """Durably store updates; returns the ids not seen before."""
        async with self.services.db.session() as session:
            new = await store_updates(
                session=session, updates=raw_updates, now=self.services.clock.now()
            )
        UPDATES_STORED.inc(len(new))
        return new

    async def drain(self) -> int:
        """Process every stored, unprocessed update; returns how many were processed."""
        # One drainer at a time in a process: updates of one chat must stay in order.
        async with self._lock:
            done = 0
            while True:
                # Claimed, not just read: other processes of the same bot skip these.
                async with self.services.db.session() as session:
                    batch = await claim_pending(
                        session=session,
                        owner=self.owner,
                        now=self.services.clock.now(),
                        lease=self.lease,
                    )
                if not batch:
                    return done
                for row in batch:
                    with sending_for_update(row.update_id):
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
            kept = await mark_processed(
                session=session,
                update_id=update_id,
                now=self.services.clock.now(),
                error=error,
                owner=self.owner,
            )
        UPDATES_PROCESSED.labels("error" if error else "ok").inc()
        if not kept:
            log.warning("update %s: the claim ran out before it was processed", update_id)


def process_identity() -> str:
    """This process, as claims name it: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
