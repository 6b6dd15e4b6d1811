"""insert_ids: many rows in one INSERT, each given back its own id, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlmodel import select

from storage.bulk import insert_ids
from storage.db import Database
from storage.models import OutboxMessage

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _row(chat_id: int, payload: str, key: str | None = None) -> dict[str, Any]:
    return {
        "method": "sendMessage",
        "chat_id": chat_id,
        "payload": payload,
        "dedupe_key": key,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": NOW,
        "created_at": NOW,
    }


async def _stored(db: Database) -> dict[int, tuple[int, str]]:
    async with db.session() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    return {row.id: (row.chat_id, row.payload) for row in rows if row.id is not None}


async def _insert_counting(db: Database, rows: list[dict[str, Any]]) -> tuple[list[int], int]:
    """The ids, and how many INSERT statements reached the driver."""
    statements = 0

    def count(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        nonlocal statements
        statements += statement.lstrip().upper().startswith("INSERT")

    sync_engine = db.engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", count)
    try:
        async with db.session() as session:
            table = OutboxMessage.__table__  # type: ignore[attr-defined]
            ids = await insert_ids(
                await session.connection(), table, rows, key=("chat_id", "payload")
            )
            await session.commit()
    finally:
        event.remove(sync_engine, "before_cursor_execute", count)
    return ids, statements


async def test_each_row_gets_its_own_id_in_one_statement(db: Database) -> None:
    # Chats in no particular order, so that ids in insertion order would not match by luck.
    chats = [905, 17, 300, 42, 8, 611, 77, 1000, 3, 256]
    rows = [_row(chat, f'{{"text":"hello {chat}"}}') for chat in chats]

    ids, statements = await _insert_counting(db, rows)

    assert statements == 1
    assert len(set(ids)) == len(rows)
    stored = await _stored(db)
    assert [stored[i] for i in ids] == [(r["chat_id"], r["payload"]) for r in rows]


async def test_rows_that_share_a_key_still_get_their_own_ids(db: Database) -> None:
    rows = [_row(5, '{"text":"same"}'), _row(6, '{"text":"other"}'), _row(5, '{"text":"same"}')]

    ids, _ = await _insert_counting(db, rows)

    assert len(set(ids)) == 3
    stored = await _stored(db)
    assert [stored[i] for i in ids] == [(r["chat_id"], r["payload"]) for r in rows]
    assert ids[0] < ids[2]  # in parameter order


async def test_nothing_to_insert(db: Database) -> None:
    assert await _insert_counting(db, []) == ([], 0)
