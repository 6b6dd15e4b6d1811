"""Runs the triage model off the event loop, batching messages that arrive together."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from nlp import Triager, TriageResult

log = logging.getLogger(__name__)


class TriageService:
    """Collects concurrent requests into one batch and runs it in a worker thread.

    spaCy releases little of the GIL, so one worker thread is enough: its job is to keep
    the event loop free while the model runs, and batching is what buys throughput.
    """

    def __init__(self, triager: Triager, *, max_batch: int = 256) -> None:
        self._triager = triager
        self._max_batch = max_batch
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="triage")
        self._pending: list[tuple[str, asyncio.Future[TriageResult]]] = []
        self._worker: asyncio.Task[None] | None = None

    @property
    def topics(self) -> tuple[str, ...]:
        """The topic taxonomy of the model."""
        return self._triager.topics

    async def triage(self, text: str) -> TriageResult:
        """Triage one message; concurrent callers share a batch."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[TriageResult] = loop.create_future()
        self._pending.append((text, future))
        # The worker drains the queue and exits; its last check of the queue and its exit
        # happen in one step of the loop, so a request appended here is never stranded.
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run(), name="triage-batcher")
        return await future

    async def triage_many(self, texts: list[str]) -> list[TriageResult]:
        """Triage a known batch directly."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._triager.triage, texts)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            batch, self._pending = (
                self._pending[: self._max_batch],
                self._pending[self._max_batch :],
            )
            texts = [text for text, _ in batch]
            try:
                results = await loop.run_in_executor(self._executor, self._triager.triage, texts)
            except Exception as exc:  # one bad batch must not strand its callers
                log.exception("triage failed for a batch of %d", len(batch))
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    def close(self) -> None:
        """Stop the worker thread."""
        self._executor.shutdown(wait=False, cancel_futures=True)
