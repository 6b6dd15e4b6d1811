"""Units of work: a session opened inside another is that same session (on SQLite a second
transaction waited 30 s for the first, then failed with "database is locked"); read sessions
take no writer turn and write nothing; CPU work refuses to run inside any session."""

from __future__ import annotations

import asyncio
import contextvars
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from storage.db import Database, HeldTransaction, ensure_outside_transaction, in_transaction
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


async def _customers(db: Database) -> list[int]:
    async with db.read() as session:
        return sorted((await session.exec(select(Customer.telegram_user_id))).all())


async def test_a_long_read_does_not_block_a_write(db: Database) -> None:
    # On SQLite a session used to take the process's writer turn even to read: a slow report
    # held up every message behind it. A read session takes no turn (WAL lets readers and the
    # writer run side by side), in this process or another one.
    other_process = Database(db.url)

    async def write(database: Database, user_id: int) -> None:
        async with database.session() as session:
            session.add(Customer(telegram_user_id=user_id, created_at=NOW, last_seen_at=NOW))

    def elsewhere(database: Database, user_id: int) -> asyncio.Task[None]:
        # Another conversation's task: not a part of this read's unit of work.
        return asyncio.create_task(write(database, user_id), context=contextvars.Context())

    try:
        async with db.read() as reading:
            assert (await reading.exec(select(Customer))).all() == []
            assert not db.holds_writer_turn()
            # The read is still open: writers do not wait for it.
            await asyncio.wait_for(elsewhere(db, 71), timeout=5)
            await asyncio.wait_for(elsewhere(other_process, 72), timeout=5)
            seen = (await reading.exec(select(Customer.telegram_user_id))).all()
            assert sorted(seen) == [71, 72]
    finally:
        await other_process.dispose()
    assert await _customers(db) == [71, 72]


async def test_reads_run_beside_a_write_in_progress(db: Database) -> None:
    written = asyncio.Event()
    release = asyncio.Event()

    async def slow_write() -> None:
        async with db.session() as session:
            session.add(Customer(telegram_user_id=81, created_at=NOW, last_seen_at=NOW))
            await session.flush()  # SQLite's write lock is taken: the turn is held
            written.set()
            await release.wait()

    writer = asyncio.create_task(slow_write())
    await asyncio.wait_for(written.wait(), timeout=5)
    # The uncommitted write is not seen, and reading does not wait for it to end.
    assert await asyncio.wait_for(_customers(db), timeout=5) == []
    release.set()
    await asyncio.wait_for(writer, timeout=5)
    assert await _customers(db) == [81]


async def test_a_read_session_writes_nothing(db: Database) -> None:
    with pytest.raises(DBAPIError):  # the database refuses it: query_only, READ ONLY
        async with db.read() as session:
            await session.exec(
                insert(Customer).values(telegram_user_id=91, created_at=NOW, last_seen_at=NOW)
            )
    with pytest.raises(RuntimeError, match="read session"):
        async with db.read() as session:
            session.add(Customer(telegram_user_id=92, created_at=NOW, last_seen_at=NOW))
    with pytest.raises(RuntimeError, match="inside a read session"):
        async with db.read(), db.session():
            pass
    assert await _customers(db) == []
    # Its connections, given back to the pool, write again in a write session.
    for user_id in (93, 94):
        async with db.session() as session:
            session.add(Customer(telegram_user_id=user_id, created_at=NOW, last_seen_at=NOW))
    assert await _customers(db) == [93, 94]


async def test_a_read_inside_a_write_session_is_that_session(db: Database) -> None:
    async with db.session() as outer:
        outer.add(Customer(telegram_user_id=95, created_at=NOW, last_seen_at=NOW))
        await outer.flush()
        async with db.read() as inner:
            assert inner is outer
            assert (await inner.exec(select(Customer.telegram_user_id))).all() == [95]
        assert db.holds_writer_turn() == db.is_sqlite


async def test_cpu_work_is_refused_inside_any_session(db: Database) -> None:
    def cpu_work() -> str:
        ensure_outside_transaction("the test's work")
        return "done"

    assert not in_transaction()
    assert await asyncio.to_thread(cpu_work) == "done"
    for opened in (db.session, db.read):
        async with opened():
            assert in_transaction()
            with pytest.raises(HeldTransaction):
                cpu_work()
            # A worker thread started from inside a session knows it too.
            with pytest.raises(HeldTransaction):
                await asyncio.to_thread(cpu_work)
    assert not in_transaction()
