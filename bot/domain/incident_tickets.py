"""Which tickets an incident speaks for, when staff decide: a ticket put in (/attach), or taken
out to be a problem of its own (/detach, the card's button)."""

from __future__ import annotations

from bot.core.services import Services
from storage.incidents import get_incident, join_incident, leave_incident
from storage.models import Incident, IncidentStatus, Ticket, TicketStatus
from storage.tickets import get_ticket


async def put_in(
    services: Services, *, ticket_id: int, incident_id: int
) -> tuple[Ticket, Incident] | None:
    """An open ticket joins an open incident; None (nothing changed) when either is missing or
    closed."""
    async with services.db.session() as session:
        ticket = await get_ticket(session=session, ticket_id=ticket_id)
        incident = await get_incident(session=session, incident_id=incident_id)
        if (
            ticket is None
            or incident is None
            or ticket.status != TicketStatus.OPEN
            or incident.status != IncidentStatus.OPEN
        ):
            return None
        await join_incident(session=session, ticket=ticket, incident_id=incident_id)
        return ticket, incident


async def take_out(services: Services, *, ticket_id: int, incident_id: int) -> Ticket | None:
    """The ticket leaves the incident and gets a card of its own; None when it is not in it."""
    async with services.db.session() as session:
        ticket = await get_ticket(session=session, ticket_id=ticket_id)
        if ticket is None or ticket.incident_id != incident_id:
            return None
        await leave_incident(session=session, ticket=ticket, now=services.clock.now())
        return ticket
