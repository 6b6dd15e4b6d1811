"""Self-service answers: what staff wrote, what was suggested for which ticket, what came of it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Answer, AnswerOffer, AnswerShown, OfferOutcome


@dataclass(frozen=True, slots=True)
class Usefulness:
    """How an answer did: offers it was in, "solved" and "a person" pressed on them."""

    shown: int = 0
    helpful: int = 0
    not_helpful: int = 0


async def add_answer(
    *,
    session: AsyncSession,
    title: str,
    text: str,
    language: str,
    topic: str,
    created_by: int | None,
    now: datetime,
) -> Answer:
    """Store a new answer; it is suggested from now on."""
    answer = Answer(
        title=title,
        text=text,
        language=language,
        topic=topic,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(answer)
    await session.flush()
    return answer


async def edit_answer(
    *, session: AsyncSession, answer_id: int, title: str, text: str, now: datetime
) -> Answer | None:
    """New title and text for a live answer; None when there is no such answer."""
    answer = await session.get(Answer, answer_id)
    if answer is None or answer.retired_at is not None:
        return None
    answer.title, answer.text, answer.updated_at = title, text, now
    session.add(answer)
    return answer


async def retire_answer(*, session: AsyncSession, answer_id: int, now: datetime) -> Answer | None:
    """Stop suggesting an answer (its history stays); None when there is no live one."""
    answer = await session.get(Answer, answer_id)
    if answer is None or answer.retired_at is not None:
        return None
    answer.retired_at = answer.updated_at = now
    session.add(answer)
    return answer


async def live_answers(*, session: AsyncSession) -> list[Answer]:
    """Every answer that may be suggested, oldest first."""
    rows = await session.exec(
        select(Answer).where(col(Answer.retired_at).is_(None)).order_by(col(Answer.id))
    )
    return list(rows.all())


async def answers_version(*, session: AsyncSession) -> tuple[int, datetime | None]:
    """Changes whenever an answer is added, edited or retired: a cached index is stale."""
    count, latest = (
        await session.exec(select(func.count(col(Answer.id)), func.max(Answer.updated_at)))
    ).one()
    return int(count), latest


async def record_offer(
    *,
    session: AsyncSession,
    ticket_id: int,
    customer_id: int,
    topic: str,
    language: str,
    shown: Sequence[tuple[int, float]],
    now: datetime,
    wait_until: datetime,
) -> AnswerOffer:
    """The ticket's offer: stored now, or the one stored before (whoever decided first, the
    customer's acknowledgement or the staff courier, decided for both)."""
    existing = await offer_of_ticket(session=session, ticket_id=ticket_id)
    if existing is not None:
        return existing
    offer = AnswerOffer(
        ticket_id=ticket_id,
        customer_id=customer_id,
        topic=topic,
        language=language,
        offered_at=now,
        wait_until=wait_until,
    )
    try:
        async with session.begin_nested():
            session.add(offer)
            await session.flush()
    except IntegrityError:  # another process stored it a moment ago
        found = await offer_of_ticket(session=session, ticket_id=ticket_id)
        assert found is not None
        return found
    session.add_all(
        AnswerShown(offer_id=offer.id or 0, answer_id=answer_id, rank=rank, score=score)
        for rank, (answer_id, score) in enumerate(shown, start=1)
    )
    await session.flush()
    return offer


async def offer_of_ticket(*, session: AsyncSession, ticket_id: int) -> AnswerOffer | None:
    """The offer made for a ticket, if any."""
    rows = await session.exec(select(AnswerOffer).where(AnswerOffer.ticket_id == ticket_id))
    return rows.first()


async def offers_of_tickets(
    *, session: AsyncSession, ticket_ids: Sequence[int]
) -> dict[int, AnswerOffer]:
    """The offers made for these tickets, by ticket id."""
    if not ticket_ids:
        return {}
    rows = await session.exec(
        select(AnswerOffer).where(col(AnswerOffer.ticket_id).in_(list(ticket_ids)))
    )
    return {offer.ticket_id: offer for offer in rows.all()}


async def shown_answers(*, session: AsyncSession, offer_id: int) -> list[Answer]:
    """The answers of an offer, in the order shown."""
    rows = await session.exec(
        select(Answer)
        .join(AnswerShown, col(AnswerShown.answer_id) == col(Answer.id))
        .where(AnswerShown.offer_id == offer_id)
        .order_by(col(AnswerShown.rank))
    )
    return list(rows.all())


