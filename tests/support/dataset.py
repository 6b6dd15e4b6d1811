"""A small hand-built week of feedback, tickets, ideas and ratings (days in Europe/Rome, across
the spring daylight-saving change), with the values the chart and dashboard tests expect."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import SQLModel

from storage.db import Database
from storage.models import (
    Customer,
    Feedback,
    Idea,
    IdeaStatusChange,
    Rating,
    Ticket,
    TicketMessage,
    Vote,
)
from tests.support.metric_rows import feedback, ticket

ROME = ZoneInfo("Europe/Rome")
START = datetime(2026, 3, 26, tzinfo=ROME).astimezone(UTC)
END = datetime(2026, 4, 2, tzinfo=ROME).astimezone(UTC)
DAYS = [date(2026, 3, 26) + timedelta(days=i) for i in range(7)]
STAFF_ID = 7
STAFF_NAME = "<i>Ann</i> & Co"


def local(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A moment given in Rome's wall-clock time, as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=ROME).astimezone(UTC)


def _feedback(cid: int, when: datetime, kind: str, sentiment: str, topic: str) -> Feedback:
    keywords = "invoice" if topic == "billing" else ""
    return feedback(cid, when, kind=kind, sentiment=sentiment, topic=topic, keywords=keywords)


def _ticket(
    tid: int, cid: int, opened: datetime, first: datetime | None, resolved: datetime | None = None
) -> Ticket:
    return ticket(
        tid,
        opened,
        cid=cid,
        first=first,
        resolved=resolved,
        resolved_by=STAFF_ID if resolved else None,
        assignee=(STAFF_ID, STAFF_NAME),
    )


def _message(tid: int, author: str, when: datetime) -> TicketMessage:
    return TicketMessage(
        ticket_id=tid,
        author=author,
        author_user_id=STAFF_ID if author != "customer" else None,
        created_at=when,
    )


def dataset() -> list[SQLModel]:
    """Four customers (three write), six messages in the window (one before it), five
    tickets, two ideas."""
    created = local(1, 1)
    customers = [
        Customer(
            id=cid,
            telegram_user_id=10_000 + cid,
            first_name=name,
            created_at=created,
            last_seen_at=created,
        )
        for cid, name in ((1, "Ada"), (2, "<b>Bo</b>"), (3, "Cy"), (4, "Di"))
    ]
    t1_open, t4_open = local(3, 26, 10), local(3, 29, 23)
    return [
        *customers,
        _feedback(1, local(3, 25, 20), "care", "negative", "billing"),  # before the window
        _feedback(1, local(3, 26, 10), "care", "negative", "billing"),
        _feedback(2, local(3, 26, 11), "idea", "positive", "app"),
        _feedback(1, local(3, 29, 23, 30), "care", "negative", "network"),  # 23 h day
        _feedback(3, local(3, 30, 0, 30), "other", "positive", "billing"),
        _feedback(3, local(3, 30, 10), "care", "positive", "billing"),
        _feedback(2, local(4, 1, 20), "care", "negative", "network"),  # in the last 24 h
        # First responses: 10, 30 and 90 minutes on 26 March; 80 minutes, answered on 30 March.
        _ticket(1, 1, t1_open, t1_open + timedelta(minutes=10), resolved=local(3, 27, 9)),
        _ticket(2, 3, local(3, 26, 12), local(3, 26, 12, 30)),
        # Di wrote by telephone: a ticket, no message to the bot (one open ticket a customer).
        _ticket(3, 4, local(3, 26, 13), local(3, 26, 14, 30)),
        _ticket(4, 1, t4_open, t4_open + timedelta(minutes=80)),
        _ticket(5, 2, local(4, 1, 12), None),
        _message(1, "customer", t1_open),
        _message(1, "staff", t1_open + timedelta(minutes=10)),
        _message(1, "staff", t1_open + timedelta(minutes=20)),
        _message(2, "customer", local(3, 26, 12)),
        _message(2, "staff", local(3, 26, 12, 30)),
        _message(3, "staff", local(3, 26, 14, 30)),
        _message(3, "note", local(3, 26, 14, 31)),
        _message(4, "staff", t4_open + timedelta(minutes=80)),
        Idea(
            id=1,
            customer_id=2,
            text="dark mode",
            topic="app",
            language="en",
            status="planned",
            created_at=local(3, 26, 11),
            first_status_at=local(3, 27, 11),
        ),
        Idea(
            id=2,
            customer_id=3,
            text="paper bills",
            topic="billing",
            language="en",
            status="declined",
            created_at=local(3, 30, 10, 30),
            first_status_at=local(4, 1, 10, 30),
        ),
        IdeaStatusChange(
            idea_id=1, old_status="new", new_status="planned", changed_at=local(3, 27, 11)
        ),
        IdeaStatusChange(
            idea_id=2, old_status="new", new_status="declined", changed_at=local(4, 1, 10, 30)
        ),
        Vote(idea_id=1, customer_id=3, created_at=local(3, 27, 8)),
        Rating(customer_id=1, ticket_id=1, scale="csat", score=5, created_at=local(3, 27, 10)),
        Rating(customer_id=2, scale="csat", score=2, created_at=local(3, 30, 9)),
        Rating(customer_id=3, scale="nps", score=10, created_at=local(3, 31, 9)),
    ]


async def insert_dataset(db: Database) -> None:
    """Store the dataset, parents first (the models declare no relationships to order them)."""
    rows = dataset()
    order = (Customer, Ticket, Idea)
    async with db.session() as session:
        for model in order:
            session.add_all([row for row in rows if isinstance(row, model)])
            await session.flush()
        session.add_all([row for row in rows if not isinstance(row, order)])
