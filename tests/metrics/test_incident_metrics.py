"""The incident metrics on a hand-built dataset; every expected value worked out here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.db import Database
from storage.metrics import compute_summary
from storage.models import Customer, Incident, IncidentStatus, Ticket

START = datetime(2026, 11, 2, tzinfo=UTC)
END = START + timedelta(days=7)


def at(hours: float = 0, minutes: float = 0) -> datetime:
    return START + timedelta(hours=hours, minutes=minutes)


async def test_incidents_count_customers_and_time_from_the_first_report(db: Database) -> None:
    async with db.session() as session:
        for cid in range(1, 6):
            session.add(
                Customer(
                    id=cid,
                    telegram_user_id=5000 + cid,
                    created_at=START - timedelta(days=1),
                    last_seen_at=START,
                )
            )
        # I-1: first report at 10:00, opened 10:04, first broadcast 10:20, resolved 12:00.
        # I-2: first report at 30:00, opened 30:10, told at 30:15, still open at the end.
        # I-3: opened before the window: not counted.
        session.add_all(
            [
                Incident(
                    id=1,
                    topic="internet",
                    language="en",
                    first_report_at=at(10),
                    opened_at=at(10, 4),
                    first_broadcast_at=at(10, 20),
                    resolved_at=at(12),
                    status=IncidentStatus.RESOLVED,
                ),
                Incident(
                    id=2,
                    topic="network",
                    language="it",
                    first_report_at=at(30),
                    opened_at=at(30, 10),
                    first_broadcast_at=at(30, 15),
                ),
                Incident(
                    id=3,
                    topic="billing",
                    language="en",
                    first_report_at=at(-48),
                    opened_at=at(-47),
                ),
            ]
        )
        await session.flush()
        # Customer 1 reported twice in I-1 (a first ticket resolved, then another); customers
        # 2-3 in I-1, 4 in I-2, 5 in I-3.
        plan = [(1, 1, "resolved"), (1, 1, "open"), (2, 1, "open"), (3, 1, "open")]
        plan += [(4, 2, "open"), (5, 3, "open")]
        for tid, (cid, incident, status) in enumerate(plan):
            session.add(
                Ticket(
                    id=tid + 1,
                    customer_id=cid,
                    status=status,
                    topic="internet",
                    sentiment="negative",
                    language="en",
                    opened_at=at(10, tid),
                    incident_id=incident,
                )
            )
    async with db.session() as session:
        summary = await compute_summary(session=session, start=START, end=END, sla_minutes=60)
    incidents = summary["incidents"]
    assert incidents["opened"] == 2
    assert incidents["customers_affected"] == 4  # 1, 2, 3 (I-1) and 4 (I-2); not 5 (I-3)
    # detect: 4 min and 10 min; nearest-rank p50 of two values is the first: 240 s.
    assert incidents["time_to_detect_p50"] == 240.0
    # first broadcast from the first report: 20 min and 15 min -> p50 = 15 min.
    assert incidents["time_to_first_broadcast_p50"] == 900.0
    # resolved: only I-1, 2 h after its first report.
    assert incidents["time_to_resolve_p50"] == 7200.0
    assert incidents["resolved"] == 1 and incidents["open_at_end"] == 1
