"""Customers: found or created by their Telegram user id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
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


@dataclass(frozen=True, slots=True)
class SeenCustomer:
    """A customer as a message of theirs describes them."""

    telegram_user_id: int
    first_name: str | None
    last_name: str | None
    username: str | None
    language: str


async def upsert_customers(
    *, session: AsyncSession, seen: Sequence[SeenCustomer], now: datetime
) -> dict[int, int]:
    """upsert_customer() for many, in one statement: created on first contact (with the
    language given), names and last contact kept current, reachable again. Customer ids by
    Telegram user id."""
    latest = {c.telegram_user_id: c for c in seen}  # one row per customer per statement
    if not latest:
        return {}
    table = Customer.__table__  # type: ignore[attr-defined]
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table)
    upsert = statement.on_conflict_do_update(
        index_elements=[table.c.telegram_user_id],
        set_={
            "first_name": statement.excluded.first_name,
            "last_name": statement.excluded.last_name,
            "username": statement.excluded.username,
            "last_seen_at": statement.excluded.last_seen_at,
            "unreachable": False,
        },
    ).returning(table.c.telegram_user_id, table.c.id)
    # The rows as parameter sets, not a multi-row VALUES: compiled once, not per row count.
    connection = await session.connection()
    rows = await connection.execute(
        upsert,
        [
            {
                "telegram_user_id": c.telegram_user_id,
                "first_name": c.first_name,
                "last_name": c.last_name,
                "username": c.username,
                "language": c.language,
                "created_at": now,
                "last_seen_at": now,
                "unreachable": False,
            }
            for c in latest.values()
        ],
    )
    return {int(user_id): int(customer_id) for user_id, customer_id in rows.all()}


async def customers_awaiting(
    *, session: AsyncSession, telegram_user_ids: Sequence[int], prefix: str
) -> dict[int, Customer]:
    """Those of these customers the bot is waiting on for an answer of this kind."""
    if not telegram_user_ids:
        return {}
    result = await session.exec(
        select(Customer).where(
            col(Customer.telegram_user_id).in_(set(telegram_user_ids)),
            col(Customer.awaiting).startswith(prefix, autoescape=True),
        )
    )
    return {c.telegram_user_id: c for c in result.all()}


async def get_customer(*, session: AsyncSession, customer_id: int) -> Customer | None:
    """The customer with this id, if any."""
    return await session.get(Customer, customer_id)


async def mark_unreachable(*, session: AsyncSession, customer_id: int) -> None:
    """The customer blocked the bot: stop trying to write to them until they write again."""
    customer = await session.get(Customer, customer_id)
    if customer is not None:
        customer.unreachable = True
        session.add(customer)


async def set_awaiting(
    *, session: AsyncSession, customer: Customer, awaiting: str | None, since: datetime | None
) -> None:
    """Remember what answer the bot waits on from the customer, and since when (None: none)."""
    customer.awaiting = awaiting
    customer.awaiting_since = since
    session.add(customer)
