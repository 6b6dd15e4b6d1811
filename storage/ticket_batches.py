"""Care requests routed many at once: each customer's open ticket read in one query, tickets
opened and their messages added in one statement each (no ORM objects)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.bulk import insert_ids
from storage.models import Customer, MessageAuthor, Ticket, TicketMessage, TicketStatus


async def open_tickets_of(*, session: AsyncSession, customer_ids: list[int]) -> dict[int, Ticket]:
    """Each customer's most recent open ticket, for many customers in one query.

    The customers' rows are locked first (in id order), as storage.tickets.reopen_ticket locks
    its customer's: a ticket reopened in another process meanwhile is seen here, and joined,
    rather than a second open ticket refused by the database."""
    if not customer_ids:
        return {}
    await session.exec(
        select(Customer.id)
        .where(col(Customer.id).in_(customer_ids))
        .order_by(col(Customer.id))
        .with_for_update()
    )
    rows = await session.exec(
        select(Ticket)
        .where(col(Ticket.customer_id).in_(customer_ids), Ticket.status == TicketStatus.OPEN)
        .order_by(col(Ticket.opened_at), col(Ticket.id))
    )
    return {ticket.customer_id: ticket for ticket in rows.all()}  # the newest wins


@dataclass(frozen=True, slots=True)
class NewTicket:
    """A ticket to open in a batch (no ORM object: many at once are one INSERT)."""

    customer_id: int
    topic: str
    sentiment: str
    priority: str
    language: str
    opened_at: datetime
    # Waiting for its card (the staff courier posts it); None when an incident speaks for it.
    staff_pending_since: datetime | None
    incident_id: int | None


@dataclass(frozen=True, slots=True)
class NewTicketMessage:
    """A customer's message joining a ticket, in a batch."""

    ticket_id: int
    feedback_id: int
    text: str
    created_at: datetime
    staff_due_at: datetime | None


async def open_tickets(*, session: AsyncSession, rows: Sequence[NewTicket]) -> list[int]:
    """Open many tickets, at most one per customer, in one statement; their ids, in order."""
    table = Ticket.__table__  # type: ignore[attr-defined]
    return await insert_ids(
        await session.connection(),
        table,
        [
            {name: getattr(row, name) for name in NewTicket.__slots__}
            | {"status": TicketStatus.OPEN.value, "reopened_count": 0}
            for row in rows
        ],
        key=("customer_id",),
    )


async def add_customer_messages(
    *, session: AsyncSession, rows: Sequence[NewTicketMessage]
) -> list[int]:
    """Add many customers' messages to their tickets in one statement; their ids, in order."""
    table = TicketMessage.__table__  # type: ignore[attr-defined]
    return await insert_ids(
        await session.connection(),
        table,
        [
            {name: getattr(row, name) for name in NewTicketMessage.__slots__}
            | {"author": MessageAuthor.CUSTOMER.value}
            for row in rows
        ],
        key=("feedback_id",),
    )
