"""Messages that waited before routing: the customer said what an unclear one is, or their
burst under flood control is over."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.core.services import Services
from bot.domain.outcomes import HELD_ASK, HELD_FLOOD, FeedbackOutcome, outcome_for
from bot.domain.routing import route
from bot.domain.similar import similar_ideas
from bot.domain.suggestions import suggestions_for
from storage.customers import get_customer
from storage.feedback import get_feedback, held_after_quiet
from storage.labels import CUSTOMER, KIND, label_feedback
from storage.models import Kind


async def settle_kind(
    services: Services, *, feedback_id: int, telegram_user_id: int, kind: str
) -> FeedbackOutcome | None:
    """The customer said what their message is: store it as a label and route the message.
    Care or other that holds an idea comes with it as a suggestion, as when it was sure.

    None when the message is not theirs or was routed already (a second press).
    """
    now = services.clock.now()
    async with services.db.read() as session:
        held = await get_feedback(session=session, feedback_id=feedback_id)
    if held is None or held.held_for != HELD_ASK or held.routed_at is not None:
        return None
    # Outside the transaction: the model, and the ideas like it.
    triage = await services.triage.triage(held.text)
    similar = await similar_ideas(services.db, [held.text]) if kind == Kind.IDEA else {}
    suggestion = (await suggestions_for(services, [held.text]))[0] if kind != Kind.IDEA else None
    async with services.db.session() as session:
        feedback = await get_feedback(session=session, feedback_id=feedback_id)
        if feedback is None or feedback.held_for != HELD_ASK or feedback.routed_at is not None:
            return None
        customer = await get_customer(session=session, customer_id=feedback.customer_id)
        if customer is None or customer.telegram_user_id != telegram_user_id:
            return None
        await label_feedback(
            session=session,
            feedback=feedback,
            field=KIND,
            value=kind,
            source=CUSTOMER,
            labelled_by=telegram_user_id,
            now=now,
        )
        outcome = outcome_for(feedback, customer, triage, customer.language)
        outcome = await route(session, services, feedback, customer, outcome, kind, now, similar)
    return replace(outcome, suggestion=suggestion.text if suggestion else None)


async def release_flood(services: Services) -> list[list[FeedbackOutcome]]:
    """Route messages held by flood control once their burst is over, grouped by customer.

    (No suggestions here: the customer hears once that their messages went on together.)"""
    now = services.clock.now()
    quiet_since = now - timedelta(minutes=1)
    groups: list[list[FeedbackOutcome]] = []
    async with services.db.read() as session:
        seen = await held_after_quiet(session=session, held_for=HELD_FLOOD, quiet_since=quiet_since)
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
        held = await held_after_quiet(session=session, held_for=HELD_FLOOD, quiet_since=quiet_since)
        current: list[FeedbackOutcome] = []
        for feedback in [f for f in held if f.id in triaged]:
            triage = triaged[feedback.id]
            customer = await get_customer(session=session, customer_id=feedback.customer_id)
            if customer is None:
                continue
            if current and current[-1].customer_id != customer.id:
                groups.append(current)
                current = []
            outcome = outcome_for(feedback, customer, triage, customer.language)
            current.append(
                await route(
                    session, services, feedback, customer, outcome, feedback.kind, now, similar
                )
            )
        if current:
            groups.append(current)
    return groups
