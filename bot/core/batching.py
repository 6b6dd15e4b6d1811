"""Coalesces concurrent calls into batches: one model run, one transaction for many updates.

The inbox processes many conversations at once; each of them triages a message, stores it,
queues its answer and marks its update done. Done one by one, every step is a database
round trip and a commit. A Batcher gathers the calls made in the same turn of the event loop
(and those made while a batch is running) and hands them to one function that does the
work for all of them: the callers wait as before and each gets its own result, so handlers
keep their simple one-message shape.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    """Calls ``run(items)`` for the items submitted together; ``run`` returns one result per
    item, in order, and is all or nothing (one transaction). If a batch fails, its items are
    run one by one, so an error reaches only the caller whose item caused it.

    ``inline_when``: when it says so, a call runs by itself at once instead of joining a batch.
    """

    def __init__(
        self,
        run: Callable[[list[T]], Awaitable[Sequence[R]]],
        *,
        name: str,
        max_batch: int = 256,
        inline_when: Callable[[], bool] | None = None,
    ) -> None:
        self._run = run
        self._inline_when = inline_when
        self._name = name
        self._max_batch = max_batch
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def __call__(self, item: T) -> R:
        """Submit one item and wait for its result."""
        if self._inline_when is not None and self._inline_when():
            # E.g. called inside an open SQLite transaction: the batch would wait for the
            # writer lock this caller holds. Run alone, here.
            return (await self._run_checked([item]))[0]
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._pending.append((item, future))
        # The worker empties the queue and exits; its last look at the queue and its exit
        # happen in one step of the loop, so an item appended here is never stranded.
        if self._worker is None or self._worker.done():
            # A context of its own: the batch must not run under the first caller's context
            # (its update's message keys, its hold on the SQLite writer lock).
            self._worker = asyncio.create_task(
                self._work(), name=f"batch-{self._name}", context=contextvars.Context()
            )
        return await future

    async def _work(self) -> None:
        # One turn of the loop first: the other conversations of this round reach the same
        # point of their handler and join the batch.
        await asyncio.sleep(0)
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: len(batch)]
            try:
                await self._settle(batch)
            except asyncio.CancelledError:
                for _, future in batch:
                    future.cancel()
                raise

    async def _settle(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._run_checked([item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                if not batch[0][1].done():
                    batch[0][1].set_exception(exc)
                return
            # ``run`` is all or nothing (one transaction): try each item alone, so that one
            # bad item fails by itself instead of taking the others with it.
            log.warning("batch %s of %d failed (%s); item by item", self._name, len(batch), exc)
            for item, future in batch:
                await self._settle([(item, future)])
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _run_checked(self, items: list[T]) -> Sequence[R]:
        results = await self._run(items)
        if len(results) != len(items):
            raise RuntimeError(f"batch {self._name}: {len(results)} results for {len(items)}")
        return results
