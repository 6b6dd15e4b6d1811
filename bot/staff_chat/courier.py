"""The staff courier: brings staff what customers wrote, in the background, at the pace each
staff chat allows.

Customers are answered while their update is processed; what staff must see (a new ticket's
card, a further message, an incident's count) is stored with it and posted from here. A staff
chat at Telegram's 20-messages-a-minute limit, slow or failing, holds up only this loop, never
an acknowledgement, the inbox or another chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from telegram.error import TelegramError

from bot.staff_chat.tickets import StaffDesk
from storage.db import DatabaseError

log = logging.getLogger(__name__)


class StaffCourier:
    """Runs the desk's posting rounds when woken, and every `every` seconds in case another
    process queued the work (or a chat's minute has room again)."""

    # Rounds start at most this often: during a burst every care request wakes the courier,
    # and one round a moment serves them all without competing with the intake for the
    # database. Staff see the cards within a second; customers are answered meanwhile.
    GAP = 0.5

    def __init__(self, desk: StaffDesk, *, every: float = 2.0, gap: float = GAP) -> None:
        self.desk = desk
        self.every = every
        self.gap = gap
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._started = 0
        self._finished = 0
        self._round_done = asyncio.Condition()
        desk.when_work(self.kick)

    def kick(self) -> None:
        """Work was queued: run a round soon (never waits)."""
        self._wake.set()

    def stop(self) -> None:
        """End the loop after the current round."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Post rounds until stopped."""
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.every)
            if self._stopping.is_set():
                return
            if self.gap:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=self.gap)
            self._wake.clear()
            self._started += 1
            try:
                await self.desk.flush_backlog()
            except (DatabaseError, OSError, TelegramError) as exc:
                log.warning("staff courier round stopped (%s); next round retries", exc)
            except Exception:  # the courier must outlive one bad round
                log.exception("staff courier round failed")
            finally:
                async with self._round_done:
                    self._finished = self._started
                    self._round_done.notify_all()

    async def settled(self, *, timeout: float = 30.0) -> None:
        """Wait until a round that started after this call has finished (for tests and the
        demo: what was queued before it has been posted, as far as the chats' limits allow)."""
        target = self._started + 1
        self.kick()
        async with asyncio.timeout(timeout), self._round_done:
            await self._round_done.wait_for(lambda: self._finished >= target)
