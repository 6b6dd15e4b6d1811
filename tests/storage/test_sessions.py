"""Units of work: a session opened inside another is that same session (on SQLite a second
transaction waited 30 s for the first, then failed with "database is locked")."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlmodel import select

from storage.db import Database
from storage.models import Customer

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


async def test_a_nested_session_is_the_outer_one_and_sees_its_writes(db: Database) -> None:
    async def nested_write() -> None:
        async with db.session() as inner:
            inner.add(Customer(telegram_user_id=42, created_at=NOW, last_seen_at=NOW))

    async with db.session() as outer:
        outer.add(Customer(telegram_user_id=41, created_at=NOW, last_seen_at=NOW))
        await outer.flush()
        await asyncio.wait_for(nested_write(), timeout=5)  # no wait on a second transaction
        async with db.session() as inner:
            assert inner is outer
            seen = (await inner.exec(select(Customer.telegram_user_id))).all()
            assert sorted(seen) == [41, 42]
    async with db.session() as later:
        assert sorted((await later.exec(select(Customer.telegram_user_id))).all()) == [41, 42]


async def test_a_failing_nested_block_rolls_back_the_whole_unit(db: Database) -> None:
    try:
        async with db.session() as outer:
            outer.add(Customer(telegram_user_id=51, created_at=NOW, last_seen_at=NOW))
            async with db.session() as inner:
                inner.add(Customer(telegram_user_id=52, created_at=NOW, last_seen_at=NOW))
                raise RuntimeError("boom")
    except RuntimeError:
        pass
    async with db.session() as session:
        assert (await session.exec(select(Customer))).all() == []


async def test_sessions_of_concurrent_tasks_are_their_own(db: Database) -> None:
    async def write(user_id: int) -> None:
        async with db.session() as session:
            session.add(Customer(telegram_user_id=user_id, created_at=NOW, last_seen_at=NOW))
            await asyncio.sleep(0)

    await asyncio.wait_for(asyncio.gather(*(write(60 + n) for n in range(5))), timeout=10)
    async with db.session() as session:
        assert len((await session.exec(select(Customer))).all()) == 5
