"""Self-service: answers staff wrote, suggested to a customer before a person sees the ticket.

A new ticket that answers match (same language, similar words) is offered up to three of them
with the acknowledgement; its card waits SELF_SERVICE_WAIT_MINUTES for "this solved it" (the
ticket closes, self-served) or "I still need a person" (the card goes at once). Urgent or very
negative tickets, incidents, and customers who asked for a person before are never offered.

Matching runs on an index built once per change of the answers, outside any transaction.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.services import Services
from nlp.similarity import terms
from storage.answers import (
    Usefulness,
    add_answer,
    answers_version,
    asked_for_a_person,
    decide_offer,
    edit_answer,
    get_offer,
    live_answers,
    offer_of_ticket,
    record_offer,
    reread_offer,
    retire_answer,
    shown_answers,
    usefulness,
    waiting_offer_tickets,
)
from storage.customers import get_customer
from storage.models import Answer, AnswerOffer, OfferOutcome, Ticket, TicketStatus
from storage.tickets import clear_staff_pending, first_ticket_feedback, get_ticket, resolve_ticket

SUGGESTED = 3
# /help searches with a lower bar than a suggestion: the customer asked to look.
LOOKUP_FACTOR = 0.5
# How often a process asks whether the answers changed (edits in other processes show within it).
_FRESH_SECONDS = 2.0
# The courier decides a ticket's offer itself only this soon after its opening: later, its
# acknowledgement has long gone without one, and holding the card would only delay staff.
_DECIDE_WITHIN = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An answer shown to a customer."""

    answer_id: int
    title: str
    text: str


@dataclass(frozen=True, slots=True)
class Offer:
    """Answers suggested for a ticket, and what came of them."""

    offer_id: int
    ticket_id: int
    outcome: str
    suggestions: tuple[Suggestion, ...]


@dataclass(frozen=True, slots=True)
class Settled:
    """A customer's press on an offer."""

    accepted: bool
    solved: bool
    ticket_id: int
    language: str
    outcome: str


@dataclass
class _Shelf:
    """One language's answers: postings of weighted terms and each answer's norm."""

    idf: dict[str, float] = field(default_factory=dict)
    postings: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    norms: dict[int, float] = field(default_factory=dict)
    unseen_idf: float = 1.0


class AnswerIndex:
    """TF-IDF cosine of a text against every answer of its language (title and text), with
    nlp.similarity's words (content words cut to five letters). Built once, read by many."""

    def __init__(self, shelves: dict[str, _Shelf]) -> None:
        self._shelves = shelves

    @classmethod
    def build(cls, answers: Sequence[tuple[int, str, str, str]]) -> AnswerIndex:
        """From (id, language, title, text)."""
        bags: dict[str, list[tuple[int, Counter[str]]]] = defaultdict(list)
        for answer_id, language, title, text in answers:
            bags[language].append((answer_id, terms(title) + terms(text)))
        shelves: dict[str, _Shelf] = {}
        for language, docs in bags.items():
            seen: Counter[str] = Counter()
            for _, bag in docs:
                seen.update(bag.keys())
            n = len(docs)
            shelf = _Shelf(
                idf={t: math.log((1 + n) / (1 + k)) + 1.0 for t, k in seen.items()},
                unseen_idf=math.log(1 + n) + 1.0,
            )
            for answer_id, bag in docs:
                weights = {t: (1 + math.log(c)) * shelf.idf[t] for t, c in bag.items()}
                shelf.norms[answer_id] = math.sqrt(sum(w * w for w in weights.values()))
                for term, weight in weights.items():
                    shelf.postings.setdefault(term, []).append((answer_id, weight))
            shelves[language] = shelf
        return cls(shelves)

    def match(
        self, text: str, language: str, *, threshold: float, limit: int = SUGGESTED
    ) -> list[tuple[int, float]]:
        """Answers in `language` at least `threshold` alike, best first: (id, score)."""
        shelf = self._shelves.get(language)
        bag = terms(text)
        if shelf is None or not bag:
            return []
        query = {t: (1 + math.log(c)) * shelf.idf.get(t, shelf.unseen_idf) for t, c in bag.items()}
        query_norm = math.sqrt(sum(w * w for w in query.values()))
        dots: dict[int, float] = defaultdict(float)
        for term, weight in query.items():
            for answer_id, other in shelf.postings.get(term, ()):
                dots[answer_id] += weight * other
        scored = [
            (answer_id, round(dot / (query_norm * shelf.norms[answer_id]), 3))
            for answer_id, dot in dots.items()
            if shelf.norms[answer_id]
        ]
        ranked = sorted((s for s in scored if s[1] >= threshold), key=lambda s: (-s[1], s[0]))
        return ranked[:limit]


