"""Incidents: many customers reporting one fault; their tickets, card and broadcasts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Customer,
    Feedback,
    Incident,
    IncidentStatus,
    MessageAuthor,
    Ticket,
    TicketMessage,
    TicketStatus,
)


async def open_incidents(*, session: AsyncSession, topic: str | None = None) -> list[Incident]:
    """Incidents still open (of one topic), oldest first."""
    query = select(Incident).where(Incident.status == IncidentStatus.OPEN)
    if topic is not None:
        query = query.where(Incident.topic == topic)
    rows = await session.exec(query.order_by(col(Incident.id)))
    return list(rows.all())


# How many of a topic's recent reports the incident matcher looks at.
RECENT_REPORTS = 200


async def recent_reports(
    *,
    session: AsyncSession,
    topic: str,
    since: datetime,
    limit: int = RECENT_REPORTS,
    other_topics: bool = False,
) -> list[tuple[int, str, datetime]]:
    """Open tickets of a topic (with `other_topics`: of every other topic) opened since a
    moment and in no incident: (ticket id, the customer's first words, when), newest first
    (of those opened at the same moment, the last inserted first)."""
    first = (
        select(Feedback.ticket_id, func.min(Feedback.id).label("first_id"))
        .where(col(Feedback.ticket_id).is_not(None), col(Feedback.created_at) >= since)
        .group_by(col(Feedback.ticket_id))
        .subquery()
    )
    rows = await session.exec(
        select(Ticket.id, Feedback.text, Ticket.opened_at)
        .join(first, col(first.c.ticket_id) == col(Ticket.id))
        .join(Feedback, col(Feedback.id) == first.c.first_id)
        .where(
            Ticket.topic != topic if other_topics else Ticket.topic == topic,
            Ticket.status == TicketStatus.OPEN,
            col(Ticket.incident_id).is_(None),
            col(Ticket.opened_at) >= since,
        )
        .order_by(col(Ticket.opened_at).desc(), col(Ticket.id).desc())
        .limit(limit)
    )
    return [(int(i), text, at) for i, text, at in rows.all() if i is not None]


async def create_incident(
    *,
    session: AsyncSession,
    topic: str,
    language: str,
    signature: str,
    summary: str,
    first_report_at: datetime,
    now: datetime,
) -> Incident:
    """Open an incident."""
    incident = Incident(
        topic=topic,
        language=language,
        signature=signature,
        summary=summary,
        first_report_at=first_report_at,
        opened_at=now,
    )
    session.add(incident)
    await session.flush()
    return incident


async def link_tickets(
    *, session: AsyncSession, incident_id: int, ticket_ids: Sequence[int]
) -> None:
    """Put tickets into an incident: they wait for no card of their own."""
    if ticket_ids:
        await session.exec(
            update(Ticket)
            .where(col(Ticket.id).in_(list(ticket_ids)))
            .values(incident_id=incident_id, staff_pending_since=None)
        )


async def get_incident(*, session: AsyncSession, incident_id: int) -> Incident | None:
    """The incident with this id, if any."""
    return await session.get(Incident, incident_id)


async def affected_count(*, session: AsyncSession, incident_id: int) -> int:
    """Customers with a ticket in the incident."""
    return int(
        (
            await session.exec(
                select(func.count(func.distinct(Ticket.customer_id))).where(
                    Ticket.incident_id == incident_id
                )
            )
        ).one()
    )


async def affected_customers(
    *, session: AsyncSession, incident_id: int, open_only: bool = True
) -> list[tuple[Ticket, Customer]]:
    """The incident's tickets with their customers, oldest first."""
    query = (
        select(Ticket, Customer)
        .join(Customer, col(Customer.id) == col(Ticket.customer_id))
        .where(Ticket.incident_id == incident_id)
    )
    if open_only:
        query = query.where(Ticket.status == TicketStatus.OPEN)
    rows = await session.exec(query.order_by(col(Ticket.id)))
    return [(ticket, customer) for ticket, customer in rows.all()]


async def sample_texts(*, session: AsyncSession, incident_id: int, limit: int = 3) -> list[str]:
    """A few of the reports, oldest first."""
    rows = await session.exec(
        select(Feedback.text)
        .join(Ticket, col(Ticket.id) == col(Feedback.ticket_id))
        .where(Ticket.incident_id == incident_id, Feedback.text != "")
        .order_by(col(Feedback.id))
        .limit(limit)
    )
    return list(rows.all())


async def incidents_needing_card(*, session: AsyncSession) -> list[Incident]:
    """Open incidents whose card is not up, or whose count changed since it was drawn."""
    rows = await session.exec(
        select(Incident).where(Incident.status == IncidentStatus.OPEN).order_by(col(Incident.id))
    )
    return list(rows.all())


async def find_incident_by_staff_place(
    *, session: AsyncSession, chat_id: int, thread_id: int | None, replied_to: int | None
) -> Incident | None:
    """The incident whose topic this is, or whose card a message replies to."""
    if thread_id is not None:
        found = (
            await session.exec(
                select(Incident).where(
                    Incident.staff_chat_id == chat_id, Incident.staff_thread_id == thread_id
                )
            )
        ).first()
        if found is not None:
            return found
    if replied_to is not None:
        return (
            await session.exec(
                select(Incident).where(
                    Incident.staff_chat_id == chat_id,
                    Incident.staff_card_message_id == replied_to,
                )
            )
        ).first()
    return None


async def incidents_since(*, session: AsyncSession, since: datetime) -> list[Incident]:
    """Incidents opened since a moment, or still open."""
    rows = await session.exec(
        select(Incident)
        .where((col(Incident.opened_at) >= since) | (Incident.status == IncidentStatus.OPEN))
        .order_by(col(Incident.id))
    )
    return list(rows.all())


async def join_incident(*, session: AsyncSession, ticket: Ticket, incident_id: int) -> None:
    """Staff put the ticket into the incident: its card speaks for the ticket now."""
    ticket.incident_id = incident_id
    ticket.staff_pending_since = None
    session.add(ticket)


async def leave_incident(*, session: AsyncSession, ticket: Ticket, now: datetime) -> None:
    """Staff took the ticket out of its incident: it gets a card of its own, unless it has one."""
    ticket.incident_id = None
    if ticket.staff_card_message_id is None:
        ticket.staff_pending_since = now
    session.add(ticket)


async def place_incident_topic(
    *, session: AsyncSession, incident_id: int, chat_id: int, thread_id: int | None
) -> None:
    """The incident's topic in the staff chat (None: the chat has none, the card is in the
    group)."""
    incident = await session.get(Incident, incident_id)
    if incident is not None:
        incident.staff_chat_id = chat_id
        incident.staff_thread_id = thread_id
        session.add(incident)


async def incident_card_drawn(
    *, session: AsyncSession, incident_id: int, customers: int, now: datetime
) -> Incident | None:
    """The card was drawn now, showing this many customers (it is redrawn at most once a
    minute, when the count changed)."""
    incident = await session.get(Incident, incident_id)
    if incident is not None:
        incident.card_customers = customers
        incident.card_drawn_at = now
        session.add(incident)
    return incident


async def attach_incident_card(
    *,
    session: AsyncSession,
    incident_id: int,
    chat_id: int,
    message_id: int | None,
    customers: int,
    now: datetime,
) -> None:
    """Where the incident's card lives in the staff chat, and what it shows."""
    incident = await incident_card_drawn(
        session=session, incident_id=incident_id, customers=customers, now=now
    )
    if incident is not None:
        incident.staff_chat_id = chat_id
        incident.staff_card_message_id = message_id


async def managers_told(*, session: AsyncSession, incident_id: int, now: datetime) -> None:
    """Managers were told the incident opened (the first time counts)."""
    await _first_time(session, incident_id, "managers_told_at", now)


async def record_broadcast(
    *,
    session: AsyncSession,
    incident_id: int,
    tickets: Sequence[Ticket],
    text: str,
    staff_user_id: int,
    staff_name: str | None,
    staff_message: tuple[int, int],
    now: datetime,
) -> None:
    """A staff reply went to every ticket of the incident: in each conversation, the first
    response of those unanswered, and the incident's first broadcast."""
    chat_id, message_id = staff_message
    for ticket in tickets:
        session.add(
            TicketMessage(
                ticket_id=ticket.id or 0,
                author=MessageAuthor.STAFF,
                author_user_id=staff_user_id,
                author_name=staff_name,
                text=text,
                staff_chat_id=chat_id,
                staff_message_id=message_id,
                created_at=now,
            )
        )
        if ticket.first_response_at is None:
            ticket.first_response_at = now
            ticket.first_response_seconds = (now - ticket.opened_at).total_seconds()
            session.add(ticket)
    await _first_time(session, incident_id, "first_broadcast_at", now)


async def _first_time(session: AsyncSession, incident_id: int, moment: str, now: datetime) -> None:
    """Stamp one of the incident's moments, unless it happened before (the first time counts)."""
    incident = await session.get(Incident, incident_id)
    if incident is not None and getattr(incident, moment) is None:
        setattr(incident, moment, now)
        session.add(incident)


async def resolve_incident(
    *,
    session: AsyncSession,
    incident: Incident,
    tickets: Sequence[Ticket],
    user_id: int,
    now: datetime,
) -> None:
    """The incident is resolved, and with it these tickets of its."""
    for ticket in tickets:
        ticket.status = TicketStatus.RESOLVED
        ticket.resolved_at = now
        ticket.resolved_by = user_id
        ticket.resolution_seconds = (now - ticket.opened_at).total_seconds()
        session.add(ticket)
    incident.status = IncidentStatus.RESOLVED
    incident.resolved_at = now
    incident.resolved_by = user_id
    session.add(incident)
