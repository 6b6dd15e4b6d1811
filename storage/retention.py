"""Raw copies kept only as long as they are needed: inbox updates and outbox payloads.

An inbox row must keep its update_id and processed_at (so that an update delivered twice is
processed once) and an outbox row its dedupe_key, status and result_message_id (so that an
update processed again does not send twice, and replies find the message they answer). The
raw JSON is only needed until the update is handled or the message delivered; after that it
is a copy of every name and text a customer sent or was sent, which /forget would have to chase.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import DeadLetter, InboxUpdate, OutboxMessage
from storage.outbox import FAILED, SENT

# What a pruned payload becomes: still valid JSON for anything that parses it.
PRUNED = "{}"


@dataclass(frozen=True, slots=True)
class Pruned:
    """How many rows lost their payload."""

    inbox: int
    outbox: int


async def prune_payloads(*, session: AsyncSession, before: datetime) -> Pruned:
    """Drop the payloads of inbox rows processed, and outbox rows sent or failed, before
    `before`; pending rows are never touched. A private chat's id (the customer's Telegram
    id) goes too; a group's id stays, since the staff chat's send rate is counted by it."""
    inbox = await session.exec(
        update(InboxUpdate)
        .where(
            col(InboxUpdate.processed_at).is_not(None),
            col(InboxUpdate.processed_at) < before,
            col(InboxUpdate.payload) != PRUNED,
        )
        .values(payload=PRUNED, chat_id=None)
    )
    finished = func.coalesce(col(OutboxMessage.sent_at), col(OutboxMessage.created_at))
    outbox = await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.status).in_([SENT, FAILED]),
            finished < before,
            col(OutboxMessage.payload) != PRUNED,
        )
        .values(
            payload=PRUNED,
            chat_id=case((col(OutboxMessage.chat_id) > 0, 0), else_=col(OutboxMessage.chat_id)),
        )
    )
    # Dead letters keep their error for operators; the raw update goes with the retention.
    await session.exec(
        update(DeadLetter)
        .where(col(DeadLetter.created_at) < before, col(DeadLetter.payload).is_not(None))
        .values(payload=None)
    )
    return Pruned(inbox=inbox.rowcount or 0, outbox=outbox.rowcount or 0)
