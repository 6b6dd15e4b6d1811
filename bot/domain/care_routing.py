"""Care requests of a batch become tickets together: one query finds the customers' open
tickets, one INSERT opens the new ones and one their messages, one UPDATE files the feedback.

An outage brings thousands of care requests within minutes; routed one by one, each took a
dozen statements. A message routed alone (the customer answered "what is this?", a flood
released) goes the same way, as a batch of one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.services import Services
from bot.domain.incidents import IncidentMatch, IncidentMatcher
from storage.feedback import route_to_tickets
from storage.models import MessageAuthor, Ticket, TicketMessage
from storage.tickets import open_tickets_of


@dataclass(frozen=True, slots=True)
class CareRequest:
    """A stored care message to route."""

    feedback_id: int
    customer_id: int
    text: str
    topic: str
    sentiment: str
    priority: str
    language: str


@dataclass(frozen=True, slots=True)
class CareRouting:
    """Where a care message went."""

    ticket_id: int
    ticket_message_id: int
    new_ticket: bool
    priority: str
    incident: IncidentMatch | None


async def route_care_many(
    session: AsyncSession, services: Services, requests: Sequence[CareRequest], now: datetime
) -> list[CareRouting]:
    """Open or join a ticket for each request, in order; new tickets join or open incidents."""
    settings = services.settings
    if not requests:
        return []
    tickets = await open_tickets_of(
        session=session, customer_ids=sorted({r.customer_id for r in requests})
    )
    chosen: list[tuple[Ticket, bool]] = []
    for request in requests:
        ticket = tickets.get(request.customer_id)
        if ticket is None:
            ticket = Ticket(
                customer_id=request.customer_id,
                topic=request.topic,
                sentiment=request.sentiment,
                priority=request.priority,
                language=request.language,
                opened_at=now,
                # Staff hear of it from the staff courier, at the staff chat's pace: the card
                # carries all that the customer wrote until it is opened.
                staff_pending_since=now,
            )
            session.add(ticket)
            tickets[request.customer_id] = ticket
            chosen.append((ticket, True))
        else:
            chosen.append((ticket, False))
    await session.flush()  # the new tickets' ids, in one INSERT

    incidents: list[IncidentMatch | None] = [None] * len(requests)
    if settings.incident_min_reports > 0:
        matcher = IncidentMatcher(
            session,
            min_reports=settings.incident_min_reports,
            window=timedelta(minutes=settings.incident_window_minutes),
            now=now,
        )
        for n, (request, (ticket, new)) in enumerate(zip(requests, chosen, strict=True)):
            if new:
                incidents[n] = await matcher.match(ticket, request.text, request.language)

    messages = [
        TicketMessage(
            ticket_id=ticket.id or 0,
            author=MessageAuthor.CUSTOMER,
            text=request.text,
            feedback_id=request.feedback_id,
            created_at=now,
            # A further message is due for staff on its own, unless a card or an incident
            # carries it.
            staff_due_at=(
                None
                if new or ticket.staff_pending_since is not None or ticket.incident_id is not None
                else now
            ),
        )
        for request, (ticket, new) in zip(requests, chosen, strict=True)
    ]
    session.add_all(messages)
    await session.flush()
    await route_to_tickets(
        session=session,
        routed=[
            (request.feedback_id, ticket.id or 0)
            for request, (ticket, _) in zip(requests, chosen, strict=True)
        ],
        now=now,
    )
    return [
        CareRouting(
            ticket_id=ticket.id or 0,
            ticket_message_id=message.id or 0,
            new_ticket=new,
            priority=ticket.priority,
            incident=found,
        )
        for (ticket, new), message, found in zip(chosen, messages, incidents, strict=True)
    ]