class AnswerBook:
    """The process's answers, indexed again only when they changed."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._index = AnswerIndex({})
        self._version: tuple[int, datetime | None] | None = None
        self._checked = -math.inf
        self._lock = asyncio.Lock()

    def changed(self) -> None:
        """Answers were edited here: look again before the next match."""
        self._checked = -math.inf

    async def add(
        self, *, title: str, text: str, language: str, topic: str, created_by: int
    ) -> Answer:
        """A new answer, suggested from now on."""
        async with self.services.db.session() as session:
            answer = await add_answer(
                session=session,
                title=title,
                text=text,
                language=language,
                topic=topic,
                created_by=created_by,
                now=self.services.clock.now(),
            )
        self.changed()
        return answer

    async def edit(self, answer_id: int, *, title: str, text: str) -> Answer | None:
        """A live answer's new title and text; None when there is no such answer."""
        async with self.services.db.session() as session:
            answer = await edit_answer(
                session=session,
                answer_id=answer_id,
                title=title,
                text=text,
                now=self.services.clock.now(),
            )
        self.changed()
        return answer

    async def retire(self, answer_id: int) -> Answer | None:
        """No longer suggested (its history stays); None when there is no live answer."""
        async with self.services.db.session() as session:
            answer = await retire_answer(
                session=session, answer_id=answer_id, now=self.services.clock.now()
            )
        self.changed()
        return answer

    async def index(self) -> AnswerIndex:
        """The current index: candidates read in a session, the index built after it."""
        if time.monotonic() - self._checked < _FRESH_SECONDS:
            return self._index
        async with self._lock:
            if time.monotonic() - self._checked < _FRESH_SECONDS:
                return self._index
            async with self.services.db.read() as session:
                version = await answers_version(session=session)
                rows = (
                    [
                        (a.id or 0, a.language, a.title, a.text)
                        for a in await live_answers(session=session)
                    ]
                    if version != self._version
                    else None
                )
            if rows is not None:
                self._index = await asyncio.to_thread(AnswerIndex.build, rows)
                self._version = version
            self._checked = time.monotonic()
        return self._index

    async def suggest(self, text: str, language: str) -> list[tuple[int, float]]:
        """Answers good enough to suggest for a care request."""
        threshold = self.services.settings.answer_match_threshold
        return (await self.index()).match(text, language, threshold=threshold)

    async def look_up(self, text: str, language: str, limit: int = 5) -> list[tuple[int, float]]:
        """Answers for a customer's own search (/help TEXT)."""
        threshold = self.services.settings.answer_match_threshold * LOOKUP_FACTOR
        return (await self.index()).match(text, language, threshold=threshold, limit=limit)


def _may_offer(ticket: Ticket | None) -> bool:
    """Only a new ticket staff have not seen yet, not urgent, not part of an outage."""
    return (
        ticket is not None
        and ticket.status == TicketStatus.OPEN
        and ticket.staff_pending_since is not None
        and ticket.staff_card_message_id is None
        and ticket.staff_thread_id is None
        and ticket.incident_id is None
        and ticket.priority != "high"
    )


async def offer_for_ticket(services: Services, book: AnswerBook, ticket_id: int) -> Offer | None:
    """The ticket's offer, decided once (by the acknowledgement or the courier, whichever comes
    first) and recorded; None when the ticket gets no suggestions."""
    now = services.clock.now()
    async with services.db.session() as session:
        existing = await offer_of_ticket(session=session, ticket_id=ticket_id)
        if existing is not None:
            return _view(existing, await shown_answers(session=session, offer_id=existing.id or 0))
        ticket = await get_ticket(session=session, ticket_id=ticket_id)
        if ticket is None or not _may_offer(ticket):
            return None
        first = await first_ticket_feedback(session=session, ticket_id=ticket_id)
        if first is None or not first.text.strip():
            return None
        if await asked_for_a_person(session=session, customer_id=ticket.customer_id):
            return None
        text, language = first.text, ticket.language
    matches = await book.suggest(text, language)  # outside the transaction
    if not matches:
        return None
    wait = timedelta(minutes=services.settings.self_service_wait_minutes)
    async with services.db.session() as session:
        ticket = await get_ticket(session=session, ticket_id=ticket_id)
        if ticket is None or not _may_offer(ticket):
            return None  # its card went up meanwhile
        offer = await record_offer(
            session=session,
            ticket_id=ticket_id,
            customer_id=ticket.customer_id,
            topic=ticket.topic,
            language=ticket.language,
            shown=matches,
            now=now,
            wait_until=now + wait,
        )
        return _view(offer, await shown_answers(session=session, offer_id=offer.id or 0))


