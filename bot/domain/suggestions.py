"""A message that is two things at once: the idea inside a care request or a thank-you ("the
app crashes when I pay; also, a dark mode would be nice") is offered to the customer for the
idea board; the whole message's kind alone decides its ticket.

The offer is derived from the stored message, never stored apart from it: its text and kind
(care or other, routed at once) decide it by one rule (``nlp.sentences``), so a replayed update
offers the same thing, a press finds the same suggestion, and ``/forget``, which erases the
text, leaves nothing to offer or add. Accepting links the new idea to the message
(``Feedback.idea_id``: the idea this message gave), so a second press finds it instead of adding
another one.

As with an idea sent on its own, ideas already on the board that look like the suggestion are
shown first: the customer votes for one of them (the message is then linked to that idea) or
adds theirs even so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.services import Services
from bot.domain.similar import Similar, similar_ideas
from nlp.sentences import Suggestion, suggestion_spans, suggestions_from
from storage.customers import get_customer
from storage.db import Session
from storage.feedback import get_feedback, lock_feedback
from storage.ideas import CLOSED_STATUSES, add_vote, create_idea, get_idea
from storage.models import Customer, Feedback, Idea, Kind
from storage.tickets import link_feedback_to_idea

# What a press can come to.
ADDED, ALREADY, DECLINED, GONE, NOT_YOURS = "added", "already", "declined", "gone", "not_yours"
SIMILAR, VOTED, CLOSED = "similar", "voted", "closed"

# Only these wholes are offered the idea inside them; an idea goes to the board whole.
OFFERED_KINDS = frozenset({Kind.CARE, Kind.OTHER})


@dataclass(frozen=True, slots=True)
class SuggestionResult:
    """What became of a press on an offer, in the language the offer was made in."""

    status: str
    language: str | None = None
    idea_id: int | None = None
    # The idea just added (ADDED), for the staff's "Ideas" topic.
    idea: Idea | None = None
    customer_name: str = ""
    # Ideas on the board like the suggestion (SIMILAR, CLOSED): nothing was added yet.
    similar: tuple[Similar, ...] = ()
    # The suggestion's text (SIMILAR, CLOSED), to quote above them.
    suggestion: str = ""


def may_offer(kind: str, held_for: str | None) -> bool:
    """Whether a message's outcome may carry a suggestion: care or other, routed now (a held
    message is asked about, or its burst goes on together, first)."""
    return held_for is None and kind in OFFERED_KINDS


async def suggestions_for(services: Services, texts: Sequence[str]) -> list[Suggestion | None]:
    """The suggestion in each text (care or other as a whole): only texts of more than one
    sentence are triaged again, all their sentences in one model call, off the event loop."""
    spans = [suggestion_spans(text) for text in texts]
    flat = [text[a:b] for text, own in zip(texts, spans, strict=True) for a, b in own]
    results = await services.triage.triage_many(flat) if flat else []
    return suggestions_from(texts, spans, results)


async def accept_suggestion(
    services: Services, *, feedback_id: int, telegram_user_id: int, check_similar: bool = True
) -> SuggestionResult:
    """Put the suggestion of the customer's message on the board, once; with
    ``check_similar``, ideas on the board like it are returned first (SIMILAR) and nothing is
    added until the customer chooses."""
    found = await _suggestion_of(services, feedback_id, telegram_user_id)
    if isinstance(found, SuggestionResult):
        return found
    feedback, customer, language, suggestion = found
    if check_similar:
        similar = await _similar_to(services, suggestion)
        if similar:
            return SuggestionResult(SIMILAR, language, similar=similar, suggestion=suggestion.text)
    async with services.db.session() as session:
        checked = await _lock_unchanged(session, feedback, customer, telegram_user_id, language)
        if isinstance(checked, SuggestionResult):
            return checked
        locked, owner = checked
        idea = await create_idea(
            session=session,
            customer_id=owner.id or 0,
            text=suggestion.text,
            # The suggestion's own topic ("dark mode": app), unless it has none of its own.
            topic=suggestion.topic if suggestion.topic != "other" else locked.topic,
            language=locked.language,
            now=services.clock.now(),
        )
        await link_feedback_to_idea(session=session, feedback=[locked], idea_id=idea.id)
        return SuggestionResult(ADDED, language, idea.id, idea, owner.display_name)


async def vote_for_similar(
    services: Services, *, feedback_id: int, telegram_user_id: int, idea_id: int
) -> SuggestionResult:
    """The customer's suggestion is like idea ``idea_id``: their vote goes to it, and the
    message is linked to it (so a second press finds it), instead of a new idea. Only an idea
    that is still open and still like the suggestion takes the vote (else CLOSED, with the
    ideas like it now)."""
    found = await _suggestion_of(services, feedback_id, telegram_user_id)
    if isinstance(found, SuggestionResult):
        return found
    feedback, customer, language, suggestion = found
    similar = await _similar_to(services, suggestion)
    if idea_id not in {idea.idea_id for idea in similar}:
        return SuggestionResult(
            CLOSED, language, idea_id, similar=similar, suggestion=suggestion.text
        )
    async with services.db.session() as session:
        checked = await _lock_unchanged(session, feedback, customer, telegram_user_id, language)
        if isinstance(checked, SuggestionResult):
            return checked
        locked, owner = checked
        idea = await get_idea(session=session, idea_id=idea_id)
        if idea is None or idea.status in CLOSED_STATUSES:  # closed in the meantime
            return SuggestionResult(CLOSED, language, idea_id, suggestion=suggestion.text)
        await add_vote(
            session=session, idea_id=idea_id, customer_id=owner.id or 0, now=services.clock.now()
        )
        await link_feedback_to_idea(session=session, feedback=[locked], idea_id=idea_id)
        return SuggestionResult(VOTED, language, idea_id)


async def decline_suggestion(
    services: Services, *, feedback_id: int, telegram_user_id: int
) -> SuggestionResult:
    """The customer does not want the suggestion on the board: nothing is stored (the offer is
    only ever derived from the message); one accepted before stays."""
    looked = await _first_look(services, feedback_id, telegram_user_id)
    if isinstance(looked, SuggestionResult):
        return looked
    return SuggestionResult(DECLINED, looked[2])


async def _first_look(
    services: Services, feedback_id: int, telegram_user_id: int
) -> SuggestionResult | tuple[Feedback, Customer, str]:
    """What a press finds: the answer when it is settled before anything is computed (not
    theirs, already on the board), else the message, its author and the language to answer in."""
    async with services.db.read() as session:
        feedback, customer = await _theirs(session, feedback_id, telegram_user_id)
    if feedback is None or customer is None:
        return SuggestionResult(NOT_YOURS)
    language = _language(services, feedback, customer)
    if feedback.idea_id is not None:
        return SuggestionResult(ALREADY, language, feedback.idea_id)
    return feedback, customer, language


async def _suggestion_of(
    services: Services, feedback_id: int, telegram_user_id: int
) -> SuggestionResult | tuple[Feedback, Customer, str, Suggestion]:
    """Outside any transaction: the message, its author, the language and the suggestion the
    model finds in it; or what the press comes to (not theirs, already on the board, gone)."""
    looked = await _first_look(services, feedback_id, telegram_user_id)
    if isinstance(looked, SuggestionResult):
        return looked
    feedback, customer, language = looked
    offered = feedback.text if feedback.kind in OFFERED_KINDS else ""
    [suggestion] = await suggestions_for(services, [offered])
    if suggestion is None:  # edited away, or not a message that was offered one
        return SuggestionResult(GONE, language)
    return feedback, customer, language, suggestion


async def _similar_to(services: Services, suggestion: Suggestion) -> tuple[Similar, ...]:
    """The open ideas on the board like the suggestion, most alike first."""
    return (await similar_ideas(services.db, [suggestion.text])).get(suggestion.text, ())


async def _lock_unchanged(
    session: Session, feedback: Feedback, customer: Customer, telegram_user_id: int, language: str
) -> SuggestionResult | tuple[Feedback, Customer]:
    """In the writing transaction: the message, locked, and its author, checked again (a
    press that raced another, /forget, an edit in between); or what the press comes to."""
    locked = await lock_feedback(session=session, feedback_id=feedback.id or 0)
    if locked is None or locked.customer_id != customer.id:
        return SuggestionResult(NOT_YOURS)
    if locked.idea_id is not None:  # a second press that raced the first
        return SuggestionResult(ALREADY, language, locked.idea_id)
    owner = await get_customer(session=session, customer_id=locked.customer_id)
    if owner is None or owner.telegram_user_id != telegram_user_id or owner.forgotten_at:
        return SuggestionResult(NOT_YOURS)
    if locked.text != feedback.text:  # edited meanwhile: what was offered is not what is there
        return SuggestionResult(GONE, language)
    return locked, owner


async def _theirs(
    session: Session, feedback_id: int, telegram_user_id: int
) -> tuple[Feedback | None, Customer | None]:
    """The message and its author, if the presser wrote it and was not forgotten since."""
    feedback = await get_feedback(session=session, feedback_id=feedback_id)
    if feedback is None:
        return None, None
    customer = await get_customer(session=session, customer_id=feedback.customer_id)
    if customer is None or customer.telegram_user_id != telegram_user_id or customer.forgotten_at:
        return None, None
    return feedback, customer


def _language(services: Services, feedback: Feedback, customer: Customer) -> str:
    """The language the message was answered (and the offer made) in."""
    if feedback.language in services.catalog.languages:
        return feedback.language
    return customer.language
