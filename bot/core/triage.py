"""Runs the triage model off the event loop, batching messages that arrive together."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from bot.core.batching import Batcher
from nlp import Triager, TriageResult


class TriageService:
    """Collects concurrent requests into one batch and runs it in a worker thread.

    spaCy releases little of the GIL, so one worker thread is enough: its job is to keep
    the event loop free while the model runs, and batching is what buys throughput.
    """

    def __init__(self, triager: Triager, *, max_batch: int = 256) -> None:
        self._triager = triager
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="triage")
        self._batch = Batcher(self.triage_many, name="triage", max_batch=max_batch)

    @property
    def topics(self) -> tuple[str, ...]:
        """The topic taxonomy of the model."""
        return self._triager.topics

    async def triage(self, text: str) -> TriageResult:
        """Triage one message; concurrent callers share a batch."""
        return await self._batch(text)

    async def triage_many(self, texts: list[str]) -> list[TriageResult]:
        """Triage a known batch directly."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._triager.triage, texts)

    def close(self) -> None:
        """Stop the worker thread."""
        self._executor.shutdown(wait=False, cancel_futures=True)
