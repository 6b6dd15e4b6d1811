"""The care loop apart from Telegram: staff replies, claims, resolutions, ratings, relabels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.core.services import Services
from storage.customers import (
    customers_awaiting,
    get_customer,
    get_customer_by_telegram_id,
    mark_unreachable,
    set_awaiting,
)
from storage.ideas import create_idea
from storage.models import Customer, Kind, MessageAuthor, Ticket, TicketStatus
from storage.ratings import (
    add_rating_comment,
    rated_generally_since,
    rated_since_resolution,
    record_rating,
)
from storage.tickets import (
    add_staff_message,
    claim_ticket,
    first_customer_text,
    get_ticket,
    link_feedback_to_idea,
    relabel_ticket,
    reopen_ticket,
    resolve_ticket,
    staff_message_at,
    ticket_feedback,
)

AWAIT_RATING_COMMENT = "rating_comment:"
COMMENT_WINDOW = timedelta(minutes=30)
RERATE_WINDOW = timedelta(minutes=10)
LOW_SCORE = 2


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket with what the staff chat and the customer need to see about it."""

    ticket: Ticket
    customer: Customer
    first_text: str


async def ticket_view(services: Services, ticket_id: int) -> TicketView | None:
    """The ticket, its customer and its first message."""
    async with services.db.session() as session:
        ticket = await get_ticket(session=session, ticket_id=ticket_id)
        if ticket is None:
            return None
        customer = await get_customer(session=session, customer_id=ticket.customer_id)
        first = await first_customer_text(session=session, ticket_id=ticket_id)
    assert customer is not None
    return TicketView(ticket=ticket, customer=customer, first_text=first or "")


async def record_staff_message(
    services: Services,
    *,
    ticket_id: int,
    author: MessageAuthor,
    user_id: int,
    text: str,
    staff_chat_id: int,
    staff_message_id: int,
    name: str | None = None,
) -> int:
    """Store a staff reply (the first one is the first response) or an internal note, once:
    the same staff message again (its update processed a second time) is the one stored."""
    async with services.db.session() as session:
        ticket = await get_ticket(session=session, ticket_id=ticket_id)
        assert ticket is not None
        stored = await staff_message_at(
            session=session,
            ticket_id=ticket_id,
            author=author.value,
            chat_id=staff_chat_id,
            message_id=staff_message_id,
        )
        if stored is not None and stored.id is not None:
            return stored.id
        message = await add_staff_message(
            session=session,
            ticket=ticket,
            author=author,
            author_user_id=user_id,
            text=text,
            staff_chat_id=staff_chat_id,
            staff_message_id=staff_message_id,
            now=services.clock.now(),
            author_name=name,
        )
        assert message.id is not None
        return message.id


async def claim(services: Services, *, ticket_id: int, user_id: int, name: str) -> bool:
    """Assign the ticket; False when this person already has it."""
    async with services.db.session() as session:
        ticket = await get_ticket(session=session, ticket_id=ticket_id)
        if ticket is None or ticket.assignee_id == user_id:
            return False
        await claim_ticket(
            session=session, ticket=ticket, user_id=user_id, name=name, now=services.clock.now()
        )
        return True


async def resolve(services: Services, *, ticket_id: int, user_id: int | None) -> bool:
    """Close the ticket; False when it was closed already."""
    async with services.db.session() as session:
        ticket = await get_ticket(session=session, ticket_id=ticket_id)
        if ticket is None:
            return False
        return await resolve_ticket(
            session=session, ticket=ticket, user_id=user_id, now=services.clock.now()
        )


async def reopen(services: Services, *, ticket_id: int) -> bool:
    """Open a resolved ticket again; False when it was open."""
    async with services.db.session() as session:
        ticket = await get_ticket(session=session, ticket_id=ticket_id)
        if ticket is None:
            return False
        return await reopen_ticket(session=session, ticket=ticket, now=services.clock.now())


@dataclass(frozen=True, slots=True)
class RatingResult:
    """What a customer's rating did."""

    accepted: bool
    reopened: bool = False
    rating_id: int | None = None