async def asked_for_a_person(*, session: AsyncSession, customer_id: int) -> bool:
    """Whether the customer ever answered a suggestion with "I still need a person"."""
    rows = await session.exec(
        select(AnswerOffer.id)
        .where(AnswerOffer.customer_id == customer_id, AnswerOffer.outcome == OfferOutcome.PERSON)
        .limit(1)
    )
    return rows.first() is not None


async def decide_offer(
    *, session: AsyncSession, offer_id: int, outcome: OfferOutcome, now: datetime
) -> bool:
    """Settle a waiting offer; False when it was settled already (a second press, or the wait
    ran out first). One conditional UPDATE: two processes cannot both settle it."""
    values: dict[str, object] = {"outcome": outcome.value, "decided_at": now}
    if outcome != OfferOutcome.SOLVED:
        values["wait_until"] = now  # the card goes to staff now
    result = await session.exec(
        update(AnswerOffer)
        .where(col(AnswerOffer.id) == offer_id, col(AnswerOffer.outcome) == OfferOutcome.WAITING)
        .values(**values)
    )
    return bool(result.rowcount)


async def expire_offers(*, session: AsyncSession, now: datetime) -> list[int]:
    """Offers whose wait ran out without an answer are settled as timed out: their tickets'
    ids (their cards go to staff)."""
    rows = await session.exec(
        select(AnswerOffer.id, AnswerOffer.ticket_id).where(
            AnswerOffer.outcome == OfferOutcome.WAITING, col(AnswerOffer.wait_until) <= now
        )
    )
    expired = list(rows.all())
    for offer_id, _ in expired:
        await session.exec(
            update(AnswerOffer)
            .where(
                col(AnswerOffer.id) == offer_id, col(AnswerOffer.outcome) == OfferOutcome.WAITING
            )
            .values(outcome=OfferOutcome.TIMEOUT.value, decided_at=now)
        )
    return [ticket_id for _, ticket_id in expired]


async def usefulness(
    *, session: AsyncSession, since: datetime | None = None, until: datetime | None = None
) -> dict[int, Usefulness]:
    """Per answer, over offers made in [since, until): shown, helpful, not helpful."""
    solved = func.sum(case((col(AnswerOffer.outcome) == OfferOutcome.SOLVED.value, 1), else_=0))
    person = func.sum(case((col(AnswerOffer.outcome) == OfferOutcome.PERSON.value, 1), else_=0))
    query = (
        select(AnswerShown.answer_id, func.count(), solved, person)
        .join(AnswerOffer, col(AnswerOffer.id) == col(AnswerShown.offer_id))
        .group_by(col(AnswerShown.answer_id))
    )
    if since is not None:
        query = query.where(col(AnswerOffer.offered_at) >= since)
    if until is not None:
        query = query.where(col(AnswerOffer.offered_at) < until)
    rows = await session.exec(query)
    return {
        int(answer_id): Usefulness(int(shown), int(helpful or 0), int(unhelpful or 0))
        for answer_id, shown, helpful, unhelpful in rows.all()
    }


async def get_answers(*, session: AsyncSession, answer_ids: Sequence[int]) -> dict[int, Answer]:
    """Answers by id (retired ones too)."""
    if not answer_ids:
        return {}
    rows = await session.exec(select(Answer).where(col(Answer.id).in_(list(answer_ids))))
    return {answer.id or 0: answer for answer in rows.all()}


async def get_offer(*, session: AsyncSession, offer_id: int) -> AnswerOffer | None:
    """The offer with this id, if any."""
    return await session.get(AnswerOffer, offer_id)


async def reread_offer(*, session: AsyncSession, offer: AnswerOffer) -> AnswerOffer:
    """The offer as stored now (a conditional UPDATE may have settled it): the same object."""
    await session.refresh(offer)
    return offer


async def waiting_offer_tickets(
    *, session: AsyncSession, ticket_ids: Sequence[int], now: datetime
) -> set[int]:
    """Of these tickets, those with an offer still waiting for the customer's answer at `now`."""
    rows = await session.exec(
        select(AnswerOffer.ticket_id).where(
            col(AnswerOffer.ticket_id).in_(list(ticket_ids)),
            AnswerOffer.outcome == OfferOutcome.WAITING,
            col(AnswerOffer.wait_until) > now,
        )
    )
    return set(rows.all())
