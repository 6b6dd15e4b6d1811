"""Outbox: every outgoing Bot API call is a row until Telegram has it, retried with backoff.

A row holds the method and its parameters (files included, until Telegram has them) and,
once made, what Telegram returned (its ids): a call made again under the same dedupe key
is answered from the row instead of being made twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, func, insert, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.bulk import insert_ids
from storage.models import Customer, OutboxMessage

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
# Calls that carry a file: once Telegram has it, the row keeps only its outcome (as
# storage.retention.PRUNED does: still valid JSON).
UPLOADS = ("sendDocument", "sendPhoto")
_NO_PAYLOAD = "{}"
SUPERSEDED = "superseded by a newer call on the same target"


@dataclass(frozen=True, slots=True)
class Queued:
    """A message to queue: sent at once by whoever queued it."""

    method: str
    chat_id: int
    params: dict[str, Any]
    key: str | None
    # What the call changes: older rows on the same target still waiting are superseded.
    target: str | None = None


@dataclass(frozen=True, slots=True)
class QueuedRow:
    """Its row; for a dedupe key seen before, the row as it stands (maybe sent already):
    `new` tells them apart, and a known row comes with its stored parameters and result."""

    row_id: int
    status: str
    message_id: int | None
    new: bool = True
    attempts: int = 0
    params: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    # When the call was first queued: a call waiting for Telegram's pace goes in this order.
    created_at: datetime | None = None


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
            select(OutboxMessage).where(col(OutboxMessage.dedupe_key).in_(keys))
        )
        for row in existing.all():
            assert row.dedupe_key is not None
            known[row.dedupe_key] = _as_queued(row)
    new = [m for m in messages if m.key is None or m.key not in known]
    await _supersede(session, [m for m in new if m.target is not None])
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
                    "target": m.target,
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
        fresh = {id(m): QueuedRow(next(ids), SENDING, None, created_at=now) for m in new}
    else:
        fresh = {}
    return [
        known[m.key] if m.key is not None and m.key in known else fresh[id(m)] for m in messages
    ]


async def _supersede(session: AsyncSession, messages: Sequence[Queued]) -> None:
    """Older calls on these targets that still wait (a retry, or a dead process's lease) are
    not made any more: the newer one says what the target must become."""
    for message in messages:
        await session.exec(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.target) == message.target,
                col(OutboxMessage.status).in_([PENDING, SENDING]),
            )
            .values(status=FAILED, last_error=SUPERSEDED)
        )


def encode_result(result: dict[str, Any]) -> str:
    """A call's result as stored: compact JSON of its ids."""
    return json.dumps(result, separators=(",", ":"), sort_keys=True)


async def mark_sent_many(
    *,
    session: AsyncSession,
    sent: Sequence[tuple[int, dict[str, Any]]],
    now: datetime,
) -> None:
    """Telegram has them: (row id, the ids Telegram returned) pairs, in one statement. A
    file's bytes go with it: a call made again under its key is answered from the row."""
    if not sent:
        return
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    # No IN (…): an expanding list cannot go into one statement run for many rows.
    upload = or_(*(table.c.method == method for method in UPLOADS))
    connection = await session.connection()
    await connection.execute(
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(
            status=SENT,
            sent_at=now,
            result_message_id=bindparam("message_id"),
            result=bindparam("result"),
            attempts=table.c.attempts + 1,
            payload=case((upload, _NO_PAYLOAD), else_=table.c.payload),
            # Pruned as the retention prunes: a private chat's id (the person) goes with it.
            chat_id=case((upload & (table.c.chat_id > 0), 0), else_=table.c.chat_id),
        ),
        [
            {
                "row_id": row_id,
                "message_id": result.get("message_id"),
                "result": encode_result(result),
            }
            for row_id, result in sent
        ],
    )


async def recorded(*, session: AsyncSession, key: str) -> QueuedRow | None:
    """The row of a dedupe key as it stands, if any."""
    row = (
        await session.exec(select(OutboxMessage).where(col(OutboxMessage.dedupe_key) == key))
    ).first()
    return None if row is None else _as_queued(row)


def _as_queued(row: OutboxMessage) -> QueuedRow:
    assert row.id is not None
    return QueuedRow(
        row.id,
        row.status,
        row.result_message_id,
        new=False,
        attempts=row.attempts,
        params=json.loads(row.payload),
        result=json.loads(row.result) if row.result else None,
        created_at=row.created_at,
    )


async def release_key(*, session: AsyncSession, key: str) -> None:
    """What the call under this key made is gone (a deleted topic): the key is free for a
    new call, and the old row keeps its outcome under a key of its own."""
    row = (
        await session.exec(select(OutboxMessage).where(col(OutboxMessage.dedupe_key) == key))
    ).first()
    if row is not None:
        row.dedupe_key = f"{key}~{row.id}"[:128]
        session.add(row)


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
    """A transient failure: try again at `at` (unless, meanwhile, the row was superseded or
    erased: then it stays failed)."""
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == row_id, col(OutboxMessage.status) == SENDING)
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
    await _supersede(session, [m for m in new if m.target is not None])
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
                    "target": m.target,
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


async def waiting_count(*, session: AsyncSession) -> int:
    """How many outgoing calls wait to be made (or are being made)."""
    return (
        await session.exec(
            select(func.count())
            .select_from(OutboxMessage)
            .where(col(OutboxMessage.status).in_([PENDING, SENDING]))
        )
    ).one()
