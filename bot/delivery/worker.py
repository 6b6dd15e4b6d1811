"""The outbox worker: makes again, in every process that sends, the calls the outbox still
holds (a retry that is due, or a call whose sender died and whose lease ran out)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import TYPE_CHECKING

from bot.delivery.durable import LEASE, RENEW_EVERY, SENDING
from bot.delivery.messaging import Messenger
from storage import outbox
from storage.models import OutboxMessage

if TYPE_CHECKING:
    from bot.core.services import Services

log = logging.getLogger(__name__)

# Due calls the outbox worker takes in one round (as many as the inbox keeps in flight).
DUE_PER_ROUND = 300


class OutboxWorker:
    """Retries what the outbox still holds, in every process that sends."""

    def __init__(self, messenger: Messenger, services: Services, *, every: float = 1.0) -> None:
        self.messenger = messenger
        self.services = services
        self.every = every
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """End the loop after the current round."""
        self._stopping.set()

    async def run(self) -> None:
        """Make due calls every `every` seconds until stopped."""
        # Renewing runs on its own: a round that waits minutes for Telegram's limit must not
        # let the rows it is sending look abandoned to another process.
        renewing = asyncio.create_task(self._renew_while_running(), name="outbox-renew")
        try:
            while not self._stopping.is_set():
                try:
                    await self.send_due()
                except Exception:  # the worker must outlive a database hiccup
                    log.exception("outbox round failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=self.every)
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing

    async def _renew_while_running(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=RENEW_EVERY)
            try:
                await self.renew()
            except Exception:  # a database hiccup: the next renewal comes in seconds
                log.exception("could not renew the outbox rows being sent")

    async def renew(self) -> None:
        """Keep the rows this process is still sending its own."""
        if SENDING:
            async with self.services.db.session() as session:
                await outbox.renew(
                    session=session,
                    row_ids=sorted(SENDING),
                    until=self.services.clock.now() + LEASE,
                )

    async def send_due(self) -> int:
        """One round: claim and make each due call; how many Telegram took.

        Chats are served side by side (each chat's calls in order), so that what a dead
        process left (an outage's acknowledgements, say) queues for Telegram's limit all at
        once, beside the live traffic, rather than one call at a time behind it."""
        db, clock = self.services.db, self.services.clock
        async with db.session() as session:
            rows = await outbox.due(session=session, now=clock.now(), limit=DUE_PER_ROUND)
        chats: dict[int, list[OutboxMessage]] = {}
        for row in rows:
            chats.setdefault(row.chat_id, []).append(row)
        delivered = await asyncio.gather(*(self._send_in_order(chat) for chat in chats.values()))
        return sum(delivered)

    async def _send_in_order(self, rows: list[OutboxMessage]) -> int:
        db, clock = self.services.db, self.services.clock
        delivered = 0
        for row in rows:
            assert row.id is not None
            if row.id in SENDING:
                continue  # this process is making it (its lease was renewed late)
            async with db.session() as session:
                mine = await outbox.claim(
                    session=session, row_id=row.id, now=clock.now(), lease=LEASE
                )
            if not mine:
                continue  # another process took it
            SENDING.add(row.id)
            try:
                called = await self.messenger.deliver(
                    row.id,
                    json.loads(row.payload),
                    method=row.method,
                    attempts=row.attempts,
                    queued=row.created_at,
                    raise_errors=False,
                )
            finally:
                SENDING.discard(row.id)
            delivered += called.done
        return delivered
