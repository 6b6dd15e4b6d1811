"""Feedback: every inbound customer message with its triage result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, case, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.bulk import insert_ids
from storage.models import Feedback


async def find_feedback_by_message(
    *, session: AsyncSession, chat_id: int, message_id: int
) -> Feedback | None:
    """The feedback stored for a Telegram message."""
    result = await session.exec(
        select(Feedback).where(Feedback.chat_id == chat_id, Feedback.message_id == message_id)
    )
    return result.first()


@dataclass(frozen=True, slots=True)
class NewFeedback:
    """A customer's message as it was triaged, to store with insert_feedback."""

    customer_id: int
    chat_id: int
    message_id: int
    text: str
    media_type: str | None
    media_file_id: str | None
    kind: str
    confidence: float
    sentiment: str
    topic: str
    language: str
    keywords: str
    created_at: datetime
    held_for: str | None
    routed_at: datetime | None


_NEW_FEEDBACK_FIELDS = NewFeedback.__slots__


async def insert_feedback(*, session: AsyncSession, rows: Sequence[NewFeedback]) -> list[int]:
    """Store many messages in one statement; their ids, in order. (No ORM objects: load one
    with session.get() to change it.)"""
    if not rows:
        return []
    table = Feedback.__table__  # type: ignore[attr-defined]
    return await insert_ids(
        await session.connection(),
        table,
        [
            {name: getattr(row, name) for name in _NEW_FEEDBACK_FIELDS}
            | {"keywords": row.keywords[:512]}
            for row in rows
        ],
        key=("chat_id", "message_id"),
    )


async def find_feedback_by_messages(
    *, session: AsyncSession, messages: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], Feedback]:
    """The feedback stored for any of these (chat id, message id) Telegram messages."""
    if not messages:
        return {}
    wanted = set(messages)
    result = await session.exec(
        select(Feedback).where(
            col(Feedback.chat_id).in_({chat for chat, _ in wanted}),
            col(Feedback.message_id).in_({message for _, message in wanted}),
        )
    )
    found = {(f.chat_id, f.message_id): f for f in result.all()}
    return {where: feedback for where, feedback in found.items() if where in wanted}


async def recent_activity(
    *, session: AsyncSession, customer_ids: Sequence[int], since: datetime, held_for: str
) -> dict[int, tuple[int, bool]]:
    """For each customer with messages since then: how many, and whether any is held for
    that reason."""
    if not customer_ids:
        return {}
    rows = await session.exec(
        select(
            col(Feedback.customer_id),
            func.count(),
            func.count(case((col(Feedback.held_for) == held_for, 1))),
        )
        .where(col(Feedback.customer_id).in_(set(customer_ids)), col(Feedback.created_at) >= since)
        .group_by(col(Feedback.customer_id))
    )
    return {int(customer): (int(count), bool(held)) for customer, count, held in rows.all()}


async def get_feedback(*, session: AsyncSession, feedback_id: int) -> Feedback | None:
    """A stored message by its id."""
    return await session.get(Feedback, feedback_id)


async def mark_routed(
    *, session: AsyncSession, feedback: Feedback, now: datetime, idea_id: int | None = None
) -> None:
    """The message went where it belongs (and, given ``idea_id``, became or joined that idea);
    it is held no longer. Flushed, so a bulk statement after it sees it (route_to_tickets)."""
    feedback.routed_at = now
    feedback.held_for = None
    if idea_id is not None:
        feedback.idea_id = idea_id
    session.add(feedback)
    await session.flush()


async def hold_feedback(*, session: AsyncSession, feedback: Feedback, held_for: str) -> None:
    """The message waits, not routed, for the reason ``held_for`` names."""
    feedback.routed_at = None
    feedback.held_for = held_for
    session.add(feedback)


async def mark_edited(
    *, session: AsyncSession, feedback: Feedback, text: str, now: datetime
) -> None:
    """The customer edited their message: keep the new text."""
    feedback.text = text
    feedback.edited_at = now
    session.add(feedback)


async def route_to_tickets(
    *, session: AsyncSession, routed: Sequence[tuple[int, int]], now: datetime
) -> None:
    """(feedback id, ticket id) pairs: each message now belongs to its ticket, in one
    statement for all of them."""
    if not routed:
        return
    table = Feedback.__table__  # type: ignore[attr-defined]
    connection = await session.connection()
    await connection.execute(
        update(table)
        .where(table.c.id == bindparam("feedback_id"))
        .values(ticket_id=bindparam("ticket_id"), routed_at=now),
        [{"feedback_id": f, "ticket_id": t} for f, t in routed],
    )


async def held_after_quiet(
    *, session: AsyncSession, held_for: str, quiet_since: datetime
) -> list[Feedback]:
    """Messages held for this reason and not routed yet, of customers who have written nothing
    since ``quiet_since``; by customer, then in the order they came."""
    latest = (
        select(Feedback.customer_id, func.max(Feedback.created_at).label("last"))
        .group_by(col(Feedback.customer_id))
        .subquery()
    )
    rows = await session.exec(
        select(Feedback)
        .join(latest, col(latest.c.customer_id) == col(Feedback.customer_id))
        .where(
            Feedback.held_for == held_for,
            col(Feedback.routed_at).is_(None),
            latest.c.last < quiet_since,
        )
        .order_by(col(Feedback.customer_id), col(Feedback.id))
    )
    return list(rows.all())


async def first_feedback_of_ticket(*, session: AsyncSession, ticket_id: int) -> int | None:
    """The id of the message that opened a ticket."""
    return (
        await session.exec(select(func.min(Feedback.id)).where(Feedback.ticket_id == ticket_id))
    ).one()


async def lock_feedback(*, session: AsyncSession, feedback_id: int) -> Feedback | None:
    """A stored message, locked until the transaction ends (on PostgreSQL; SQLite has one
    writer anyway): two presses of one button cannot both act on it."""
    result = await session.exec(
        select(Feedback).where(Feedback.id == feedback_id).with_for_update()
    )
    return result.first()
