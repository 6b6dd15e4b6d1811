"""Outbox: every outgoing message is a row until Telegram has it, retried with backoff."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Customer, OutboxMessage

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


async def find_by_key(*, session: AsyncSession, key: str) -> OutboxMessage | None:
    """The message queued under a dedupe key, if any."""
    return (
        await session.exec(select(OutboxMessage).where(OutboxMessage.dedupe_key == key))
    ).first()


async def enqueue(
    *,
    session: AsyncSession,
    method: str,
    chat_id: int,
    params: dict[str, Any],
    key: str | None,
    now: datetime,
    lease: timedelta,
) -> OutboxMessage:
    """A new row, already claimed by the caller who is about to send it."""
    row = OutboxMessage(
        method=method,
        chat_id=chat_id,
        payload=json.dumps(params, ensure_ascii=False, separators=(",", ":")),
        dedupe_key=key,
        status=SENDING,
        attempts=0,
        next_attempt_at=now + lease,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


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


async def mark_sent(
    *, session: AsyncSession, row_id: int, message_id: int | None, now: datetime
) -> None:
    """Telegram has it."""
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == row_id)
        .values(
            status=SENT,
            sent_at=now,
            result_message_id=message_id,
            attempts=OutboxMessage.attempts + 1,
        )
    )


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
