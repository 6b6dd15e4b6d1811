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

from bot.core.services import Services
from bot.domain.incidents import IncidentMatch, IncidentMatcher, NewReport
from storage.db import Session
from storage.feedback import route_to_tickets
from storage.ticket_batches import (
    NewTicket,
    NewTicketMessage,
    add_customer_messages,
    open_tickets,
    open_tickets_of,
)


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


@dataclass(slots=True)
class _Route:
    """The ticket a request goes to: open already (its id), or opened by this batch (a
    handle below zero until it is inserted)."""

    ticket_id: int
    new: bool
    priority: str
    waits_for_card: bool
    incident_id: int | None


async def route_care_many(
    session: Session, services: Services, requests: Sequence[CareRequest], now: datetime
) -> list[CareRouting]:
    """Open or join a ticket for each request, in order; new tickets join or open incidents.

    Incidents are matched before the new tickets are inserted, so each is inserted in its
    incident already: one INSERT for the tickets, one for their messages, whatever the size
    of the batch.
    """
    settings = services.settings
    if not requests:
        return []
    existing = await open_tickets_of(
        session=session, customer_ids=sorted({r.customer_id for r in requests})
    )
    by_customer: dict[int, _Route] = {
        customer_id: _Route(
            ticket_id=ticket.id or 0,
            new=False,
            priority=ticket.priority,
            waits_for_card=ticket.staff_pending_since is not None,
            incident_id=ticket.incident_id,
        )
        for customer_id, ticket in existing.items()
    }
    matcher = (
        IncidentMatcher(
            session,
            min_reports=settings.incident_min_reports,
            window=timedelta(minutes=settings.incident_window_minutes),
            now=now,
        )
        if settings.incident_min_reports > 0
        else None
    )
    opening: list[tuple[CareRequest, _Route]] = []
    chosen: list[tuple[_Route, bool, IncidentMatch | None]] = []
    for request in requests:
        route = by_customer.get(request.customer_id)
        if route is not None:
            chosen.append((route, False, None))
            continue
        route = _Route(
            ticket_id=-(len(opening) + 1),
            new=True,
            priority=request.priority,
            waits_for_card=True,
            incident_id=None,
        )
        by_customer[request.customer_id] = route
        opening.append((request, route))
        found = (
            await matcher.match(
                NewReport(
                    handle=route.ticket_id,
                    topic=request.topic,
                    opened_at=now,
                    text=request.text,
                    language=request.language,
                )
            )
            if matcher is not None
            else None
        )
        chosen.append((route, True, found))
    if matcher is not None:
        # A ticket that joined an incident later in the batch is carried by its card too.
        for _, route in opening:
            route.incident_id = matcher.incident_of(route.ticket_id)
            route.waits_for_card = route.incident_id is None

    ids = await open_tickets(
        session=session,
        rows=[
            NewTicket(
                customer_id=request.customer_id,
                topic=request.topic,
                sentiment=request.sentiment,
                priority=request.priority,
                language=request.language,
                opened_at=now,
                # Staff hear of it from the staff courier, at the staff chat's pace: the card
                # carries all that the customer wrote until it is opened.
                staff_pending_since=now if route.waits_for_card else None,
                incident_id=route.incident_id,
            )
            for request, route in opening
        ],
    )
    for (_, route), ticket_id in zip(opening, ids, strict=True):
        route.ticket_id = ticket_id

    message_ids = await add_customer_messages(
        session=session,
        rows=[
            NewTicketMessage(
                ticket_id=route.ticket_id,
                feedback_id=request.feedback_id,
                text=request.text,
                created_at=now,
                # A further message is due for staff on its own, unless a card or an incident
                # carries it.
                staff_due_at=(
                    None if new or route.waits_for_card or route.incident_id is not None else now
                ),
            )
            for request, (route, new, _) in zip(requests, chosen, strict=True)
        ],
    )
    await route_to_tickets(
        session=session,
        routed=[
            (request.feedback_id, route.ticket_id)
            for request, (route, _, _) in zip(requests, chosen, strict=True)
        ],
        now=now,
    )
    return [
        CareRouting(
            ticket_id=route.ticket_id,
            ticket_message_id=message_id,
            new_ticket=new,
            priority=route.priority,
            incident=found,
        )
        for (route, new, found), message_id in zip(chosen, message_ids, strict=True)
    ]
