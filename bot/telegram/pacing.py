"""Telegram's pace, oldest message first.

python-telegram-bot's AIORateLimiter keeps the bot under Telegram's limits, but lets waiting
calls through in the order they reached it. After a crash, the messages a dead process had
queued (an outage's acknowledgements, say) are taken over only when their lease runs out, by
then behind every acknowledgement of the live traffic: the customers who wrote first would be
answered last. This limiter keeps the library's per-group limits and its waiting out of a 429,
and replaces the overall flow with one that, when calls wait, lets the one queued earliest go
first: the time a call was first queued travels with it in `queued_at` (a context variable the
outbox sets around each call). Calls to groups go before them all (they are few: 20 a minute
at most, by the group limit).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from telegram.ext import AIORateLimiter

_queued_at: ContextVar[float | None] = ContextVar("queued_at", default=None)
# The place in line of calls to groups: before any message's queue time.
GROUPS_FIRST = 0.0


@contextmanager
def queued_at(timestamp: float) -> Iterator[None]:
    """Calls made inside go through the limiter as queued at `timestamp` (seconds since the
    epoch): when calls wait, the earliest goes first. Nested, the earliest time holds (an
    answer to a message is as old as the message)."""
    outer = _queued_at.get()
    token = _queued_at.set(timestamp if outer is None else min(outer, timestamp))
    try:
        yield
    finally:
        _queued_at.reset(token)


def queued_since() -> float | None:
    """The time calls made here count as queued at (see `queued_at`); None outside one."""
    return _queued_at.get()


class _OldestFirst:
    """One call per `interval` seconds, no bursts; waiting calls go in order of queue time."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._free_at = 0.0  # loop time when the next call may go
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self._pump: asyncio.Task[None] | None = None

    async def turn(self, order: float) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        if not self._waiting and now >= self._free_at:
            self._free_at = now + self._interval
            return
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._waiting, (order, next(self._seq), future))
        if self._pump is None or self._pump.done() or self._pump.get_loop() is not loop:
            self._pump = loop.create_task(self._let_through(), name="telegram-pace")
        await future  # cancelled: the pump skips it

    async def _let_through(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting:
            delay = self._free_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            while self._waiting:
                _, _, future = heapq.heappop(self._waiting)
                if not future.done():
                    future.set_result(None)
                    # A late wake-up is made up for by half a turn at most: never two at once.
                    self._free_at = max(self._free_at, loop.time() - self._interval / 2)
                    self._free_at += self._interval
                    break


class OldestFirstRateLimiter(AIORateLimiter):
    """AIORateLimiter whose overall flow (`overall_rate` calls a second to chats) lets the
    call queued earliest go first; group limits and 429 handling are the library's."""

    def __init__(self, *, overall_rate: float, max_retries: int) -> None:
        super().__init__(overall_max_rate=0, max_retries=max_retries)
        self._flow = _OldestFirst(overall_rate)

    async def _run_request(
        self,
        chat: bool,
        group: str | int | bool,
        allow_paid_broadcast: bool,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
    ) -> Any:
        if not chat or allow_paid_broadcast:
            return await super()._run_request(
                chat, group, allow_paid_broadcast, callback, args, kwargs
            )
        if group:
            # Calls to groups (the staff chat: an incident's card, a new ticket's topic) go
            # ahead of the customers' answers: Telegram lets at most 20 a minute through to a
            # group, so they cannot starve anyone, and staff must not learn of an outage only
            # once every report of it has been acknowledged.
            order = GROUPS_FIRST
        else:
            since = _queued_at.get()
            order = time.time() if since is None else since

        async def paced() -> Any:
            await self._flow.turn(order)
            return await callback(*args, **kwargs)

        return await super()._run_request(chat, group, allow_paid_broadcast, paced, (), {})
