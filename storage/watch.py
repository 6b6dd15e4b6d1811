"""What tests and the demo watch the bot by: how many updates it has handled, how many calls
it still has to make, and the rows a demo story looks up (a customer's newest ticket, the
tickets nobody took up, the whole board)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Customer, Idea, InboxUpdate, OutboxMessage, Ticket, TicketStatus


async def handled_count(*, session: AsyncSession, update_ids: Sequence[int]) -> int:
    """How many of these updates are stored and processed."""
    done = await session.exec(
        select(func.count())
        .select_from(InboxUpdate)
        .where(
            col(InboxUpdate.update_id).in_(list(update_ids)),
            col(InboxUpdate.processed_at).is_not(None),
        )
    )
    return int(done.one())


async def calls_pending(*, session: AsyncSession) -> int:
    """Bot API calls in the outbox that wait for their first try."""
    waiting = await session.exec(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
    )
    return int(waiting.one())


async def newest_ticket_of(*, session: AsyncSession, telegram_user_id: int) -> Ticket | None:
    """The newest ticket of the customer with this Telegram id."""
    rows = await session.exec(
        select(Ticket)
        .join(Customer, col(Customer.id) == col(Ticket.customer_id))
        .where(Customer.telegram_user_id == telegram_user_id)
        .order_by(col(Ticket.id).desc())
    )
    return rows.first()


async def untaken_tickets(
    *, session: AsyncSession, opened_before: datetime, limit: int
) -> list[tuple[int, str, str]]:
    """The oldest open tickets outside incidents opened before a moment: their id, and their
    customer's language and first name."""
    rows = await session.exec(
        select(Ticket.id, Customer.language, Customer.first_name)
        .join(Customer, col(Customer.id) == col(Ticket.customer_id))
        .where(
            Ticket.status == TicketStatus.OPEN,
            col(Ticket.incident_id).is_(None),
            col(Ticket.opened_at) < opened_before,
        )
        .order_by(col(Ticket.opened_at))
        .limit(limit)
    )
    return [(int(i or 0), str(lang or "en"), str(name or "")) for i, lang, name in rows.all()]


async def every_idea(*, session: AsyncSession) -> list[Idea]:
    """Every idea, oldest first."""
    return list((await session.exec(select(Idea).order_by(col(Idea.id)))).all())
