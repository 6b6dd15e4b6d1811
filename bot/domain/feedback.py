"""A customer's message becomes feedback: triaged, stored, then routed to a ticket or the board.

Routing waits when the model is unsure (the customer is asked) or the customer writes faster
than the flood limit (the excess goes to staff together, later).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.services import Services
from bot.domain.care_routing import CareRequest, CareRouting, route_care_many
from bot.domain.priority import priority_of
from bot.domain.similar import Similar, similar_ideas
from nlp import TriageResult
from storage.customers import (
    SeenCustomer,
    get_customer_by_telegram_id,
    upsert_customer,
    upsert_customers,
)
from storage.feedback import (
    NewFeedback,
    find_feedback_by_messages,
    insert_feedback,
    recent_activity,
)
from storage.ideas import idea_from_feedback
from storage.models import (
    Customer,
    Feedback,
    Kind,
    Label,
    customer_display_name,
    format_ticket_reference,
)
from storage.tickets import (
    find_customer_message,
    median_first_response_seconds,
)

HELD_ASK = "ask"
HELD_FLOOD = "flood"
HELD_SIMILAR = "similar"


@dataclass(frozen=True, slots=True)
class Sender:
    """Who wrote, as Telegram describes them."""

    telegram_user_id: int
    first_name: str | None
    last_name: str | None
    username: str | None
    language_code: str | None


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """What they wrote: text or caption, and any media."""

    chat_id: int
    message_id: int
    text: str
    media_type: str | None = None
    media_file_id: str | None = None


@dataclass(frozen=True, slots=True)
class FeedbackOutcome:
    """What became of a message, for the replies to render."""

    feedback_id: int
    customer_id: int
    customer_name: str
    chat_id: int
    message_id: int
    text: str
    kind: str
    triage: TriageResult
    language: str
    media_type: str | None = None
    held_for: str | None = None
    first_held: bool = False
    ticket_id: int | None = None
    ticket_message_id: int | None = None
    new_ticket: bool = False
    priority: str | None = None
    idea_id: int | None = None
    idea_created: bool = True
    similar: tuple[Similar, ...] = ()
    # The incident the ticket belongs to; `joined_incident` when it was open before this
    # report (the customer is told the problem is known).
    incident_id: int | None = None
    joined_incident: bool = False
    incident_since: datetime | None = None
    incident_others: int = 0

    @property
    def reference(self) -> str | None:
        """The ticket reference, for care requests."""
        return format_ticket_reference(self.ticket_id) if self.ticket_id else None


async def receive_feedback_many(
    services: Services, messages: Sequence[tuple[Sender, IncomingMessage]]
) -> list[FeedbackOutcome]:
    """Triage and store customers' messages in one transaction; route each unless it must
    wait. The lookups (messages seen before, customers, their last minute) are one query each
    for the whole batch.

    The same message again (its update processed a second time after a crash) gives the
    outcome it had the first time, stores nothing new and routes nothing again.
    """
    triages = await services.triage.triage_many([message.text for _, message in messages])
    # Outside the transaction: ideas like the new ones (used by those that become ideas).
    ideas = [m.text for (_, m), t in zip(messages, triages, strict=True) if t.kind == Kind.IDEA]
    similar = await similar_ideas(services.db, ideas)
    now = services.clock.now()
    settings = services.settings
    async with services.db.session() as session:
        known = await find_feedback_by_messages(
            session=session, messages=[(m.chat_id, m.message_id) for _, m in messages]
        )
        fresh = [
            (
                sender,
                message,
                triage,
                reply_language(services, triage.language, sender.language_code),
            )
            for (sender, message), triage in zip(messages, triages, strict=True)
            if (message.chat_id, message.message_id) not in known
        ]
        customer_ids = await upsert_customers(
            session=session,
            seen=[
                SeenCustomer(
                    telegram_user_id=sender.telegram_user_id,
                    first_name=sender.first_name,
                    last_name=sender.last_name,
                    username=sender.username,
                    language=language,
                )
                for sender, _, _, language in fresh
            ],
            now=now,
        )
        recent = await recent_activity(
            session=session,
            customer_ids=list(customer_ids.values()),
            since=now - timedelta(minutes=1),
            held_for=HELD_FLOOD,
        )
        rows: list[NewFeedback] = []
        outcomes: dict[tuple[int, int], FeedbackOutcome] = {}
        for sender, message, triage, language in fresh:
            customer_id = customer_ids[sender.telegram_user_id]
            count, held_recently = recent.get(customer_id, (0, False))
            held_for: str | None = None
            if count >= settings.flood_limit_per_minute:
                held_for = HELD_FLOOD
            elif message.text.strip() and triage.confidence < settings.triage_min_confidence:
                held_for = HELD_ASK
            recent[customer_id] = (count + 1, held_recently or held_for == HELD_FLOOD)
            row = NewFeedback(
                customer_id=customer_id,
                chat_id=message.chat_id,
                message_id=message.message_id,
                text=message.text,
                media_type=message.media_type,
                media_file_id=message.media_file_id,
                kind=triage.kind,
                confidence=triage.confidence,
                sentiment=triage.sentiment,
                topic=triage.topic,
                language=triage.language,
                keywords=" ".join(triage.keywords),
                created_at=now,
                held_for=held_for,
                # Other messages are routed once stored; care and ideas below, by _route.
                routed_at=now if held_for is None and triage.kind == Kind.OTHER else None,
            )
            rows.append(row)
            outcomes[(message.chat_id, message.message_id)] = FeedbackOutcome(
                feedback_id=0,
                customer_id=customer_id,
                customer_name=customer_display_name(
                    customer_id, sender.first_name, sender.last_name, sender.username
                ),
                chat_id=message.chat_id,
                message_id=message.message_id,
                text=message.text,
                kind=triage.kind,
                triage=triage,
                language=language,
                media_type=message.media_type,
                held_for=held_for,
                first_held=held_for == HELD_FLOOD and not held_recently,
            )
        feedback_ids = await insert_feedback(session=session, rows=rows)
        care: list[tuple[tuple[int, int], CareRequest]] = []
        for row, feedback_id in zip(rows, feedback_ids, strict=True):
            where = (row.chat_id, row.message_id)
            outcome = replace(outcomes[where], feedback_id=feedback_id)
            if outcome.held_for is None and outcome.kind == Kind.CARE:
                care.append((where, _care_request(outcome, row.topic, row.sentiment)))
            elif outcome.held_for is None and outcome.kind != Kind.OTHER:
                feedback = await session.get(Feedback, feedback_id)
                customer = await session.get(Customer, outcome.customer_id)
                assert feedback is not None and customer is not None
                outcome = await _route(
                    session, services, feedback, customer, outcome, outcome.kind, now, similar
                )
            outcomes[where] = outcome
        # The batch's care requests open and join their tickets together.
        routed = await route_care_many(session, services, [r for _, r in care], now)
        for (where, _), routing in zip(care, routed, strict=True):
            outcomes[where] = _routed(outcomes[where], routing)
        results = [
            outcomes.get((m.chat_id, m.message_id))
            or await _replay(session, triage, known[(m.chat_id, m.message_id)])
            for (_, m), triage in zip(messages, triages, strict=True)
        ]
    return [await _with_similar(services, outcome) for outcome in results]


async def settle_kind(
    services: Services, *, feedback_id: int, telegram_user_id: int, kind: str
) -> FeedbackOutcome | None:
    """The customer said what their message is: store it as a label and route the message.

    None when the message is not theirs or was routed already (a second press).
    """
    now = services.clock.now()
    async with services.db.read() as session:
        held = await session.get(Feedback, feedback_id)
    if held is None or held.held_for != HELD_ASK or held.routed_at is not None:
        return None
    # Outside the transaction: the model, and the ideas like it.
    triage = await services.triage.triage(held.text)
    similar = await similar_ideas(services.db, [held.text]) if kind == Kind.IDEA else {}
    async with services.db.session() as session:
        feedback = await session.get(Feedback, feedback_id)
        if feedback is None or feedback.held_for != HELD_ASK or feedback.routed_at is not None:
            return None
        customer = await session.get(Customer, feedback.customer_id)
        if customer is None or customer.telegram_user_id != telegram_user_id:
            return None
        session.add(
            Label(
                feedback_id=feedback_id,
                field="kind",
                value=kind,
                source="customer",
                labelled_by=telegram_user_id,
                created_at=now,
            )
        )
        feedback.kind = kind
        feedback.held_for = None
        outcome = outcome_for(feedback, customer, triage, customer.language)
        return await _route(session, services, feedback, customer, outcome, kind, now, similar)


async def release_flood(services: Services) -> list[list[FeedbackOutcome]]:
    """Route messages held by flood control once their burst is over, grouped by customer."""
    now = services.clock.now()
    quiet_since = now - timedelta(minutes=1)
    groups: list[list[FeedbackOutcome]] = []
    latest = (
        select(Feedback.customer_id, func.max(Feedback.created_at).label("last"))
        .group_by(col(Feedback.customer_id))
        .subquery()
    )
    held = (
        select(Feedback)
        .join(latest, col(latest.c.customer_id) == col(Feedback.customer_id))
        .where(
            Feedback.held_for == HELD_FLOOD,
            col(Feedback.routed_at).is_(None),
            latest.c.last < quiet_since,
        )
        .order_by(col(Feedback.customer_id), col(Feedback.id))
    )
    async with services.db.read() as session:
        seen = list((await session.exec(held)).all())
    if not seen:
        return groups
    # Outside the transaction: the model, and the ideas like those that are ideas.
    triaged = dict(
        zip(
            [f.id for f in seen],
            await services.triage.triage_many([f.text for f in seen]),
            strict=True,
        )
    )
    similar = await similar_ideas(services.db, [f.text for f in seen if f.kind == Kind.IDEA])
    async with services.db.session() as session:
        # Those held meanwhile wait for the next release.
        rows = [f for f in (await session.exec(held)).all() if f.id in triaged]
        current: list[FeedbackOutcome] = []
        for feedback in rows:
            triage = triaged[feedback.id]
            customer = await session.get(Customer, feedback.customer_id)
            if customer is None:
                continue
            if current and current[-1].customer_id != customer.id:
                groups.append(current)
                current = []
            feedback.held_for = None
            outcome = outcome_for(feedback, customer, triage, customer.language)
            current.append(
                await _route(
                    session, services, feedback, customer, outcome, feedback.kind, now, similar
                )
            )
        if current:
            groups.append(current)
    return groups


async def _route(
    session: AsyncSession,
    services: Services,
    feedback: Feedback,
    customer: Customer,
    outcome: FeedbackOutcome,
    kind: str,
    now: datetime,
    similar_to: Mapping[str, tuple[Similar, ...]],
) -> FeedbackOutcome:
    """Open or join a ticket for care, put an idea on the board; mark the message routed.

    `similar_to`: the ideas like each text, found before the transaction (similar_ideas)."""
    assert customer.id is not None and feedback.id is not None
    feedback.routed_at = now
    outcome = replace(outcome, kind=kind)
    if kind == Kind.CARE:
        session.add(feedback)
        await session.flush()
        request = _care_request(outcome, feedback.topic, feedback.sentiment)
        [routing] = await route_care_many(session, services, [request], now)
        return _routed(outcome, routing)
    if kind == Kind.IDEA:
        similar = similar_to.get(feedback.text, ())
        if similar:
            # The customer first sees what is on the board and may vote instead.
            feedback.routed_at = None
            feedback.held_for = HELD_SIMILAR
            session.add(feedback)
            return replace(outcome, held_for=HELD_SIMILAR, similar=tuple(similar))
        idea = await idea_from_feedback(session=session, feedback=feedback, now=now)
        feedback.idea_id = idea.id
        session.add(feedback)
        return replace(outcome, idea_id=idea.id)
    session.add(feedback)
    return outcome


def _care_request(outcome: FeedbackOutcome, topic: str, sentiment: str) -> CareRequest:
    return CareRequest(
        feedback_id=outcome.feedback_id,
        customer_id=outcome.customer_id,
        text=outcome.text,
        topic=topic,
        sentiment=sentiment,
        priority=priority_of(outcome.triage, outcome.text),
        language=outcome.language,
    )


def _routed(outcome: FeedbackOutcome, routing: CareRouting) -> FeedbackOutcome:
    incident = routing.incident
    return replace(
        outcome,
        kind=Kind.CARE,
        ticket_id=routing.ticket_id,
        ticket_message_id=routing.ticket_message_id,
        new_ticket=routing.new_ticket,
        priority=routing.priority,
        incident_id=incident.incident_id if incident else None,
        joined_incident=incident.joined if incident else False,
        incident_since=incident.since if incident else None,
        incident_others=incident.others if incident else 0,
    )


async def _replay(
    session: AsyncSession, triage: TriageResult, feedback: Feedback
) -> FeedbackOutcome:
    customer = await session.get(Customer, feedback.customer_id)
    assert customer is not None and feedback.id is not None
    outcome = replace(
        outcome_for(feedback, customer, triage, customer.language),
        held_for=feedback.held_for,
        ticket_id=feedback.ticket_id,
        idea_id=feedback.idea_id,
    )
    if feedback.ticket_id is not None:
        first = (
            await session.exec(
                select(func.min(Feedback.id)).where(Feedback.ticket_id == feedback.ticket_id)
            )
        ).one()
        ticket_message = await find_customer_message(session=session, feedback_id=feedback.id)
        outcome = replace(
            outcome,
            new_ticket=first == feedback.id,
            ticket_message_id=ticket_message.id if ticket_message else None,
        )
    return outcome


async def _with_similar(services: Services, outcome: FeedbackOutcome) -> FeedbackOutcome:
    """A replayed message held for similar ideas shows them again (found after the
    transaction)."""
    if outcome.held_for != HELD_SIMILAR or outcome.similar:
        return outcome
    found = await similar_ideas(services.db, [outcome.text])
    return replace(outcome, similar=found.get(outcome.text, ()))


async def known_customer(
    services: Services, session: AsyncSession, sender: Sender, now: datetime
) -> Customer:
    """The customer for this sender, created on first contact (a command, a vote…); names kept
    current, language kept as it was learnt from what they wrote."""
    existing = await get_customer_by_telegram_id(
        session=session, telegram_user_id=sender.telegram_user_id
    )
    return await upsert_customer(
        session=session,
        telegram_user_id=sender.telegram_user_id,
        first_name=sender.first_name,
        last_name=sender.last_name,
        username=sender.username,
        language=(
            existing.language if existing else services.catalog.language_for(sender.language_code)
        ),
        now=now,
    )


def outcome_for(
    feedback: Feedback, customer: Customer, triage: TriageResult, language: str
) -> FeedbackOutcome:
    assert feedback.id is not None and customer.id is not None
    return FeedbackOutcome(
        feedback_id=feedback.id,
        customer_id=customer.id,
        customer_name=customer.display_name,
        chat_id=feedback.chat_id,
        message_id=feedback.message_id,
        text=feedback.text,
        kind=feedback.kind,
        triage=triage,
        language=language,
        media_type=feedback.media_type,
    )


async def expected_response_minutes(services: Services) -> int:
    """What to promise: the median first response of the last 7 days, or the SLA without data."""
    since = services.clock.now() - timedelta(days=7)
    async with services.db.session() as session:
        median = await median_first_response_seconds(session=session, since=since)
    if median is None:
        return services.settings.sla_minutes
    return max(1, round(median / 60))


def reply_language(services: Services, detected: str, telegram_code: str | None) -> str:
    """Answer in the language the customer wrote in when we speak it, else their app's."""
    catalog = services.catalog
    if detected in catalog.languages:
        return detected
    return catalog.language_for(telegram_code)


__all__ = [
    "HELD_ASK",
    "HELD_FLOOD",
    "HELD_SIMILAR",
    "FeedbackOutcome",
    "IncomingMessage",
    "Sender",
    "expected_response_minutes",
    "known_customer",
    "outcome_for",
    "receive_feedback_many",
    "release_flood",
    "reply_language",
    "settle_kind",
]
