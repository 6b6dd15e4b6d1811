"""The self-service metrics on a hand-built dataset; every expected value worked out here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.db import Database
from storage.metrics import compute_summary
from storage.models import (
    Answer,
    AnswerOffer,
    AnswerShown,
    Customer,
    Feedback,
    OfferOutcome,
    Ticket,
)

START = datetime(2026, 11, 2, tzinfo=UTC)
END = START + timedelta(days=7)


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


async def test_offers_solved_escalated_and_came_back(db: Database) -> None:
    # Six offers in the window, one before it:
    #   1 solved (customer 1; wrote again on the same topic 3 h later: came back)
    #   2 solved (customer 2; wrote again 30 h later: not within 24 h)
    #   3 person, 4 timeout, 5 waiting, 6 solved (customer 6; wrote again on another topic)
    #   7 solved, before the window: not counted.
    plan = [
        (1, OfferOutcome.SOLVED, at(1), [1, 2]),
        (2, OfferOutcome.SOLVED, at(2), [1]),
        (3, OfferOutcome.PERSON, at(3), [1, 2]),
        (4, OfferOutcome.TIMEOUT, at(4), [2]),
        (5, OfferOutcome.WAITING, at(5), [3]),
        (6, OfferOutcome.SOLVED, at(6), [3]),
        (7, OfferOutcome.SOLVED, START - timedelta(hours=1), [1]),
    ]
    async with db.session() as session:
        for n in range(1, 8):
            session.add(
                Customer(id=n, telegram_user_id=7000 + n, created_at=START, last_seen_at=START)
            )
        for aid in (1, 2, 3):
            session.add(
                Answer(
                    id=aid,
                    title=f"Answer {aid}",
                    text="Restart the modem",
                    language="en",
                    topic="network",
                    created_at=START - timedelta(days=1),
                    updated_at=START - timedelta(days=1),
                )
            )
        await session.flush()
        for n, outcome, when, shown in plan:
            session.add(
                Ticket(
                    id=n,
                    customer_id=n,
                    status="resolved" if outcome == OfferOutcome.SOLVED else "open",
                    topic="network",
                    sentiment="neutral",
                    language="en",
                    opened_at=when,
                )
            )
            await session.flush()
            offer = AnswerOffer(
                ticket_id=n,
                customer_id=n,
                topic="network",
                language="en",
                offered_at=when,
                wait_until=when + timedelta(minutes=10),
                outcome=outcome,
                decided_at=when + timedelta(minutes=2) if outcome != OfferOutcome.WAITING else None,
            )
            session.add(offer)
            await session.flush()
            for rank, aid in enumerate(shown):
                session.add(
                    AnswerShown(offer_id=offer.id or 0, answer_id=aid, rank=rank, score=0.5)
                )
        for cid, topic, when in [
            (1, "network", at(4)),
            (2, "network", at(32)),
            (6, "billing", at(7)),
        ]:
            session.add(
                Feedback(
                    customer_id=cid,
                    chat_id=7000 + cid,
                    message_id=int(when.timestamp()),
                    text="again",
                    kind="care",
                    confidence=0.9,
                    sentiment="negative",
                    topic=topic,
                    language="en",
                    created_at=when,
                )
            )
    async with db.session() as session:
        summary = await compute_summary(session=session, start=START, end=END, sla_minutes=60)
    s = summary["selfservice"]
    assert s["offered"] == 6
    assert s["self_served"] == 3  # offers 1, 2 and 6
    assert s["self_service_rate"] == 3 / 6
    assert (s["escalated"], s["escalated_on_request"], s["escalated_on_timeout"]) == (2, 1, 1)
    assert s["waiting"] == 1
    assert s["came_back_after_solved"] == 1  # customer 1 only
    per_answer = {
        a["answer_id"]: (a["shown"], a["helpful"], a["not_helpful"]) for a in s["answers"]
    }
    # Answer 1: shown in offers 1, 2, 3 (helpful twice, "a person" once); answer 2: offers 1,
    # 3, 4 (helpful once, not helpful once; a timeout is neither); answer 3: offers 5 and 6.
    assert per_answer == {1: (3, 2, 1), 2: (3, 1, 1), 3: (2, 1, 0)}
