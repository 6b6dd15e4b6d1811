"""Tickets: care cases and their conversation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.labels import STAFF, label_feedback
from storage.models import Customer, Feedback, MessageAuthor, Ticket, TicketMessage, TicketStatus


async def find_open_ticket(*, session: AsyncSession, customer_id: int) -> Ticket | None:
    """The customer's most recent open ticket, if any."""
    result = await session.exec(
        select(Ticket)
        .where(Ticket.customer_id == customer_id, Ticket.status == TicketStatus.OPEN)
        .order_by(col(Ticket.opened_at).desc())
        .limit(1)
    )
    return result.first()


async def open_ticket(
    *,
    session: AsyncSession,
    customer_id: int,
    topic: str,
    sentiment: str,
    priority: str,
    language: str,
    now: datetime,
) -> Ticket:
    """Open a new care case."""
    ticket = Ticket(
        customer_id=customer_id,
        topic=topic,
        sentiment=sentiment,
        priority=priority,
        language=language,
        opened_at=now,
    )
    session.add(ticket)
    await session.flush()
    return ticket


async def add_customer_message(
    *, session: AsyncSession, ticket: Ticket, feedback_id: int, text: str, now: datetime
) -> TicketMessage:
    """Record a customer's message in a ticket's conversation."""
    message = TicketMessage(
        ticket_id=ticket.id or 0,
        author=MessageAuthor.CUSTOMER,
        text=text,
        feedback_id=feedback_id,
        created_at=now,
    )
    session.add(message)
    await session.flush()
    return message


async def attach_staff_card(
    *,
    session: AsyncSession,
    ticket_id: int,
    chat_id: int,
    message_id: int | None,
    thread_id: int | None,
) -> None:
    """Remember where the ticket's card lives in the staff chat."""
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        raise LookupError(f"no ticket {ticket_id}")
    ticket.staff_chat_id = chat_id
    ticket.staff_card_message_id = message_id
    ticket.staff_thread_id = thread_id
    session.add(ticket)


