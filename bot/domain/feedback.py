"""A customer's message becomes feedback: triaged, stored, then routed to a ticket or the board.

Routing waits when the model is unsure (the customer is asked) or the customer writes faster
than the flood limit (the excess goes to staff together, later): ``bot.domain.held`` routes
those. A care or other message that also holds an idea comes out with it as a suggestion
(``bot.domain.suggestions``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from bot.core.services import Services
from bot.domain.care_routing import CareRequest, route_care_many
from bot.domain.outcomes import (
    HELD_ASK,
    HELD_FLOOD,
    HELD_SIMILAR,
    FeedbackOutcome,
    IncomingMessage,
    Sender,
    new_outcome,
    outcome_for,
    reply_language,
)
from bot.domain.routing import care_request, route, routed
from bot.domain.similar import similar_ideas
from bot.domain.suggestions import may_offer, suggestions_for
from nlp import TriageResult
from nlp.sentences import Suggestion
from storage.customers import (
    SeenCustomer,
    get_customer,
    get_customer_by_telegram_id,
    upsert_customer,
    upsert_customers,
)
from storage.db import Session
from storage.feedback import (
    NewFeedback,
    find_feedback_by_message,
    find_feedback_by_messages,
    first_feedback_of_ticket,
    get_feedback,
    insert_feedback,
    mark_edited,
    recent_activity,
)
from storage.models import Customer, Feedback, Kind, TicketMessage, customer_display_name
from storage.tickets import (
    edit_customer_copy,
    find_customer_message,
    median_first_response_seconds,
)


async def receive_feedback_many(
    services: Services, messages: Sequence[tuple[Sender, IncomingMessage]]
) -> list[FeedbackOutcome]:
    """Triage and store customers' messages in one transaction; route each unless it must
    wait. The lookups (messages seen before, customers, their last minute) are one query each
    for the whole batch.

    The same message again (its update processed a second time after a crash) gives the
    outcome it had the first time, stores nothing new and routes nothing again; its
    suggestion, derived from the same text and kind, is the same too.
    """
    triages = await services.triage.triage_many([message.text for _, message in messages])
    # Outside the transaction: ideas like the new ones (used by those that become ideas), and
    # the ideas inside those that are care or other (the sure ones: the unsure are asked).
    ideas = [m.text for (_, m), t in zip(messages, triages, strict=True) if t.kind == Kind.IDEA]
    similar = await similar_ideas(services.db, ideas)
    settings = services.settings
    offered = [
        may_offer(t.kind, None) and t.confidence >= settings.triage_min_confidence for t in triages
    ]
    found = await suggestions_for(
        services, [m.text if o else "" for (_, m), o in zip(messages, offered, strict=True)]
    )
    suggestions = {
        (m.chat_id, m.message_id): s for (_, m), s in zip(messages, found, strict=True) if s
    }
    now = services.clock.now()
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
                # Other messages are routed once stored; care and ideas below, by route().
                routed_at=now if held_for is None and triage.kind == Kind.OTHER else None,
            )
            rows.append(row)
            name = customer_display_name(
                customer_id, sender.first_name, sender.last_name, sender.username
            )
            outcomes[(message.chat_id, message.message_id)] = replace(
                new_outcome(
                    row,
                    feedback_id=0,  # set once stored, below
                    customer_id=customer_id,
                    customer_name=name,
                    triage=triage,
                    language=language,
                ),
                held_for=held_for,
                first_held=held_for == HELD_FLOOD and not held_recently,
            )
        feedback_ids = await insert_feedback(session=session, rows=rows)
        care: list[tuple[tuple[int, int], CareRequest]] = []
        for row, feedback_id in zip(rows, feedback_ids, strict=True):
            where = (row.chat_id, row.message_id)
            outcome = replace(outcomes[where], feedback_id=feedback_id)
            if outcome.held_for is None and outcome.kind == Kind.CARE:
                care.append((where, care_request(outcome, row.topic, row.sentiment)))
            elif outcome.held_for is None and outcome.kind != Kind.OTHER:
                feedback = await get_feedback(session=session, feedback_id=feedback_id)
                customer = await get_customer(session=session, customer_id=outcome.customer_id)
                assert feedback is not None and customer is not None
                outcome = await route(
                    session, services, feedback, customer, outcome, outcome.kind, now, similar
                )
            outcomes[where] = outcome
        # The batch's care requests open and join their tickets together.
        routed_care = await route_care_many(session, services, [r for _, r in care], now)
        for (where, _), routing in zip(care, routed_care, strict=True):
            outcomes[where] = routed(outcomes[where], routing)
        results = [
            outcomes.get((m.chat_id, m.message_id))
            or await _replay(session, triage, known[(m.chat_id, m.message_id)])
            for (_, m), triage in zip(messages, triages, strict=True)
        ]
    return [await _with_similar(services, _offer(o, suggestions)) for o in results]


def _offer(
    outcome: FeedbackOutcome, suggestions: dict[tuple[int, int], Suggestion]
) -> FeedbackOutcome:
    """The outcome with the suggestion its message holds, when it may carry one."""
    found = suggestions.get((outcome.chat_id, outcome.message_id))
    if found is None or not may_offer(outcome.kind, outcome.held_for):
        return outcome
    return replace(outcome, suggestion=found.text)


async def _replay(session: Session, triage: TriageResult, feedback: Feedback) -> FeedbackOutcome:
    customer = await get_customer(session=session, customer_id=feedback.customer_id)
    assert customer is not None and feedback.id is not None
    outcome = replace(
        outcome_for(feedback, customer, triage, customer.language),
        held_for=feedback.held_for,
        ticket_id=feedback.ticket_id,
        # A care or other message's idea is its accepted suggestion, not what it became.
        idea_id=feedback.idea_id if feedback.kind == Kind.IDEA else None,
    )
    if feedback.ticket_id is not None:
        first = await first_feedback_of_ticket(session=session, ticket_id=feedback.ticket_id)
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
    services: Services, session: Session, sender: Sender, now: datetime
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


async def register_customer(services: Services, sender: Sender) -> str:
    """Make sure the customer exists (a first contact may be a command); their language."""
    async with services.db.session() as session:
        customer = await known_customer(services, session, sender, services.clock.now())
    return customer.language


async def expected_response_minutes(services: Services) -> int:
    """What to promise: the median first response of the last 7 days, or the SLA without data."""
    since = services.clock.now() - timedelta(days=7)
    async with services.db.session() as session:
        median = await median_first_response_seconds(session=session, since=since)
    if median is None:
        return services.settings.sla_minutes
    return max(1, round(median / 60))


__all__ = [
    "expected_response_minutes",
    "known_customer",
    "receive_feedback_many",
    "register_customer",
]


async def edit_feedback(
    services: Services, *, chat_id: int, message_id: int, text: str
) -> TicketMessage | None:
    """The customer edited a message: keep the new text, in its ticket's copy too. The copy,
    when there is one (to show staff); None for a message not stored or in no ticket."""
    now = services.clock.now()
    async with services.db.session() as session:
        feedback = await find_feedback_by_message(
            session=session, chat_id=chat_id, message_id=message_id
        )
        if feedback is None or feedback.id is None:
            return None
        await mark_edited(session=session, feedback=feedback, text=text, now=now)
        return await edit_customer_copy(
            session=session, feedback_id=feedback.id, text=text, now=now
        )
