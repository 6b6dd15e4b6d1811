"""Self-service: care requests offered suggested answers, those they solved, those escalated,
and, per answer, how often it was shown, solved a request, or was not enough."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.answers import get_answers, usefulness
from storage.metrics.common import ratio
from storage.models import AnswerOffer, Feedback, Kind, OfferOutcome

CAME_BACK_WITHIN = timedelta(hours=24)


async def selfservice_in(
    session: AsyncSession, *, start: datetime, end: datetime, top: int = 5
) -> dict[str, Any]:
    """The window's offers (by when they were made) and what came of them."""
    offers = list(
        (
            await session.exec(
                select(AnswerOffer).where(
                    col(AnswerOffer.offered_at) >= start, col(AnswerOffer.offered_at) < end
                )
            )
        ).all()
    )
    solved = [o for o in offers if o.outcome == OfferOutcome.SOLVED]
    person = sum(o.outcome == OfferOutcome.PERSON for o in offers)
    timeout = sum(o.outcome == OfferOutcome.TIMEOUT for o in offers)
    came_back = 0
    for offer in solved:
        assert offer.decided_at is not None
        returned = (
            await session.exec(
                select(Feedback.id)
                .where(
                    Feedback.customer_id == offer.customer_id,
                    Feedback.kind == Kind.CARE.value,
                    Feedback.topic == offer.topic,
                    col(Feedback.created_at) > offer.decided_at,
                    col(Feedback.created_at) <= offer.decided_at + CAME_BACK_WITHIN,
                )
                .limit(1)
            )
        ).first()
        came_back += returned is not None
    per_answer = await usefulness(session=session, since=start, until=end)
    answers = await get_answers(session=session, answer_ids=sorted(per_answer))
    ranked = sorted(per_answer.items(), key=lambda item: (-item[1].shown, item[0]))
    return {
        "offered": len(offers),
        "self_served": len(solved),
        "self_service_rate": ratio(len(solved), len(offers)),
        "escalated": person + timeout,
        "escalated_on_request": person,
        "escalated_on_timeout": timeout,
        "waiting": sum(o.outcome == OfferOutcome.WAITING for o in offers),
        "came_back_after_solved": came_back,
        "answers": [
            {
                "answer_id": answer_id,
                "title": answers[answer_id].title if answer_id in answers else "",
                "language": answers[answer_id].language if answer_id in answers else "",
                "shown": counts.shown,
                "helpful": counts.helpful,
                "not_helpful": counts.not_helpful,
            }
            for answer_id, counts in ranked[:top]
        ],
    }
