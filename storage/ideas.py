"""Ideas on the board: proposals, votes, comments and the history of their statuses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Customer, Feedback, Idea, IdeaComment, IdeaStatus, IdeaStatusChange, Vote

# Voting and discussion end when an idea reaches one of these.
CLOSED_STATUSES = frozenset({IdeaStatus.DONE, IdeaStatus.DECLINED, IdeaStatus.DUPLICATE})


@dataclass(frozen=True, slots=True)
class BoardEntry:
    """An idea as the board lists it."""

    idea: Idea
    votes: int
    voted: bool


async def create_idea(
    *,
    session: AsyncSession,
    customer_id: int,
    text: str,
    topic: str,
    language: str,
    now: datetime,
) -> Idea:
    """Put a customer's idea on the board with status new."""
    idea = Idea(customer_id=customer_id, text=text, topic=topic, language=language, created_at=now)
    session.add(idea)
    await session.flush()
    return idea


async def idea_from_feedback(*, session: AsyncSession, feedback: Feedback, now: datetime) -> Idea:
    """Put a customer's message on the board as it was triaged."""
    return await create_idea(
        session=session,
        customer_id=feedback.customer_id,
        text=feedback.text,
        topic=feedback.topic,
        language=feedback.language,
        now=now,
    )


async def get_idea(*, session: AsyncSession, idea_id: int) -> Idea | None:
    """One idea by its number."""
    return await session.get(Idea, idea_id)


async def set_idea_card(*, session: AsyncSession, idea_id: int, message_id: int) -> None:
    """Where the idea's card is in the staff chat, to keep it current."""
    idea = await session.get(Idea, idea_id)
    if idea is not None:
        idea.staff_message_id = message_id
        session.add(idea)


async def open_ideas(*, session: AsyncSession, limit: int = 1000) -> list[Idea]:
    """Ideas still open for votes, newest first: the candidates a new idea may duplicate."""
    rows = await session.exec(
        select(Idea)
        .where(col(Idea.status).not_in([str(s) for s in CLOSED_STATUSES]))
        .order_by(col(Idea.id).desc())
        .limit(limit)
    )
    return list(rows.all())


async def vote_counts(*, session: AsyncSession, idea_ids: list[int]) -> dict[int, int]:
    """Votes per idea for these ideas (0 for none)."""
    if not idea_ids:
        return {}
    rows = await session.exec(
        select(Vote.idea_id, func.count())
        .where(col(Vote.idea_id).in_(idea_ids))
        .group_by(col(Vote.idea_id))
    )
    counts = {int(idea_id): int(n) for idea_id, n in rows.all()}
    return {idea_id: counts.get(idea_id, 0) for idea_id in idea_ids}


async def has_voted(*, session: AsyncSession, idea_id: int, customer_id: int) -> bool:
    """Whether the customer votes for the idea."""
    found = await session.exec(
        select(Vote.id).where(Vote.idea_id == idea_id, Vote.customer_id == customer_id)
    )
    return found.first() is not None


async def add_vote(*, session: AsyncSession, idea_id: int, customer_id: int, now: datetime) -> bool:
    """Vote for an idea; False if the customer already did (one vote per customer per idea)."""
    if await has_voted(session=session, idea_id=idea_id, customer_id=customer_id):
        return False
    try:
        async with session.begin_nested():
            session.add(Vote(idea_id=idea_id, customer_id=customer_id, created_at=now))
    except IntegrityError:  # a double press racing itself: the unique constraint decides
        return False
    return True


async def remove_vote(*, session: AsyncSession, idea_id: int, customer_id: int) -> bool:
    """Take a vote back; False if there was none."""
    result = await session.exec(
        delete(Vote).where(col(Vote.idea_id) == idea_id, col(Vote.customer_id) == customer_id)
    )
    return bool(result.rowcount)


