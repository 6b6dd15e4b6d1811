"""The service level: open tickets nobody answered in time, reminded to staff and escalated to
managers once each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Ticket, TicketStatus


async def unanswered_past(
    *, session: AsyncSession, opened_before: datetime, escalation: bool
) -> list[Ticket]:
    """Open, unanswered tickets opened before a moment not yet reminded (or escalated)."""
    flag = Ticket.sla_escalated_at if escalation else Ticket.sla_reminded_at
    result = await session.exec(
        select(Ticket)
        .where(
            Ticket.status == TicketStatus.OPEN,
            col(Ticket.first_response_at).is_(None),
            col(Ticket.opened_at) < opened_before,
            col(flag).is_(None),
        )
        .order_by(col(Ticket.opened_at))
    )
    return list(result.all())


async def mark_late(
    *, session: AsyncSession, reminded: Sequence[Ticket], escalated: Sequence[Ticket], now: datetime
) -> None:
    """Staff were reminded of these tickets, managers told of those: never again."""
    for ticket in reminded:
        ticket.sla_reminded_at = now
        session.add(ticket)
    for ticket in escalated:
        ticket.sla_escalated_at = now
        session.add(ticket)
