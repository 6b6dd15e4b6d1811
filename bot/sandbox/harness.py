"""The real bot running in-process against a Bot API server: for the demo and the tests."""

from __future__ import annotations

import asyncio
import contextlib

from telegram.ext import Application

from bot.app.application import build_application, outbox_worker, staff_courier
from bot.core.services import Services
from bot.intake.inbox import Inbox
from bot.intake.polling import Poller
from storage.watch import handled_count


class LocalBot:
    """Starts the Application with the store-first poller; waits for updates to be handled."""

    def __init__(
        self, services: Services, *, poll_timeout: int = 1, courier_gap: float = 0.0
    ) -> None:
        """`courier_gap`: the staff courier's pause between rounds; none by default, so that
        a test sees staff posts right after an update (benchmarks pass the product's)."""
        self.services = services
        self.application: Application = build_application(services)
        self.inbox = Inbox(services, self.application)
        self.poller = Poller(self.inbox, timeout=poll_timeout)
        self.outbox = outbox_worker(self.application, services)
        self.courier = staff_courier(self.application)
        self.courier.gap = courier_gap
        self._task: asyncio.Task[None] | None = None
        self._outbox_task: asyncio.Task[None] | None = None
        self._courier_task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LocalBot:
        await self.application.initialize()
        await self.application.start()
        self._task = asyncio.create_task(self.poller.run(), name="poller")
        self._outbox_task = asyncio.create_task(self.outbox.run(), name="outbox")
        self._courier_task = asyncio.create_task(self.courier.run(), name="staff-courier")
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.poller.stop()
        self.outbox.stop()
        self.courier.stop()
        for task in (self._task, self._outbox_task, self._courier_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.application.stop()
        await self.application.shutdown()

    async def processed(self, update_id: int, *, timeout: float = 15.0) -> None:
        """Wait until the update has been stored and handled, and what it queued for staff
        has been posted (as far as the staff chat's limit allows)."""
        await self._handled(update_id, timeout=timeout)
        await self.courier.settled(timeout=timeout)

    async def _handled(self, update_id: int, *, timeout: float) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if self._task is not None and self._task.done():
                self._task.result()  # the poller died: raise its error here
            async with self.services.db.session() as session:
                done = await handled_count(session=session, update_ids=[update_id])
            if done:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"update {update_id} was not processed in {timeout} s")
            await asyncio.sleep(0.01)
