"""What waits to be shown to staff: tickets waiting for their card, customers' messages not
yet posted, and which process posts to a staff chat now."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ChatLease, Customer, Feedback, OutboxMessage, Ticket, TicketMessage


async def sends_since(*, session: AsyncSession, chat_id: int, since: datetime) -> int:
    """Calls to a chat since a moment, against its limit: every call is an outbox row (its
    messages, the forum topics opened in it, the cards redrawn), made or still waiting."""
    calls = (
        await session.exec(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.chat_id == chat_id, col(OutboxMessage.created_at) >= since)
        )
    ).one()
    return int(calls)


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
) -> tuple[Customer, Feedback, list[str], int | None] | None:
    """The ticket's customer, its first feedback, what the customer wrote so far and the id of
    the last of those messages."""
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
    said = (
        await session.exec(
            select(TicketMessage.id, TicketMessage.text)
            .where(TicketMessage.ticket_id == ticket_id, TicketMessage.author == "customer")
            .order_by(col(TicketMessage.id))
        )
    ).all()
    last = said[-1][0] if said else None
    return customer, first, [text for _, text in said if text], last


async def take_chat_turn(
    *, session: AsyncSession, chat_id: int, owner: str, now: datetime, until: datetime
) -> bool:
    """Hold a staff chat for posting until `until`, unless another live process holds it.

    One conditional upsert: two processes racing for a chat cannot both win it."""
    table = ChatLease.__table__  # type: ignore[attr-defined]
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    upsert = insert(table).values(chat_id=chat_id, owner=owner, until=until)
    statement = upsert.on_conflict_do_update(
        index_elements=["chat_id"],
        set_={"owner": owner, "until": until},
        where=(table.c.until < now) | (table.c.owner == owner),
    ).returning(table.c.chat_id)
    connection = await session.connection()
    return (await connection.execute(statement)).first() is not None


async def give_chat_turn_back(*, session: AsyncSession, chat_id: int, owner: str) -> None:
    """Done posting for now: any process may take the chat next."""
    table = ChatLease.__table__  # type: ignore[attr-defined]
    connection = await session.connection()
    await connection.execute(
        delete(table).where(table.c.chat_id == chat_id, table.c.owner == owner)
    )


async def due_follow_ups(
    *, session: AsyncSession, limit: int = 500
) -> list[tuple[Ticket, TicketMessage]]:
    """Customer messages staff have not been shown yet, by ticket, oldest first."""
    rows = await session.exec(
        select(Ticket, TicketMessage)
        .join(TicketMessage, col(TicketMessage.ticket_id) == col(Ticket.id))
        .where(col(TicketMessage.staff_due_at).is_not(None))
        .order_by(col(TicketMessage.ticket_id), col(TicketMessage.id))
        .limit(limit)
    )
    return [(ticket, message) for ticket, message in rows.all()]


async def clear_due(*, session: AsyncSession, message_ids: Sequence[int]) -> None:
    """These messages have been shown to staff (or are shown with their card)."""
    if message_ids:
        await session.exec(
            update(TicketMessage)
            .where(col(TicketMessage.id).in_(list(message_ids)))
            .values(staff_due_at=None)
        )


async def card_shown(
    *, session: AsyncSession, ticket_id: int, shown_up_to: int | None, now: datetime
) -> None:
    """The ticket's card is up: it no longer waits, and the customer's messages it carries
    are shown; any written while it was being drawn are due next."""
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        return
    ticket.staff_pending_since = None
    session.add(ticket)
    later = col(TicketMessage.author) == "customer"
    await session.exec(
        update(TicketMessage)
        .where(col(TicketMessage.ticket_id) == ticket_id, later)
        .where(col(TicketMessage.id) > (shown_up_to or 0))
        .values(staff_due_at=now)
    )
    await session.exec(
        update(TicketMessage)
        .where(col(TicketMessage.ticket_id) == ticket_id, later)
        .where(col(TicketMessage.id) <= (shown_up_to or 0))
        .values(staff_due_at=None)
    )


async def customer_message_ids(*, session: AsyncSession, ticket_id: int) -> list[int]:
    """The ids of the customer's messages in a ticket, oldest first."""
    rows = await session.exec(
        select(TicketMessage.id)
        .where(TicketMessage.ticket_id == ticket_id, TicketMessage.author == "customer")
        .order_by(col(TicketMessage.id))
    )
    return [int(i) for i in rows.all() if i is not None]


async def digest_entries(
    *, session: AsyncSession, ticket_ids: Sequence[int]
) -> dict[int, tuple[Customer, str]]:
    """For each ticket, its customer and the first thing they wrote: one query for them all
    (a backlog digest may list thousands)."""
    if not ticket_ids:
        return {}
    first = (
        select(Feedback.ticket_id, func.min(Feedback.id).label("first_id"))
        .where(col(Feedback.ticket_id).in_(list(ticket_ids)))
        .group_by(col(Feedback.ticket_id))
        .subquery()
    )
    rows = await session.exec(
        select(first.c.ticket_id, Feedback.text, Customer)
        .join(Feedback, col(Feedback.id) == first.c.first_id)
        .join(Customer, col(Customer.id) == col(Feedback.customer_id))
    )
    return {int(ticket_id): (customer, text) for ticket_id, text, customer in rows.all()}


async def mark_digested(*, session: AsyncSession, ticket_ids: Sequence[int], now: datetime) -> None:
    """These tickets were announced in a digest: not again."""
    if ticket_ids:
        await session.exec(
            update(Ticket).where(col(Ticket.id).in_(list(ticket_ids))).values(staff_digested_at=now)
        )


async def follow_up_feedback(
    *, session: AsyncSession, messages: Sequence[TicketMessage]
) -> list[Feedback | None]:
    """The feedback each of these customer messages came as (its media is copied for staff)."""
    return [await session.get(Feedback, m.feedback_id) if m.feedback_id else None for m in messages]


async def await_new_card(*, session: AsyncSession, ticket_id: int, now: datetime) -> bool:
    """The ticket's topic was deleted: it waits for a new card, in a new topic. False when
    there is no such ticket."""
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        return False
    ticket.staff_thread_id = None
    ticket.staff_card_message_id = None
    ticket.staff_pending_since = now
    session.add(ticket)
    return True
