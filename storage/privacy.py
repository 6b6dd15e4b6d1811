"""A customer's data: everything stored about them, and erasing it while counts survive."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Customer,
    Feedback,
    Idea,
    IdeaComment,
    MessageAuthor,
    Rating,
    Ticket,
    TicketMessage,
    Vote,
)

ERASED = ""


async def export_customer_data(*, session: AsyncSession, customer: Customer) -> dict[str, Any]:
    """Every row about the customer, as plain data (for /mydata)."""
    cid = customer.id

    async def rows(model: type[SQLModel], *where: Any) -> list[dict[str, Any]]:
        result = await session.exec(select(model).where(*where))
        return [_plain(row) for row in result.all()]

    tickets = await rows(Ticket, col(Ticket.customer_id) == cid)
    ticket_ids = [t["id"] for t in tickets]
    return {
        "customer": _plain(customer),
        "messages": await rows(Feedback, col(Feedback.customer_id) == cid),
        "tickets": tickets,
        "ticket_conversation": await rows(
            TicketMessage,
            col(TicketMessage.ticket_id).in_(ticket_ids),
            col(TicketMessage.author) != MessageAuthor.NOTE,
        ),
        "ratings": await rows(Rating, col(Rating.customer_id) == cid),
        "ideas": await rows(Idea, col(Idea.customer_id) == cid),
        "votes": await rows(Vote, col(Vote.customer_id) == cid),
        "idea_comments": await rows(IdeaComment, col(IdeaComment.customer_id) == cid),
    }


async def forget_customer(*, session: AsyncSession, customer: Customer, now: datetime) -> None:
    """Erase names, usernames and texts; keep the rows so that counts stay true."""
    cid = customer.id
    customer.first_name = None
    customer.last_name = None
    customer.username = None
    # The Telegram id is personal too; a negative placeholder keeps the column unique and lets
    # the same person start afresh as a new customer.
    customer.telegram_user_id = -(cid or 0)
    customer.forgotten_at = now
    customer.awaiting = None
    session.add(customer)
    await session.exec(
        update(Feedback)
        .where(col(Feedback.customer_id) == cid)
        .values(text=ERASED, media_file_id=None, keywords="")
    )
    tickets = select(Ticket.id).where(col(Ticket.customer_id) == cid).scalar_subquery()
    await session.exec(
        update(TicketMessage).where(col(TicketMessage.ticket_id).in_(tickets)).values(text=ERASED)
    )
    await session.exec(update(Rating).where(col(Rating.customer_id) == cid).values(comment=None))
    await session.exec(
        update(IdeaComment).where(col(IdeaComment.customer_id) == cid).values(text=ERASED)
    )


def _plain(row: SQLModel) -> dict[str, Any]:
    data = row.model_dump()
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in data.items()}
