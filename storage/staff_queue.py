"""Tickets waiting for their staff card while a staff chat is at Telegram's limit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Customer, Feedback, OutboxMessage, Ticket, TicketMessage


async def sends_since(*, session: AsyncSession, chat_id: int, since: datetime) -> int:
    """Calls to a chat since a moment, against its limit: messages queued for it, and the forum
    topics opened for tickets (opening a topic is a call Telegram counts too)."""
    messages = (
        await session.exec(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.chat_id == chat_id, col(OutboxMessage.created_at) >= since)
        )
    ).one()
    topics = (
        await session.exec(
            select(func.count())
            .select_from(Ticket)
            .where(
                Ticket.staff_chat_id == chat_id,
                col(Ticket.staff_thread_id).is_not(None),
                col(Ticket.opened_at) >= since,
            )
        )
    ).one()
    return int(messages) + int(topics)


async def pending_tickets(*, session: AsyncSession) -> list[Ticket]:
    """Tickets still waiting for their card, oldest first."""
    rows = await session.exec(
        select(Ticket)
        .where(col(Ticket.staff_pending_since).is_not(None))
        .order_by(col(Ticket.opened_at), col(Ticket.id))
    )
    return list(rows.all())


async def conversation(
    *, session: AsyncSession, ticket_id: int
) -> tuple[Customer, Feedback, list[str]] | None:
    """The ticket's customer, its first feedback and what the customer wrote so far."""
    first = (
        await session.exec(
            select(Feedback).where(Feedback.ticket_id == ticket_id).order_by(col(Feedback.id))
        )
    ).first()
    if first is None:
        return None
    customer = await session.get(Customer, first.customer_id)
    if customer is None:
        return None
    texts = (
        await session.exec(
            select(TicketMessage.text)
            .where(TicketMessage.ticket_id == ticket_id, TicketMessage.author == "customer")
            .order_by(col(TicketMessage.id))
        )
    ).all()
    return customer, first, [t for t in texts if t]
