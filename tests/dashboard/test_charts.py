"""Daily series and PNG charts from a small hand-built dataset (days in Europe/Rome).

The window holds the spring daylight-saving change (29 March 2026 has 23 hours in Rome), so a
day bucketing by a fixed UTC offset would put the messages around midnight in the wrong day.
"""

from __future__ import annotations

import io
import itertools
import struct
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import Image
from sqlmodel import SQLModel

from bot.reports.charts import COLOURS, PNG_SIGNATURE, report_chart_names, report_charts
from storage.db import Database
from storage.metrics.series import load_series, local_days, weeks_of
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

ROME = ZoneInfo("Europe/Rome")
START = datetime(2026, 3, 26, tzinfo=ROME).astimezone(UTC)
END = datetime(2026, 4, 2, tzinfo=ROME).astimezone(UTC)
DAYS = [date(2026, 3, 26) + timedelta(days=i) for i in range(7)]
STAFF_ID = 7
STAFF_NAME = "<i>Ann</i> & Co"
_message_ids = itertools.count(1)


def local(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A moment given in Rome's wall-clock time, as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=ROME).astimezone(UTC)


def _feedback(cid: int, when: datetime, kind: str, sentiment: str, topic: str) -> Feedback:
    return Feedback(
        customer_id=cid,
        chat_id=10_000 + cid,
        message_id=next(_message_ids),
        kind=kind,
        confidence=0.9,
        sentiment=sentiment,
        topic=topic,
        language="en",
        keywords="invoice" if topic == "billing" else "",
        created_at=when,
    )


def _ticket(
    tid: int, cid: int, opened: datetime, first: datetime | None, resolved: datetime | None = None
) -> Ticket:
    return Ticket(
        id=tid,
        customer_id=cid,
        status="resolved" if resolved else "open",
        topic="billing",
        sentiment="neutral",
        language="en",
        opened_at=opened,
        first_response_at=first,
        first_response_seconds=(first - opened).total_seconds() if first else None,
        resolved_at=resolved,
        resolution_seconds=(resolved - opened).total_seconds() if resolved else None,
        resolved_by=STAFF_ID if resolved else None,
        assignee_id=STAFF_ID,
        assignee_name=STAFF_NAME,
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


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk."""
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def has_colour(png: bytes, hex_colour: str) -> bool:
    """Whether any pixel is exactly this #rrggbb colour."""
    rgb = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    image = Image.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    return any(colour == rgb for _, colour in colours)


async def charts(db: Database) -> dict[str, bytes]:
    async with db.session() as session:
        return dict(await report_charts(session=session, start=START, end=END, zone=ROME))


def test_local_days_follow_the_zone_across_daylight_saving() -> None:
    days = local_days(START, END, ROME)
    assert [d.label for d in days] == DAYS
    hours = [(d.end - d.start) / timedelta(hours=1) for d in days]
    assert hours == [24, 24, 24, 23, 24, 24, 24]
    assert days[0].start == START and days[-1].end == END
    assert all(a.end == b.start for a, b in itertools.pairwise(days))


def test_a_window_not_on_midnight_is_clipped_and_weeks_are_seven_days() -> None:
    start, end = local(3, 20, 15), local(3, 28, 9)
    days = local_days(start, end, ROME)
    assert [d.label.day for d in days] == [20, 21, 22, 23, 24, 25, 26, 27, 28]
    assert (days[0].start, days[0].end) == (start, local(3, 21))
    assert (days[-1].start, days[-1].end) == (local(3, 28), end)
    weeks = weeks_of(days)
    assert [(w.label.day, w.start, w.end) for w in weeks] == [
        (20, start, local(3, 27)),
        (27, local(3, 27), end),
    ]


async def test_daily_series_from_the_dataset(db: Database) -> None:
    await insert_dataset(db)
    async with db.session() as session:
        series = await load_series(session=session, start=START, end=END, zone=ROME)
    assert [d.label for d in series.days] == DAYS
    assert series.volume == {
        "care": [1, 0, 0, 1, 1, 0, 1],
        "idea": [1, 0, 0, 0, 0, 0, 0],
        "other": [0, 0, 0, 0, 1, 0, 0],
    }
    # 26 March: 600, 1800, 5400 s; nearest rank: p50 is the 2nd, p90 the 3rd.
    # 30 March: the 80-minute answer to the ticket opened late on the 29th.
    assert series.first_response_p50 == [1800.0, None, None, None, 4800.0, None, None]
    assert series.first_response_p90 == [5400.0, None, None, None, 4800.0, None, None]
    assert series.sentiment == {
        "positive": [1, 0, 0, 0, 2, 0, 0],
        "neutral": [0] * 7,
        "negative": [1, 0, 0, 1, 0, 0, 1],
    }
    assert series.sentiment_ratio == [1.0, None, None, 0.0, None, None, 0.0]
    assert series.topics_window == {"billing": 3, "app": 1, "network": 2}
    assert series.topics_recent == {"network": 1}
    (week,) = series.weeks
    # Staff replies 2 + 1 + 1 + 1 over tickets 1-4 (notes are not replies).
    assert week.staff_messages_per_ticket == 5 / 4
    # 6 messages, 1 vote and 3 ratings from 3 customers.
    assert week.contributions_per_active_customer == 10 / 3


async def test_charts_are_pngs_that_show_the_data(db: Database) -> None:
    empty = await charts(db)
    assert list(empty) == report_chart_names()
    for png in empty.values():
        assert png.startswith(PNG_SIGNATURE)
        assert png_size(png) == (800, 360)
        assert not has_colour(png, COLOURS["care"])
        assert has_colour(png, "#8d99ae")  # the "no data" note
    await insert_dataset(db)
    full = await charts(db)
    assert list(full) == report_chart_names()
    for name, png in full.items():
        assert png.startswith(PNG_SIGNATURE), name
        assert png_size(png) == (800, 360), name
        assert png != empty[name], name
    assert has_colour(full["volume_by_kind.png"], COLOURS["care"])
    assert has_colour(full["volume_by_kind.png"], COLOURS["idea"])
    assert has_colour(full["first_response.png"], COLOURS["p90"])
    assert has_colour(full["topic_strength.png"], COLOURS["recent"])
    assert has_colour(full["balance.png"], COLOURS["idea"])


async def test_the_same_data_gives_the_same_bytes(db: Database) -> None:
    await insert_dataset(db)
    first, second = await charts(db), await charts(db)
    assert first == second
    assert b"matplotlib" not in b"".join(first.values())
