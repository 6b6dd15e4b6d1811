"""The idea board's rules: similar ideas first, one vote per customer, comments while open,
statuses moved by staff with everyone who cares told once, duplicates merged with their votes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bot.core.services import Services
from bot.domain.feedback import known_customer
from bot.domain.outcomes import HELD_SIMILAR, FeedbackOutcome, Sender, outcome_for
from storage.customers import get_customer, get_customer_by_telegram_id
from storage.db import Session
from storage.feedback import get_feedback, mark_routed
from storage.ideas import (
    CLOSED_STATUSES,
    BoardEntry,
    add_comment,
    add_vote,
    audience,
    board,
    comments,
    get_idea,
    history,
    idea_from_feedback,
    merge_votes,
    remove_vote,
    set_idea_card,
    set_status,
    vote_counts,
)
from storage.models import Idea, IdeaComment, IdeaStatus, IdeaStatusChange

# What a vote press can come to.
VOTED, UNVOTED, ALREADY, NOT_VOTED, CLOSED, MISSING = (
    "voted",
    "unvoted",
    "already",
    "not_voted",
    "closed",
    "missing",
)


@dataclass(frozen=True, slots=True)
class Recipient:
    """A customer to tell about an idea, in their language."""

    telegram_user_id: int
    language: str


@dataclass(frozen=True, slots=True)
class StatusOutcome:
    """A status change and who must hear of it."""

    idea: Idea
    change: IdeaStatusChange
    votes: int
    recipients: list[Recipient]


@dataclass(frozen=True, slots=True)
class MergeOutcome:
    """A duplicate merged into another idea."""

    duplicate: Idea
    target: Idea
    gained: int
    target_votes: int
    recipients: list[Recipient]


@dataclass(frozen=True, slots=True)
class IdeaDetail:
    """An idea with its votes, history and latest comments."""

    idea: Idea
    votes: int
    history: list[IdeaStatusChange]
    comments: list[tuple[str, IdeaComment]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CommentOutcome:
    """What became of a comment."""

    status: str  # "ok", CLOSED or MISSING
    idea: Idea | None = None
    customer_name: str = ""
    language: str = "en"


async def settle_similar(
    services: Services, *, feedback_id: int, telegram_user_id: int, vote_for: int | None
) -> FeedbackOutcome | None:
    """The customer chose: vote for an existing idea (``vote_for``) or post theirs as new.

    None when the message is not theirs or was settled already (a second press).
    """
    now = services.clock.now()
    async with services.db.session() as session:
        feedback = await get_feedback(session=session, feedback_id=feedback_id)
        if feedback is None or feedback.held_for != HELD_SIMILAR or feedback.routed_at:
            return None
        customer = await get_customer(session=session, customer_id=feedback.customer_id)
        if customer is None or customer.telegram_user_id != telegram_user_id:
            return None
        assert customer.id is not None
        if vote_for is not None:
            target = await get_idea(session=session, idea_id=vote_for)
            if target is None or target.status in CLOSED_STATUSES:
                return None
            await add_vote(session=session, idea_id=vote_for, customer_id=customer.id, now=now)
            idea_id = vote_for
            created = False
        else:
            idea = await idea_from_feedback(session=session, feedback=feedback, now=now)
            idea_id = idea.id or 0
            created = True
        await mark_routed(session=session, feedback=feedback, now=now, idea_id=idea_id)
    # The model runs after the transaction, not in the writer turn.
    triage = await services.triage.triage(feedback.text)
    outcome = outcome_for(feedback, customer, triage, customer.language)
    return replace(outcome, idea_id=idea_id, idea_created=created)


async def vote(services: Services, *, sender: Sender, idea_id: int, up: bool) -> tuple[str, int]:
    """Vote for an idea (``up``) or take the vote back; the result and the idea's votes."""
    now = services.clock.now()
    async with services.db.session() as session:
        idea = await get_idea(session=session, idea_id=idea_id)
        if idea is None:
            return MISSING, 0
        if idea.status in CLOSED_STATUSES:
            return CLOSED, (await vote_counts(session=session, idea_ids=[idea_id]))[idea_id]
        customer = await known_customer(services, session, sender, now)
        assert customer.id is not None
        if up:
            done = await add_vote(
                session=session, idea_id=idea_id, customer_id=customer.id, now=now
            )
            result = VOTED if done else ALREADY
        else:
            done = await remove_vote(session=session, idea_id=idea_id, customer_id=customer.id)
            result = UNVOTED if done else NOT_VOTED
        return result, (await vote_counts(session=session, idea_ids=[idea_id]))[idea_id]


