"""The Batcher: concurrent calls become one batch, each caller gets its own result, and one bad
item fails alone."""

from __future__ import annotations

import asyncio
from contextvars import ContextVar

import pytest

from bot.core.batching import Batcher

_caller: ContextVar[str] = ContextVar("caller", default="none")


class Doubler:
    """Doubles numbers; refuses negative ones (and with them, the batch they are in)."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.contexts: list[str] = []
        self.started = asyncio.Event()

    async def run(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        self.contexts.append(_caller.get())
        self.started.set()
        await asyncio.sleep(0)
        if any(i < 0 for i in items):
            raise ValueError(f"negative in {items}")
        return [2 * i for i in items]


async def test_concurrent_calls_share_one_batch_and_get_their_own_results() -> None:
    doubler = Doubler()
    batcher = Batcher(doubler.run, name="double")
    results = await asyncio.gather(*(batcher(i) for i in range(10)))
    assert results == [2 * i for i in range(10)]
    assert doubler.batches == [list(range(10))]


async def test_calls_made_while_a_batch_runs_form_the_next_batch() -> None:
    doubler = Doubler()
    batcher = Batcher(doubler.run, name="double")
    first = asyncio.gather(*(batcher(i) for i in range(3)))
    await doubler.started.wait()
    second = asyncio.gather(*(batcher(i) for i in range(10, 13)))
    assert await first == [0, 2, 4]
    assert await second == [20, 22, 24]
    assert doubler.batches == [[0, 1, 2], [10, 11, 12]]


async def test_a_bad_item_fails_alone() -> None:
    doubler = Doubler()
    batcher = Batcher(doubler.run, name="double")
    results = await asyncio.gather(*(batcher(i) for i in (1, 2, -3, 4)), return_exceptions=True)
    assert results[:2] == [2, 4] and results[3] == 8
    assert isinstance(results[2], ValueError)
    # The whole batch failed once, then each item was tried by itself.
    assert doubler.batches == [[1, 2, -3, 4], [1], [2], [-3], [4]]


async def test_max_batch_splits_a_crowd() -> None:
    doubler = Doubler()
    batcher = Batcher(doubler.run, name="double", max_batch=4)
    assert await asyncio.gather(*(batcher(i) for i in range(10))) == [2 * i for i in range(10)]
    assert [len(b) for b in doubler.batches] == [4, 4, 2]


async def test_batches_run_in_a_context_of_their_own_unless_inline() -> None:
    doubler = Doubler()
    inline = False
    batcher = Batcher(doubler.run, name="double", inline_when=lambda: inline)

    async def as_caller(name: str, value: int) -> int:
        _caller.set(name)
        return await batcher(value)

    await asyncio.gather(as_caller("first", 1), as_caller("second", 2))
    inline = True
    assert await as_caller("inside", 3) == 6
    assert doubler.batches == [[1, 2], [3]]
    # The batch does not see its first caller's context; an inline call runs in the caller's.
    assert doubler.contexts == ["none", "inside"]


async def test_a_wrong_number_of_results_is_an_error() -> None:
    async def short(items: list[int]) -> list[int]:
        return items[:-1]

    batcher = Batcher(short, name="short")
    with pytest.raises(RuntimeError, match="0 results for 1"):
        await batcher(1)