async def rate(
    services: Services,
    *,
    telegram_user_id: int,
    ticket_id: int | None,
    score: int | None,
) -> RatingResult:
    """Store a CSAT score (None: "not solved"); a low score or "not solved" reopens the ticket.

    Only the ticket's customer may rate it, once per resolution.
    """
    now = services.clock.now()
    async with services.db.session() as session:
        customer = await get_customer_by_telegram_id(
            session=session, telegram_user_id=telegram_user_id
        )
        if customer is None or customer.id is None:
            return RatingResult(accepted=False)
        ticket: Ticket | None = None
        if ticket_id is not None:
            ticket = await get_ticket(session=session, ticket_id=ticket_id)
            if ticket is None or ticket.customer_id != customer.id:
                return RatingResult(accepted=False)
            if ticket.status != TicketStatus.RESOLVED or await rated_since_resolution(
                session=session, ticket=ticket
            ):
                return RatingResult(accepted=False)
        elif await rated_generally_since(
            session=session, customer_id=customer.id, since=now - RERATE_WINDOW
        ):  # a second press on the same question
            return RatingResult(accepted=False)
        rating_id: int | None = None
        if score is not None:
            rating = await record_rating(
                session=session,
                customer_id=customer.id,
                scale="csat",
                score=score,
                ticket_id=ticket_id,
                now=now,
            )
            rating_id = rating.id
            await set_awaiting(
                session=session,
                customer=customer,
                awaiting=f"{AWAIT_RATING_COMMENT}{rating_id}",
                since=now,
            )
        reopened = False
        if ticket is not None and (score is None or score <= LOW_SCORE):
            reopened = await reopen_ticket(session=session, ticket=ticket, now=now)
        return RatingResult(accepted=True, reopened=reopened, rating_id=rating_id)


async def take_rating_comments(
    services: Services, messages: Sequence[tuple[int, str]]
) -> list[bool]:
    """For each (Telegram user id, text): if the customer was asked for a comment on a rating,
    store this text as it. One query finds who was asked, for any number of messages.

    That query is read first without the writer turn: almost no one is asked at any moment,
    and a burst of messages must not queue for SQLite's single writer only to learn that."""
    now = services.clock.now()
    user_ids = [user_id for user_id, _ in messages]
    async with services.db.read() as session:
        if not await customers_awaiting(
            session=session, telegram_user_ids=user_ids, prefix=AWAIT_RATING_COMMENT
        ):
            return [False] * len(messages)
    async with services.db.session() as session:
        asked = await customers_awaiting(
            session=session, telegram_user_ids=user_ids, prefix=AWAIT_RATING_COMMENT
        )
        taken: list[bool] = []
        for user_id, text in messages:
            customer = asked.pop(user_id, None)  # a second message is not the comment
            if customer is None:
                taken.append(False)
                continue
            since = customer.awaiting_since
            rating_id = int((customer.awaiting or "").removeprefix(AWAIT_RATING_COMMENT) or 0)
            await set_awaiting(session=session, customer=customer, awaiting=None, since=None)
            if since is None or now - since > COMMENT_WINDOW:
                taken.append(False)
                continue
            await add_rating_comment(session=session, rating_id=rating_id, comment=text)
            taken.append(True)
        return taken


async def relabel(
    services: Services, *, ticket_id: int, field: str, value: str, user_id: int
) -> TicketView | None:
    """Staff correct a ticket's kind or topic; stored as labels for retraining.

    A ticket that was not a care request after all is closed without a rating request;
    an idea goes to the board.
    """
    now = services.clock.now()
    async with services.db.session() as session:
        ticket = await get_ticket(session=session, ticket_id=ticket_id)
        if ticket is None:
            return None
        feedback = await ticket_feedback(session=session, ticket_id=ticket_id)
        await relabel_ticket(
            session=session,
            ticket=ticket,
            feedback=feedback,
            field=field,
            value=value,
            labelled_by=user_id,
            now=now,
        )
        if field != "topic" and value != Kind.CARE:
            await resolve_ticket(session=session, ticket=ticket, user_id=user_id, now=now)
            if value == Kind.IDEA and feedback:
                first = feedback[0]
                idea = await create_idea(
                    session=session,
                    customer_id=ticket.customer_id,
                    text="\n".join(f.text for f in feedback if f.text),
                    topic=ticket.topic,
                    language=first.language,
                    now=now,
                )
                await link_feedback_to_idea(session=session, feedback=feedback, idea_id=idea.id)
    return await ticket_view(services, ticket_id)


async def customer_unreachable(services: Services, customer_id: int) -> None:
    """The customer blocked the bot: nothing more is sent to them until they write again."""
    async with services.db.session() as session:
        await mark_unreachable(session=session, customer_id=customer_id)
