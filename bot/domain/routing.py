"""One stored message to where it belongs: care to a ticket (``bot.domain.care_routing``), an
idea to the board (or first to the customer, when similar ideas are there), other nowhere."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from bot.core.services import Services
from bot.domain.care_routing import CareRequest, CareRouting, route_care_many
from bot.domain.outcomes import HELD_SIMILAR, FeedbackOutcome
from bot.domain.priority import priority_of
from bot.domain.similar import Similar
from storage.db import Session
from storage.feedback import hold_feedback, mark_routed
from storage.ideas import idea_from_feedback
from storage.models import Customer, Feedback, Kind


async def route(
    session: Session,
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
    outcome = replace(outcome, kind=kind)
    if kind == Kind.CARE:
        await mark_routed(session=session, feedback=feedback, now=now)
        request = care_request(outcome, feedback.topic, feedback.sentiment)
        [routing] = await route_care_many(session, services, [request], now)
        return routed(outcome, routing)
    if kind == Kind.IDEA:
        similar = similar_to.get(feedback.text, ())
        if similar:
            # The customer first sees what is on the board and may vote instead.
            await hold_feedback(session=session, feedback=feedback, held_for=HELD_SIMILAR)
            return replace(outcome, held_for=HELD_SIMILAR, similar=tuple(similar))
        idea = await idea_from_feedback(session=session, feedback=feedback, now=now)
        await mark_routed(session=session, feedback=feedback, now=now, idea_id=idea.id)
        return replace(outcome, idea_id=idea.id)
    await mark_routed(session=session, feedback=feedback, now=now)
    return outcome


def care_request(outcome: FeedbackOutcome, topic: str, sentiment: str) -> CareRequest:
    """What care routing needs of a message."""
    return CareRequest(
        feedback_id=outcome.feedback_id,
        customer_id=outcome.customer_id,
        text=outcome.text,
        topic=topic,
        sentiment=sentiment,
        priority=priority_of(outcome.triage, outcome.text),
        language=outcome.language,
    )


def routed(outcome: FeedbackOutcome, routing: CareRouting) -> FeedbackOutcome:
    """The outcome of a care request once its ticket (and incident) is known."""
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
