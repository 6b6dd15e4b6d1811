"""Two processes claiming at the same instant: the second waits for the first's claim to end,
then sees its chat as held. Without that, it took the chat's later updates while the first
held the earlier ones (seen with two real `web` processes: a customer's second message was
stored, and answered, before the first)."""

from __future__ import annotations

import asyncio
import contextvars
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from storage.db import Database
from storage.inbox import _CLAIM_LOCK_KEY, claim_pending, store_updates
from storage.models import InboxUpdate
from tests.support import private_text_update as update
from tests.support import uses_postgres

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=15)

pytestmark = pytest.mark.skipif(
    not uses_postgres(),
    reason="needs two claim transactions open at once, which SQLite's single writer does not "
    "allow in one test; tests/intake/test_scale_out.py runs two processes on SQLite too",
)


async def waiting_for_the_claim_lock(db: Database) -> bool:
    async with db.engine.connect() as conn:
        waiting = await conn.execute(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND objid = :key"
            ),
            {"key": _CLAIM_LOCK_KEY},
        )
        return bool(waiting.scalar())


async def test_a_claim_racing_another_does_not_take_the_chat_it_holds(db: Database) -> None:
    async with db.session() as session:
        await store_updates(
            session=session, updates=[update(1, 701), update(2, 701), update(3, 702)], now=NOW
        )
    other_process = Database(db.url)

    async def claim_elsewhere() -> list[InboxUpdate]:
        async with other_process.session() as session:
            return await claim_pending(session=session, owner="b", now=NOW, lease=LEASE, limit=10)

    try:
        async with db.session() as session:
            first = await claim_pending(session=session, owner="a", now=NOW, lease=LEASE, limit=1)
            assert [u.update_id for u in first] == [1]
            # "a" has claimed but not committed yet: "b" claims now.
            racing = asyncio.create_task(claim_elsewhere(), context=contextvars.Context())
            deadline = asyncio.get_running_loop().time() + 10
            while not (racing.done() or await waiting_for_the_claim_lock(db)):
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.01)
        second = await asyncio.wait_for(racing, timeout=10)
    finally:
        await other_process.dispose()
    # Chat 701 is "a"'s: "b" takes only the other chat, not 701's second update.
    assert [u.update_id for u in second] == [3]