async def card_waits(services: Services, book: AnswerBook, ticket: Ticket) -> bool:
    """Whether a waiting ticket's card must wait for the customer's answer to suggestions. A
    wait that ran out is settled as timed out here (the card goes now)."""
    now = services.clock.now()
    async with services.db.session() as session:
        offer = await offer_of_ticket(session=session, ticket_id=ticket.id or 0)
        if offer is not None:
            if offer.outcome != OfferOutcome.WAITING:
                return offer.outcome == OfferOutcome.SOLVED
            if now < offer.wait_until:
                return True
            await decide_offer(
                session=session, offer_id=offer.id or 0, outcome=OfferOutcome.TIMEOUT, now=now
            )
            return False
    if now - ticket.opened_at > _DECIDE_WITHIN:
        return False
    decided = await offer_for_ticket(services, book, ticket.id or 0)
    return decided is not None and decided.outcome == OfferOutcome.WAITING


async def waiting_offers(services: Services, ticket_ids: Sequence[int]) -> set[int]:
    """Of these tickets, those whose card waits for the customer's answer now."""
    if not ticket_ids:
        return set()
    now = services.clock.now()
    async with services.db.session() as session:
        return await waiting_offer_tickets(session=session, ticket_ids=ticket_ids, now=now)


async def offer_of(services: Services, ticket_id: int) -> Offer | None:
    """What was suggested for a ticket, if anything (the card names it)."""
    async with services.db.session() as session:
        offer = await offer_of_ticket(session=session, ticket_id=ticket_id)
        if offer is None:
            return None
        return _view(offer, await shown_answers(session=session, offer_id=offer.id or 0))


async def settle_offer(
    services: Services, *, offer_id: int, telegram_user_id: int, solved: bool
) -> Settled | None:
    """The customer pressed "solved" or "a person". None when the offer is not theirs."""
    now = services.clock.now()
    async with services.db.session() as session:
        offer = await get_offer(session=session, offer_id=offer_id)
        if offer is None:
            return None
        customer = await get_customer(session=session, customer_id=offer.customer_id)
        if customer is None or customer.telegram_user_id != telegram_user_id:
            return None
        outcome = OfferOutcome.SOLVED if solved else OfferOutcome.PERSON
        accepted = await decide_offer(session=session, offer_id=offer_id, outcome=outcome, now=now)
        if accepted and solved:
            ticket = await get_ticket(session=session, ticket_id=offer.ticket_id)
            if ticket is not None:
                await resolve_ticket(session=session, ticket=ticket, user_id=None, now=now)
                await clear_staff_pending(session=session, ticket=ticket)  # self-served: no card
        offer = await reread_offer(session=session, offer=offer)
        return Settled(
            accepted=accepted,
            solved=solved,
            ticket_id=offer.ticket_id,
            language=customer.language,
            outcome=offer.outcome,
        )


async def most_used(services: Services, language: str, limit: int = 5) -> list[Answer]:
    """Live answers of a language, those that solved most first, then the most shown."""
    async with services.db.session() as session:
        answers = [a for a in await live_answers(session=session) if a.language == language]
        counts = await usefulness(session=session)
    empty = Usefulness()
    answers.sort(
        key=lambda a: (
            -counts.get(a.id or 0, empty).helpful,
            -counts.get(a.id or 0, empty).shown,
            a.id or 0,
        )
    )
    return answers[:limit]


async def never_helping(
    services: Services, *, since: datetime, min_shown: int = 3
) -> list[tuple[Answer, Usefulness]]:
    """Live answers shown at least `min_shown` times since `since` that never solved one."""
    async with services.db.session() as session:
        counts = await usefulness(session=session, since=since)
        answers = await live_answers(session=session)
    return [
        (a, counts[a.id or 0])
        for a in answers
        if (a.id or 0) in counts
        and counts[a.id or 0].shown >= min_shown
        and counts[a.id or 0].helpful == 0
    ]


def _view(offer: AnswerOffer, answers: Sequence[Answer]) -> Offer:
    """The offer and the answers it showed, in the order shown."""
    return Offer(
        offer_id=offer.id or 0,
        ticket_id=offer.ticket_id,
        outcome=offer.outcome,
        suggestions=tuple(Suggestion(a.id or 0, a.title, a.text) for a in answers),
    )
