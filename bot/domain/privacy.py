"""A customer's own data: all of it as plain data (/mydata), and erasing it (/forget)."""

from __future__ import annotations

from typing import Any

from bot.core.services import Services
from storage.customers import get_customer_by_telegram_id
from storage.privacy import StaffTopic, erase_chat_copies, export_customer_data, forget_customer


async def customer_data(services: Services, telegram_user_id: int) -> dict[str, Any]:
    """Every row about the customer (``{"customer": None}`` for someone never seen)."""
    async with services.db.read() as session:
        customer = await get_customer_by_telegram_id(
            session=session, telegram_user_id=telegram_user_id
        )
        if customer is None:
            return {"customer": None}
        return await export_customer_data(
            session=session, customer=customer, show_staff_names=services.settings.show_staff_names
        )


async def forget(services: Services, telegram_user_id: int, update_id: int) -> list[StaffTopic]:
    """Erase the customer's data everywhere; the staff topics of their tickets, to rename."""
    async with services.db.session() as session:
        customer = await get_customer_by_telegram_id(
            session=session, telegram_user_id=telegram_user_id
        )
        if customer is None:
            return []
        return await forget_customer(
            session=session, customer=customer, now=services.clock.now(), update_id=update_id
        )


async def erase_copies(services: Services, chat_id: int) -> None:
    """What was sent to a forgotten customer's chat since (the confirmation) goes too."""
    async with services.db.session() as session:
        await erase_chat_copies(session=session, chat_id=chat_id)
