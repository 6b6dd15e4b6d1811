"""Staff reopen a customer's resolved ticket in one process while the customer's new message
opens a ticket in another: they take turns on the customer's row, and the customer ends with
one open ticket. Without that, the second to commit was refused by the one-open-ticket index
(seen with two real `web` processes: the customer's message became a dead letter, never
acknowledged)."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from sqlalchemy import func, text
from sqlmodel import col, select

from storage.db import Database
from storage.models import Customer, Ticket, TicketStatus
from storage.ticket_batches import NewTicket, open_tickets, open_tickets_of
from storage.tickets import get_ticket, reopen_ticket
from tests.support import uses_postgres

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
T = TypeVar("T")

pytestmark = pytest.mark.skipif(
    not uses_postgres(),
    reason="needs two transactions open at once, which SQLite's single writer does not allow "
    "in one test; tests/intake/test_scale_out.py runs reopens beside new messages on SQLite",
)


async def resolved_ticket(db: Database) -> tuple[int, int]:
    """A customer and their resolved ticket."""
    async with db.session() as session:
        customer = Customer(telegram_user_id=700001, created_at=NOW, last_seen_at=NOW)
        session.add(customer)
        await session.flush()
        assert customer.id is not None
        ticket = Ticket(
            customer_id=customer.id,
            status=TicketStatus.RESOLVED,
            topic="internet",
            sentiment="negative",
            language="en",
            opened_at=NOW - timedelta(hours=2),
            resolved_at=NOW - timedelta(hours=1),
        )
        session.add(ticket)
        await session.flush()
        assert ticket.id is not None
        return customer.id, ticket.id


def new_ticket(customer_id: int) -> NewTicket:
    return NewTicket(
        customer_id=customer_id,
        topic="internet",
        sentiment="negative",
        priority="normal",
        language="en",
        opened_at=NOW,
        staff_pending_since=NOW,
        incident_id=None,
    )


async def someone_waits_for_a_lock(db: Database) -> bool:
    async with db.engine.connect() as conn:
        waiting = await conn.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
        return bool(waiting.scalar())


async def while_held(db: Database, other: Awaitable[T]) -> asyncio.Task[T]:
    """Start `other` in its own task and return once it finished or waits for a lock."""
    racing = asyncio.create_task(other, context=contextvars.Context())  # type: ignore[arg-type]
    deadline = asyncio.get_running_loop().time() + 10
    while not (racing.done() or await someone_waits_for_a_lock(db)):
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    return racing


async def open_count(db: Database, customer_id: int) -> int:
    async with db.read() as session:
        result = await session.exec(
            select(func.count())
            .select_from(Ticket)
            .where(col(Ticket.customer_id) == customer_id, Ticket.status == TicketStatus.OPEN)
        )
        return int(result.one())


async def test_a_reopen_racing_a_new_ticket_gives_way_to_it(db: Database) -> None:
    customer_id, old_id = await resolved_ticket(db)
    elsewhere = Database(db.url)

    async def reopen_elsewhere() -> bool:
        async with elsewhere.session() as session:
            ticket = await get_ticket(session=session, ticket_id=old_id)
            assert ticket is not None
            return await reopen_ticket(session=session, ticket=ticket, now=NOW)

    try:
        async with db.session() as session:  # the intake: no open ticket, so it opens one
            assert await open_tickets_of(session=session, customer_ids=[customer_id]) == {}
            [new_id] = await open_tickets(session=session, rows=[new_ticket(customer_id)])
            racing = await while_held(db, reopen_elsewhere())
        reopened = await asyncio.wait_for(racing, timeout=10)
    finally:
        await elsewhere.dispose()
    assert reopened is False  # the customer's new ticket goes on
    assert await open_count(db, customer_id) == 1
    async with db.read() as session:
        assert (await session.get(Ticket, new_id)) is not None


async def test_a_new_message_racing_a_reopen_joins_the_reopened_ticket(db: Database) -> None:
    customer_id, old_id = await resolved_ticket(db)
    elsewhere = Database(db.url)

    async def intake_elsewhere() -> dict[int, Ticket]:
        async with elsewhere.session() as session:
            return await open_tickets_of(session=session, customer_ids=[customer_id])

    try:
        async with db.session() as session:  # staff press Reopen
            ticket = await get_ticket(session=session, ticket_id=old_id)
            assert ticket is not None
            assert await reopen_ticket(session=session, ticket=ticket, now=NOW)
            racing = await while_held(db, intake_elsewhere())
        existing = await asyncio.wait_for(racing, timeout=10)
    finally:
        await elsewhere.dispose()
    # The intake sees the reopened ticket and joins it instead of opening a second one.
    assert existing[customer_id].id == old_id
    assert await open_count(db, customer_id) == 1
