"""Rows behind the numbers: CSV exports of tickets and ideas, and drill-down lists."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Idea,
    IdeaComment,
    Rating,
    Ticket,
    TicketStatus,
    Vote,
    format_ticket_reference,
)

TICKET_COLUMNS = (
    "reference",
    "status",
    "topic",
    "sentiment",
    "priority",
    "language",
    "opened_at",
    "first_response_at",
    "resolved_at",
    "first_response_seconds",
    "resolution_seconds",
    "sla_met",
    "reopened_count",
    "assignee",
    "csat",
)
IDEA_COLUMNS = (
    "idea",
    "status",
    "topic",
    "language",
    "created_at",
    "first_status_at",
    "votes",
    "comments",
    "merged_into",
    "text",
)


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""


# A spreadsheet reads a cell starting with one of these as a formula (=HYPERLINK(...), +, -, @),
# or strips them first (tab, carriage return): OWASP's CSV injection list.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula, made plain text by a leading quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """Every CSV the product writes goes through here: cells are neutralised, then quoted."""
    buffer = io.StringIO()
    # RFC 4180's CRLF: the writer then quotes any cell holding a CR, which "\n" would not.
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([neutralise_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue().encode("utf-8")


async def tickets_csv(
    *, session: AsyncSession, start: datetime, end: datetime, sla_minutes: int
) -> bytes:
    """One row per ticket opened in [start, end), with its latest CSAT score."""
    latest = (
        select(Rating.ticket_id, func.max(Rating.id).label("rating_id"))
        .where(col(Rating.ticket_id).is_not(None), Rating.scale == "csat")
        .group_by(col(Rating.ticket_id))
        .subquery()
    )
    rows = await session.exec(
        select(Ticket, Rating.score)
        .outerjoin(latest, latest.c.ticket_id == col(Ticket.id))
        .outerjoin(Rating, col(Rating.id) == latest.c.rating_id)
        .where(col(Ticket.opened_at) >= start, col(Ticket.opened_at) < end)
        .order_by(col(Ticket.id))
    )
    limit = sla_minutes * 60
    out = []
    for ticket, score in rows.all():
        frt = ticket.first_response_seconds
        out.append(
            [
                ticket.reference,
                ticket.status,
                ticket.topic,
                ticket.sentiment,
                ticket.priority,
                ticket.language,
                _iso(ticket.opened_at),
                _iso(ticket.first_response_at),
                _iso(ticket.resolved_at),
                "" if frt is None else round(frt),
                "" if ticket.resolution_seconds is None else round(ticket.resolution_seconds),
                "" if frt is None else str(frt <= limit).lower(),
                ticket.reopened_count,
                ticket.assignee_name or "",
                "" if score is None else score,
            ]
        )
    return _csv(TICKET_COLUMNS, out)


async def ideas_csv(*, session: AsyncSession, start: datetime, end: datetime) -> bytes:
    """One row per idea proposed in [start, end), with its votes and comments."""
    votes = select(Vote.idea_id, func.count().label("n")).group_by(col(Vote.idea_id)).subquery()
    comments = (
        select(IdeaComment.idea_id, func.count().label("n"))
        .group_by(col(IdeaComment.idea_id))
        .subquery()
    )
    rows = await session.exec(
        select(Idea, func.coalesce(votes.c.n, 0), func.coalesce(comments.c.n, 0))
        .outerjoin(votes, votes.c.idea_id == col(Idea.id))
        .outerjoin(comments, comments.c.idea_id == col(Idea.id))
        .where(col(Idea.created_at) >= start, col(Idea.created_at) < end)
        .order_by(col(Idea.id))
    )
    out = [
        [
            idea.id,
            idea.status,
            idea.topic,
            idea.language,
            _iso(idea.created_at),
            _iso(idea.first_status_at),
            int(n_votes),
            int(n_comments),
            idea.merged_into_id or "",
            idea.text,
        ]
        for idea, n_votes, n_comments in rows.all()
    ]
    return _csv(IDEA_COLUMNS, out)


async def breached_tickets(
    *, session: AsyncSession, start: datetime, end: datetime, now: datetime, sla_minutes: int
) -> list[Ticket]:
    """Tickets opened in the window whose first answer came after the SLA, or has not come
    and is already late: the tickets behind "SLA met"."""
    limit = timedelta(minutes=sla_minutes)
    late_answer = col(Ticket.first_response_seconds) > limit.total_seconds()
    still_waiting = col(Ticket.first_response_at).is_(None) & (col(Ticket.opened_at) < now - limit)
    rows = await session.exec(
        select(Ticket)
        .where(
            col(Ticket.opened_at) >= start,
            col(Ticket.opened_at) < end,
            late_answer | still_waiting,
        )
        .order_by(col(Ticket.opened_at))
    )
    return list(rows.all())


async def open_tickets(*, session: AsyncSession, at: datetime) -> list[Ticket]:
    """The backlog: tickets open now, oldest first."""
    rows = await session.exec(
        select(Ticket)
        .where(col(Ticket.status) != TicketStatus.RESOLVED, col(Ticket.opened_at) < at)
        .order_by(col(Ticket.opened_at))
    )
    return list(rows.all())


async def reopened_tickets(
    *, session: AsyncSession, start: datetime, end: datetime
) -> list[Ticket]:
    """Tickets reopened in the window: the tickets behind the reopen rate."""
    rows = await session.exec(
        select(Ticket)
        .where(
            col(Ticket.reopened_count) > 0,
            col(Ticket.reopened_at) >= start,
            col(Ticket.reopened_at) < end,
        )
        .order_by(col(Ticket.reopened_at))
    )
    return list(rows.all())


__all__ = [
    "IDEA_COLUMNS",
    "TICKET_COLUMNS",
    "breached_tickets",
    "format_ticket_reference",
    "ideas_csv",
    "neutralise_cell",
    "open_tickets",
    "reopened_tickets",
    "tickets_csv",
]