async def board(
    *,
    session: AsyncSession,
    customer_id: int | None,
    offset: int,
    limit: int,
) -> tuple[list[BoardEntry], int]:
    """Ideas by votes, then most recent, without merged duplicates; and how many there are."""
    votes = select(Vote.idea_id, func.count().label("n")).group_by(col(Vote.idea_id)).subquery()
    visible = col(Idea.status) != IdeaStatus.DUPLICATE
    total = (await session.exec(select(func.count()).select_from(Idea).where(visible))).one()
    n = func.coalesce(votes.c.n, 0)
    rows = (
        await session.exec(
            select(Idea, n)
            .outerjoin(votes, votes.c.idea_id == col(Idea.id))
            .where(visible)
            .order_by(n.desc(), col(Idea.created_at).desc(), col(Idea.id).desc())
            .offset(offset)
            .limit(limit)
        )
    ).all()
    mine: set[int] = set()
    if customer_id is not None and rows:
        ids = [idea.id for idea, _ in rows]
        mine = set(
            (
                await session.exec(
                    select(Vote.idea_id).where(
                        Vote.customer_id == customer_id, col(Vote.idea_id).in_(ids)
                    )
                )
            ).all()
        )
    entries = [
        BoardEntry(idea=idea, votes=int(count), voted=idea.id in mine) for idea, count in rows
    ]
    return entries, int(total)


async def history(*, session: AsyncSession, idea_id: int) -> list[IdeaStatusChange]:
    """The idea's status changes, oldest first."""
    rows = await session.exec(
        select(IdeaStatusChange)
        .where(IdeaStatusChange.idea_id == idea_id)
        .order_by(col(IdeaStatusChange.changed_at), col(IdeaStatusChange.id))
    )
    return list(rows.all())


async def comments(*, session: AsyncSession, idea_id: int, limit: int = 10) -> list[IdeaComment]:
    """The latest comments on an idea, oldest of them first."""
    rows = await session.exec(
        select(IdeaComment)
        .where(IdeaComment.idea_id == idea_id)
        .order_by(col(IdeaComment.id).desc())
        .limit(limit)
    )
    return list(reversed(rows.all()))


async def add_comment(
    *, session: AsyncSession, idea_id: int, customer_id: int, text: str, now: datetime
) -> IdeaComment:
    """A customer's comment on an idea."""
    comment = IdeaComment(idea_id=idea_id, customer_id=customer_id, text=text, created_at=now)
    session.add(comment)
    await session.flush()
    return comment


async def set_status(
    *,
    session: AsyncSession,
    idea: Idea,
    status: IdeaStatus,
    note: str | None,
    changed_by: int | None,
    now: datetime,
) -> IdeaStatusChange | None:
    """Move the idea to a status and record it; None when it is already there."""
    if idea.status == status:
        return None
    change = IdeaStatusChange(
        idea_id=idea.id or 0,
        old_status=idea.status,
        new_status=status,
        note=note,
        changed_by=changed_by,
        changed_at=now,
    )
    idea.status = status
    idea.status_changed_at = now
    if idea.first_status_at is None:
        idea.first_status_at = now
    session.add(idea)
    session.add(change)
    await session.flush()
    return change


async def merge_votes(*, session: AsyncSession, duplicate: Idea, target: Idea) -> int:
    """Carry the duplicate's votes (and its proposer's support) to the target, counting no one
    twice; the duplicate keeps none. Returns how many votes the target gained."""
    assert duplicate.id is not None and target.id is not None
    already = select(Vote.customer_id).where(Vote.idea_id == target.id)
    moved = await session.exec(
        update(Vote)
        .where(col(Vote.idea_id) == duplicate.id, col(Vote.customer_id).not_in(already))
        .values(idea_id=target.id)
    )
    await session.exec(delete(Vote).where(col(Vote.idea_id) == duplicate.id))
    gained = int(moved.rowcount or 0)
    if duplicate.customer_id != target.customer_id and not await has_voted(
        session=session, idea_id=target.id, customer_id=duplicate.customer_id
    ):
        session.add(
            Vote(
                idea_id=target.id,
                customer_id=duplicate.customer_id,
                created_at=duplicate.created_at,
            )
        )
        gained += 1
    duplicate.merged_into_id = target.id
    session.add(duplicate)
    await session.flush()
    return gained


async def audience(*, session: AsyncSession, idea: Idea) -> list[Customer]:
    """Who hears about the idea: its proposer and every voter, once each, if reachable."""
    voters = select(Vote.customer_id).where(Vote.idea_id == idea.id)
    rows = await session.exec(
        select(Customer)
        .where(
            (col(Customer.id) == idea.customer_id) | col(Customer.id).in_(voters),
            col(Customer.forgotten_at).is_(None),
        )
        .order_by(col(Customer.id))
    )
    return list(rows.all())