async def median_first_response_seconds(*, session: AsyncSession, since: datetime) -> float | None:
    """Median first-response time of tickets opened since a moment, or None without data."""
    answered = select(Ticket.first_response_seconds).where(
        col(Ticket.first_response_seconds).is_not(None), Ticket.opened_at >= since
    )
    count = (await session.exec(select(func.count()).select_from(answered.subquery()))).one()
    if not count:
        return None
    # Portable median: SQLite has no percentile function, so read the middle row(s) only.
    ordered = answered.order_by(col(Ticket.first_response_seconds))
    middle = list(await session.exec(ordered.offset((count - 1) // 2).limit(2 - count % 2)))
    values = [v for v in middle if v is not None]
    return sum(values) / len(values)


async def get_ticket(*, session: AsyncSession, ticket_id: int) -> Ticket | None:
    """The ticket with this id, if any."""
    return await session.get(Ticket, ticket_id)


async def find_ticket_by_staff_thread(
    *, session: AsyncSession, chat_id: int, thread_id: int
) -> Ticket | None:
    """The ticket whose forum topic this is."""
    result = await session.exec(
        select(Ticket).where(Ticket.staff_chat_id == chat_id, Ticket.staff_thread_id == thread_id)
    )
    return result.first()


async def find_ticket_by_staff_message(
    *, session: AsyncSession, chat_id: int, message_id: int
) -> Ticket | None:
    """The ticket a staff-chat message belongs to: its card, or any message posted for it."""
    result = await session.exec(
        select(Ticket).where(
            Ticket.staff_chat_id == chat_id, Ticket.staff_card_message_id == message_id
        )
    )
    ticket = result.first()
    if ticket is not None:
        return ticket
    result2 = await session.exec(
        select(Ticket)
        .join(TicketMessage, col(TicketMessage.ticket_id) == col(Ticket.id))
        .where(TicketMessage.staff_chat_id == chat_id, TicketMessage.staff_message_id == message_id)
    )
    return result2.first()


async def record_staff_copy(
    *, session: AsyncSession, message_id: int, chat_id: int, staff_message_id: int | None
) -> None:
    """Remember where a customer's message was posted in the staff chat (to edit it later)."""
    message = await session.get(TicketMessage, message_id)
    if message is not None:
        message.staff_chat_id = chat_id
        message.staff_message_id = staff_message_id
        session.add(message)


async def add_staff_message(
    *,
    session: AsyncSession,
    ticket: Ticket,
    author: MessageAuthor,
    author_user_id: int,
    text: str,
    staff_chat_id: int,
    staff_message_id: int,
    now: datetime,
    author_name: str | None = None,
) -> TicketMessage:
    """Record a staff reply or internal note; the first reply sets the first response time."""
    message = TicketMessage(
        ticket_id=ticket.id or 0,
        author=author,
        author_user_id=author_user_id,
        author_name=author_name,
        text=text,
        staff_chat_id=staff_chat_id,
        staff_message_id=staff_message_id,
        created_at=now,
    )
    session.add(message)
    if author == MessageAuthor.STAFF and ticket.first_response_at is None:
        ticket.first_response_at = now
        ticket.first_response_seconds = (now - ticket.opened_at).total_seconds()
        session.add(ticket)
    await session.flush()
    return message


async def set_customer_copy(
    *, session: AsyncSession, message_id: int, customer_message_id: int
) -> None:
    """Remember the relayed copy of a staff reply in the customer's chat."""
    message = await session.get(TicketMessage, message_id)
    if message is not None:
        message.customer_message_id = customer_message_id
        session.add(message)


async def claim_ticket(
    *, session: AsyncSession, ticket: Ticket, user_id: int, name: str, now: datetime
) -> None:
    """Assign the ticket to a staff member."""
    ticket.assignee_id = user_id
    ticket.assignee_name = name
    ticket.assigned_at = now
    session.add(ticket)


async def resolve_ticket(
    *, session: AsyncSession, ticket: Ticket, user_id: int | None, now: datetime
) -> bool:
    """Close the ticket; False when it was already resolved (by anyone, in any process: the
    change is one conditional UPDATE)."""
    result = await session.exec(
        update(Ticket)
        .where(col(Ticket.id) == ticket.id, col(Ticket.status) == TicketStatus.OPEN)
        .values(
            status=TicketStatus.RESOLVED,
            resolved_at=now,
            resolved_by=user_id,
            resolution_seconds=(now - ticket.opened_at).total_seconds(),
        )
    )
    await session.refresh(ticket)
    return bool(result.rowcount)


async def reopen_ticket(*, session: AsyncSession, ticket: Ticket, now: datetime) -> bool:
    """Open a resolved ticket again; False when it was open, or when the customer has opened
    another one since (one open ticket per customer: the newer one goes on).

    The customer's row is locked first, as the intake's upsert of the customer locks it: a
    reopen and a new message of the same customer, in two processes, take turns, and the
    second sees the first's ticket (instead of both opening one and the database refusing
    the message)."""
    await session.exec(
        select(Customer.id).where(col(Customer.id) == ticket.customer_id).with_for_update()
    )
    newer = (
        select(Ticket.id)
        .where(
            col(Ticket.customer_id) == ticket.customer_id,
            col(Ticket.status) == TicketStatus.OPEN,
        )
        .exists()
    )
    result = await session.exec(
        update(Ticket)
        .where(col(Ticket.id) == ticket.id, col(Ticket.status) == TicketStatus.RESOLVED, ~newer)
        .values(
            status=TicketStatus.OPEN,
            reopened_count=Ticket.reopened_count + 1,
            reopened_at=now,
        )
    )
    await session.refresh(ticket)
    return bool(result.rowcount)


async def customer_tickets(
    *, session: AsyncSession, customer_id: int, limit: int = 10
) -> list[Ticket]:
    """A customer's tickets, newest first."""
    result = await session.exec(
        select(Ticket)
        .where(Ticket.customer_id == customer_id)
        .order_by(col(Ticket.opened_at).desc())
        .limit(limit)
    )
    return list(result.all())


async def find_customer_message(*, session: AsyncSession, feedback_id: int) -> TicketMessage | None:
    """The ticket message recorded for a piece of feedback."""
    result = await session.exec(
        select(TicketMessage).where(TicketMessage.feedback_id == feedback_id)
    )
    return result.first()


async def edit_customer_copy(
    *, session: AsyncSession, feedback_id: int, text: str, now: datetime
) -> TicketMessage | None:
    """The customer edited a message that is in a ticket: its copy takes the new text."""
    copy = await find_customer_message(session=session, feedback_id=feedback_id)
    if copy is not None:
        copy.text = text
        copy.edited_at = now
        session.add(copy)
    return copy


async def first_customer_text(*, session: AsyncSession, ticket_id: int) -> str | None:
    """The text of the ticket's first customer message, if any."""
    result = await session.exec(
        select(TicketMessage.text)
        .where(
            TicketMessage.ticket_id == ticket_id,
            TicketMessage.author == MessageAuthor.CUSTOMER,
        )
        .order_by(col(TicketMessage.id))
        .limit(1)
    )
    return result.first()


async def staff_reply_at(
    *, session: AsyncSession, chat_id: int, message_id: int
) -> TicketMessage | None:
    """The staff reply posted as this staff-chat message, if it is one."""
    result = await session.exec(
        select(TicketMessage).where(
            TicketMessage.staff_chat_id == chat_id,
            TicketMessage.staff_message_id == message_id,
            TicketMessage.author == MessageAuthor.STAFF.value,
        )
    )
    return result.first()


async def last_staff_reply(*, session: AsyncSession, ticket_id: int) -> TicketMessage | None:
    """The ticket's latest staff reply, if any."""
    result = await session.exec(
        select(TicketMessage)
        .where(
            TicketMessage.ticket_id == ticket_id,
            TicketMessage.author == MessageAuthor.STAFF.value,
        )
        .order_by(col(TicketMessage.id).desc())
    )
    return result.first()


async def ticket_feedback(*, session: AsyncSession, ticket_id: int) -> list[Feedback]:
    """The feedback routed to the ticket (in no particular order)."""
    result = await session.exec(select(Feedback).where(Feedback.ticket_id == ticket_id))
    return list(result.all())


async def first_ticket_feedback(*, session: AsyncSession, ticket_id: int) -> Feedback | None:
    """The ticket's first piece of feedback, if any."""
    result = await session.exec(
        select(Feedback).where(Feedback.ticket_id == ticket_id).order_by(col(Feedback.id))
    )
    return result.first()


async def relabel_ticket(
    *,
    session: AsyncSession,
    ticket: Ticket,
    feedback: Sequence[Feedback],
    field: str,
    value: str,
    labelled_by: int,
    now: datetime,
) -> None:
    """A staff label ("kind" or "topic") on each of the ticket's feedback, kept for retraining,
    and the feedback changed to it; a topic becomes the ticket's too."""
    for item in feedback:
        await label_feedback(
            session=session,
            feedback=item,
            field=field,
            value=value,
            source=STAFF,
            labelled_by=labelled_by,
            now=now,
        )
    if field == "topic":
        ticket.topic = value
        session.add(ticket)


async def link_feedback_to_idea(
    *, session: AsyncSession, feedback: Sequence[Feedback], idea_id: int | None
) -> None:
    """Mark these pieces of feedback as the origin of an idea."""
    for item in feedback:
        item.idea_id = idea_id
        session.add(item)


async def clear_staff_pending(*, session: AsyncSession, ticket: Ticket) -> None:
    """The ticket no longer waits for its card (it was self-served)."""
    ticket.staff_pending_since = None
    session.add(ticket)


async def staff_message_at(
    *, session: AsyncSession, ticket_id: int, author: str, chat_id: int, message_id: int
) -> TicketMessage | None:
    """The ticket's staff reply or note stored for this staff-chat message, if it was stored
    already (its update processed a second time)."""
    result = await session.exec(
        select(TicketMessage).where(
            TicketMessage.ticket_id == ticket_id,
            TicketMessage.author == author,
            TicketMessage.staff_chat_id == chat_id,
            TicketMessage.staff_message_id == message_id,
        )
    )
    return result.first()
