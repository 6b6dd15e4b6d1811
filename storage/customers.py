"""Customers: found or created by their Telegram user id."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Customer


async def upsert_customer(
    *,
    session: AsyncSession,
    telegram_user_id: int,
    first_name: str | None,
    last_name: str | None,
    username: str | None,
    language: str,
    now: datetime,
) -> Customer:
    """The customer for this Telegram user, created on first contact, names kept current."""
    customer = await get_customer_by_telegram_id(session=session, telegram_user_id=telegram_user_id)
    if customer is None:
        customer = Customer(
            telegram_user_id=telegram_user_id,
            language=language,
            created_at=now,
            last_seen_at=now,
        )
    customer.first_name = first_name
    customer.last_name = last_name
    customer.username = username
    customer.last_seen_at = now
    customer.unreachable = False
    session.add(customer)
    await session.flush()
    return customer


async def get_customer_by_telegram_id(
    *, session: AsyncSession, telegram_user_id: int
) -> Customer | None:
    """The customer with this Telegram user id, if any."""
    result = await session.exec(
        select(Customer).where(Customer.telegram_user_id == telegram_user_id)
    )
    return result.first()


async def get_customer(*, session: AsyncSession, customer_id: int) -> Customer | None:
    """The customer with this id, if any."""
    return await session.get(Customer, customer_id)


async def mark_unreachable(*, session: AsyncSession, customer_id: int) -> None:
    """The customer blocked the bot: stop trying to write to them until they write again."""
    customer = await session.get(Customer, customer_id)
    if customer is not None:
        customer.unreachable = True
        session.add(customer)