async def board_page(
    services: Services, *, telegram_user_id: int | None, page: int, per_page: int
) -> tuple[list[BoardEntry], int]:
    """One page of the board (0-based) as this customer sees it, and the number of pages."""
    async with services.db.read() as session:
        customer = (
            await get_customer_by_telegram_id(session=session, telegram_user_id=telegram_user_id)
            if telegram_user_id is not None
            else None
        )
        entries, total = await board(
            session=session,
            customer_id=customer.id if customer else None,
            offset=page * per_page,
            limit=per_page,
        )
    pages = max(1, -(-total // per_page))
    return entries, pages


async def idea_detail(services: Services, idea_id: int) -> IdeaDetail | None:
    """The idea, its votes, its status history and latest comments (with first names)."""
    async with services.db.read() as session:
        idea = await get_idea(session=session, idea_id=idea_id)
        if idea is None:
            return None
        votes = (await vote_counts(session=session, idea_ids=[idea_id]))[idea_id]
        changes = await history(session=session, idea_id=idea_id)
        latest = await comments(session=session, idea_id=idea_id)
        named = []
        for comment in latest:
            author = await get_customer(session=session, customer_id=comment.customer_id)
            named.append(((author.first_name if author else None) or "—", comment))
        return IdeaDetail(idea=idea, votes=votes, history=changes, comments=named)


async def comment(services: Services, *, sender: Sender, idea_id: int, text: str) -> CommentOutcome:
    """A customer comments on an idea (while it is open)."""
    now = services.clock.now()
    async with services.db.session() as session:
        idea = await get_idea(session=session, idea_id=idea_id)
        if idea is None:
            return CommentOutcome(status=MISSING)
        customer = await known_customer(services, session, sender, now)
        assert customer.id is not None
        if idea.status in CLOSED_STATUSES:
            return CommentOutcome(status=CLOSED, idea=idea, language=customer.language)
        await add_comment(
            session=session, idea_id=idea_id, customer_id=customer.id, text=text, now=now
        )
        return CommentOutcome(
            status="ok", idea=idea, customer_name=customer.display_name, language=customer.language
        )


async def change_status(
    services: Services, *, idea_id: int, status: IdeaStatus, by: int, note: str | None
) -> StatusOutcome | Idea | None:
    """Move an idea to a status. The outcome names who to tell; the unchanged idea when it is
    already there; None when there is no such idea."""
    now = services.clock.now()
    async with services.db.session() as session:
        idea = await get_idea(session=session, idea_id=idea_id)
        if idea is None:
            return None
        change = await set_status(
            session=session, idea=idea, status=status, note=note, changed_by=by, now=now
        )
        if change is None:
            return idea
        votes = (await vote_counts(session=session, idea_ids=[idea_id]))[idea_id]
        recipients = await _recipients(session, idea)
        return StatusOutcome(idea=idea, change=change, votes=votes, recipients=recipients)


async def merge(
    services: Services, *, idea_id: int, into_id: int, by: int, note: str | None
) -> MergeOutcome | None:
    """Mark an idea a duplicate of another and carry its votes; None if that cannot be."""
    now = services.clock.now()
    async with services.db.session() as session:
        duplicate = await get_idea(session=session, idea_id=idea_id)
        target = await get_idea(session=session, idea_id=into_id)
        if (
            duplicate is None
            or target is None
            or idea_id == into_id
            or duplicate.status == IdeaStatus.DUPLICATE
            or target.status == IdeaStatus.DUPLICATE
        ):
            return None
        recipients = await _recipients(session, duplicate)  # before the votes move
        gained = await merge_votes(session=session, duplicate=duplicate, target=target)
        await set_status(
            session=session,
            idea=duplicate,
            status=IdeaStatus.DUPLICATE,
            note=note or f"#{into_id}",
            changed_by=by,
            now=now,
        )
        votes = (await vote_counts(session=session, idea_ids=[into_id]))[into_id]
        return MergeOutcome(
            duplicate=duplicate,
            target=target,
            gained=gained,
            target_votes=votes,
            recipients=recipients,
        )


async def set_staff_message(services: Services, *, idea_id: int, message_id: int) -> None:
    """Remember the idea's card in the staff chat, to keep it current."""
    async with services.db.session() as session:
        await set_idea_card(session=session, idea_id=idea_id, message_id=message_id)


async def _recipients(session: Session, idea: Idea) -> list[Recipient]:
    return [
        Recipient(telegram_user_id=c.telegram_user_id, language=c.language)
        for c in await audience(session=session, idea=idea)
        if not c.unreachable
    ]
