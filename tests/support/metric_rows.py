"""Rows of a small hand-built dataset for the metric tests, in a week from START: each builder
makes one row with only what a metric reads (tests/support/summaries.py stores them)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from storage.models import Customer, Feedback, Idea, Rating, Ticket

START = datetime(2026, 11, 2, tzinfo=UTC)
END = START + timedelta(days=7)
_message_ids = itertools.count(1)


def at(days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> datetime:
    """A moment counted from the window start."""
    return START + timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def customer(
    cid: int,
    *,
    created: datetime | None = None,
    first_name: str | None = None,
    username: str | None = None,
) -> Customer:
    moment = created or START - timedelta(days=30)
    return Customer(
        id=cid,
        telegram_user_id=10_000 + cid,
        first_name=first_name,
        username=username,
        created_at=moment,
        last_seen_at=moment,
    )


def feedback(
    cid: int,
    when: datetime,
    *,
    kind: str = "care",
    sentiment: str = "neutral",
    topic: str = "billing",
    keywords: str = "",
) -> Feedback:
    return Feedback(
        customer_id=cid,
        chat_id=10_000 + cid,
        message_id=next(_message_ids),
        kind=kind,
        confidence=0.9,
        sentiment=sentiment,
        topic=topic,
        language="en",
        keywords=keywords,
        created_at=when,
    )


def ticket(
    tid: int,
    opened: datetime,
    *,
    cid: int | None = None,
    first: datetime | None = None,
    resolved: datetime | None = None,
    reopened: datetime | None = None,
    reopened_count: int | None = None,
    resolved_by: int | None = None,
    assignee: tuple[int, str] | None = None,
) -> Ticket:
    still_open = resolved is None or (reopened is not None and reopened > resolved)
    return Ticket(
        id=tid,
        # A customer has one open ticket at a time (the database refuses a second): each
        # ticket has its own customer unless the test says whose it is.
        customer_id=cid if cid is not None else OWN_CUSTOMER + tid,
        status="open" if still_open else "resolved",
        topic="billing",
        sentiment="neutral",
        language="en",
        opened_at=opened,
        first_response_at=first,
        first_response_seconds=(first - opened).total_seconds() if first else None,
        resolved_at=resolved,
        resolution_seconds=(resolved - opened).total_seconds() if resolved else None,
        reopened_at=reopened,
        reopened_count=reopened_count if reopened_count is not None else int(bool(reopened)),
        resolved_by=resolved_by,
        assignee_id=assignee[0] if assignee else None,
        assignee_name=assignee[1] if assignee else None,
    )


def idea(iid: int, cid: int, created: datetime, first_status: datetime | None = None) -> Idea:
    return Idea(
        id=iid,
        customer_id=cid,
        text=f"idea {iid}",
        topic="app",
        language="en",
        created_at=created,
        first_status_at=first_status,
    )


def rating(cid: int, scale: str, score: int, when: datetime) -> Rating:
    return Rating(customer_id=cid, scale=scale, score=score, created_at=when)


OWN_CUSTOMER = 1000
