"""Outbox: every outgoing message is a row until Telegram has it, retried with backoff."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.bulk import insert_ids
from storage.models import Customer, OutboxMessage

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


@dataclass(frozen=True, slots=True)
class Queued:
    """A message to queue: sent at once by whoever queued it."""

    method: str
    chat_id: int
    params: dict[str, Any]
    key: str | None


@dataclass(frozen=True, slots=True)
class QueuedRow:
    """Its row; for a dedupe key seen before, the row as it stands (maybe sent already)."""

    row_id: int
    status: str
    message_id: int | None


async def enqueue_many(
    *, session: AsyncSession, messages: Sequence[Queued], now: datetime, lease: timedelta
) -> list[QueuedRow]:
    """New rows, already claimed by the caller who is about to send them (two statements for
    any number). A message whose dedupe key is queued already is not queued again: its row
    is returned as it stands."""
    keys = [m.key for m in messages if m.key is not None]
    known: dict[str, QueuedRow] = {}
    if keys:
        existing = await session.exec(
            select(
                OutboxMessage.dedupe_key,
                OutboxMessage.id,
                OutboxMessage.status,
                OutboxMessage.result_message_id,
            ).where(col(OutboxMessage.dedupe_key).in_(keys))
        )
        for key, row_id, status, message_id in existing.all():
            assert key is not None and row_id is not None
            known[key] = QueuedRow(row_id, status, message_id)
    new = [m for m in messages if m.key is None or m.key not in known]
    if new:
        table = OutboxMessage.__table__  # type: ignore[attr-defined]
        inserted = await insert_ids(
            await session.connection(),
            table,
            [
                {
                    "method": m.method,
                    "chat_id": m.chat_id,
                    "payload": json.dumps(m.params, ensure_ascii=False, separators=(",", ":")),
                    "dedupe_key": m.key,
                    "status": SENDING,
                    "attempts": 0,
                    "next_attempt_at": now + lease,
                    "created_at": now,
                }
                for m in new
            ],
            key=("chat_id", "dedupe_key", "payload"),
        )
        ids = iter(inserted)
        fresh = {id(m): QueuedRow(next(ids), SENDING, None) for m in new}
    else:
        fresh = {}
    return [
        known[m.key] if m.key is not None and m.key in known else fresh[id(m)] for m in messages
    ]


async def mark_sent_many(
    *, session: AsyncSession, sent: Sequence[tuple[int, int | None]], now: datetime
) -> None:
    """Telegram has them: (row id, Telegram message id) pairs, in one statement."""
    if not sent:
        return
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    connection = await session.connection()
    await connection.execute(
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(
            status=SENT,
            sent_at=now,
            result_message_id=bindparam("message_id"),
            attempts=table.c.attempts + 1,
        ),
        [{"row_id": row_id, "message_id": message_id} for row_id, message_id in sent],
    )


async def claim(*, session: AsyncSession, row_id: int, now: datetime, lease: timedelta) -> bool:
    """Take a row that is due (or whose sender's lease ran out) for sending."""
    result = await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == row_id,
            col(OutboxMessage.status).in_([PENDING, SENDING]),
            col(OutboxMessage.next_attempt_at) <= now,
        )
        .values(status=SENDING, next_attempt_at=now + lease)
    )
    return bool(result.rowcount)


async def due(*, session: AsyncSession, now: datetime, limit: int = 50) -> list[OutboxMessage]:
    """Rows to (re)send now, oldest first."""
    rows = await session.exec(
        select(OutboxMessage)
        .where(
            col(OutboxMessage.status).in_([PENDING, SENDING]),
            col(OutboxMessage.next_attempt_at) <= now,
        )
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    return list(rows.all())


async def mark_retry(*, session: AsyncSession, row_id: int, error: str, at: datetime) -> None:
    """A transient failure: try again at `at`."""
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == row_id)
        .values(
            status=PENDING,
            next_attempt_at=at,
            last_error=error[:500],
            attempts=OutboxMessage.attempts + 1,
        )
    )


async def mark_failed(*, session: AsyncSession, row_id: int, error: str) -> None:
    """A permanent failure: never retried."""
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == row_id)
        .values(status=FAILED, last_error=error[:500], attempts=OutboxMessage.attempts + 1)
    )


async def mark_chat_unreachable(*, session: AsyncSession, chat_id: int) -> None:
    """The customer behind this private chat blocked the bot."""
    await session.exec(
        update(Customer).where(col(Customer.telegram_user_id) == chat_id).values(unreachable=True)
    )


async def queue_many(*, session: AsyncSession, messages: Sequence[Queued], now: datetime) -> int:
    """Rows for the outbox worker to send from now on (a broadcast to many customers): a
    message whose dedupe key is queued already is not queued again. How many were new."""
    keys = [m.key for m in messages if m.key is not None]
    known: set[str] = set()
    if keys:
        existing = await session.exec(
            select(OutboxMessage.dedupe_key).where(col(OutboxMessage.dedupe_key).in_(keys))
        )
        known = {key for key in existing.all() if key is not None}
    new = [m for m in messages if m.key is None or m.key not in known]
    if new:
        table = OutboxMessage.__table__  # type: ignore[attr-defined]
        connection = await session.connection()
        await connection.execute(
            insert(table),
            [
                {
                    "method": m.method,
                    "chat_id": m.chat_id,
                    "payload": json.dumps(m.params, ensure_ascii=False, separators=(",", ":")),
                    "dedupe_key": m.key,
                    "status": PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
                for m in new
            ],
        )
    return len(new)


async def renew(*, session: AsyncSession, row_ids: Sequence[int], until: datetime) -> None:
    """The sender of these rows lives: their lease lasts until `until`."""
    if row_ids:
        await session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(list(row_ids)), col(OutboxMessage.status) == SENDING)
            .values(next_attempt_at=until)
        )

