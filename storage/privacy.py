"""A customer's data: everything stored about them, and erasing it while counts survive."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, update
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Customer,
    DeadLetter,
    Feedback,
    Idea,
    IdeaComment,
    InboxUpdate,
    Label,
    MessageAuthor,
    OutboxMessage,
    Rating,
    Ticket,
    TicketMessage,
    Vote,
    format_ticket_reference,
)
from storage.outbox import FAILED, PENDING, SENDING, SENT
from storage.retention import PRUNED

ERASED = ""
ERASED_ERROR = "erased on the customer's request"

# Fields of the customer's rows that are about staff or the bot's plumbing, not about them:
# replies are signed by the team, so who helped (and where staff work) is not theirs to see.
_STAFF_FIELDS: dict[type[SQLModel], frozenset[str]] = {
    Ticket: frozenset(
        {
            "assignee_id",
            "assignee_name",
            "resolved_by",
            "staff_chat_id",
            "staff_thread_id",
            "staff_card_message_id",
            "sla_reminded_at",
            "sla_escalated_at",
            "staff_pending_since",
            "staff_digested_at",
        }
    ),
    TicketMessage: frozenset(
        {"author_user_id", "author_name", "staff_chat_id", "staff_message_id", "staff_due_at"}
    ),
    Idea: frozenset({"staff_message_id"}),
}
# A text this short ("ok") would match half the raw copies of everyone else.
_MIN_TEXT_NEEDLE = 3
# Long texts are split over several messages: a prefix is found in the first of them.
_TEXT_PREFIX = 48


async def export_customer_data(
    *, session: AsyncSession, customer: Customer, show_staff_names: bool = False
) -> dict[str, Any]:
    """Every row about the customer, as plain data (for /mydata): what is theirs, not who on
    staff handled it (the assignee's name only where staff names are shown to customers)."""
    cid = customer.id

    async def rows(model: type[SQLModel], *where: Any) -> list[dict[str, Any]]:
        result = await session.exec(select(model).where(*where))
        return [_own(row, show_staff_names=show_staff_names) for row in result.all()]

    tickets = await rows(Ticket, col(Ticket.customer_id) == cid)
    ticket_ids = [t["id"] for t in tickets]
    return {
        "customer": _own(customer, show_staff_names=show_staff_names),
        "messages": await rows(Feedback, col(Feedback.customer_id) == cid),
        "tickets": tickets,
        "ticket_conversation": await rows(
            TicketMessage,
            col(TicketMessage.ticket_id).in_(ticket_ids),
            col(TicketMessage.author) != MessageAuthor.NOTE,
        ),
        "ratings": await rows(Rating, col(Rating.customer_id) == cid),
        "ideas": await rows(Idea, col(Idea.customer_id) == cid),
        "votes": await rows(Vote, col(Vote.customer_id) == cid),
        "idea_comments": await rows(IdeaComment, col(IdeaComment.customer_id) == cid),
    }


@dataclass(frozen=True, slots=True)
class StaffTopic:
    """A forum topic of one of the customer's tickets, to be renamed to its reference."""

    chat_id: int
    thread_id: int
    reference: str


async def forget_customer(
    *, session: AsyncSession, customer: Customer, now: datetime, update_id: int | None = None
) -> list[StaffTopic]:
    """Erase names, usernames, texts and the Telegram id everywhere they are stored, the raw
    inbox and outbox copies included; keep the rows so that counts stay true.

    `update_id` is the update asking for it (still being processed, so not yet prunable):
    its raw copy goes too. The customer's ideas stay on the board, anonymous: others voted
    and commented on them, and the adoption metrics count them; every other copy of their
    text (the message, the staff card) is erased. Returns the staff topics to rename.
    """
    cid = customer.id
    user_id = customer.telegram_user_id
    tickets = list(
        (
            await session.exec(
                select(Ticket.id, Ticket.staff_chat_id, Ticket.staff_thread_id)
                .where(col(Ticket.customer_id) == cid)
                .order_by(col(Ticket.id))
            )
        ).all()
    )
    ticket_ids = [t[0] for t in tickets if t[0] is not None]
    trail = await _trail(session=session, customer=customer, ticket_ids=ticket_ids)

    customer.first_name = None
    customer.last_name = None
    customer.username = None
    # The Telegram id is personal too; a negative placeholder keeps the column unique and lets
    # the same person start afresh as a new customer.
    customer.telegram_user_id = -(cid or 0)
    customer.forgotten_at = now
    customer.awaiting = None
    session.add(customer)
    feedback_ids = select(Feedback.id).where(col(Feedback.customer_id) == cid).scalar_subquery()
    await session.exec(
        update(Label)
        .where(col(Label.feedback_id).in_(feedback_ids), col(Label.source) == "customer")
        .values(labelled_by=None)
    )
    await session.exec(
        update(Feedback)
        .where(col(Feedback.customer_id) == cid)
        # The private chat's id is the Telegram id; the placeholder keeps (chat, message) unique.
        .values(text=ERASED, media_file_id=None, keywords="", chat_id=-(cid or 0))
    )
    await session.exec(
        update(TicketMessage)
        .where(col(TicketMessage.ticket_id).in_(ticket_ids))
        .values(text=ERASED, staff_due_at=None)  # nothing of theirs is posted to staff later
    )
    await session.exec(
        update(Ticket)
        .where(col(Ticket.id).in_(ticket_ids))
        .values(staff_pending_since=None, staff_digested_at=None)
    )
    await session.exec(update(Rating).where(col(Rating.customer_id) == cid).values(comment=None))
    await session.exec(
        update(IdeaComment).where(col(IdeaComment.customer_id) == cid).values(text=ERASED)
    )
    await _erase_raw_copies(session=session, user_id=user_id, trail=trail, update_id=update_id)
    return [
        StaffTopic(chat_id=chat, thread_id=thread, reference=format_ticket_reference(tid))
        for tid, chat, thread in tickets
        if tid is not None and chat is not None and thread is not None
    ]


async def erase_chat_copies(*, session: AsyncSession, chat_id: int) -> None:
    """Erase what was sent to a forgotten customer's chat after their data went (the
    confirmation that it went): only its dedupe key and status must stay. A message still
    waiting (a retry; a first message of the person starting afresh) is the retention's."""
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.chat_id) == chat_id, col(OutboxMessage.status).in_([SENT, FAILED]))
        .values(payload=PRUNED, chat_id=0, target=None)
    )


@dataclass(slots=True)
class _Trail:
    """What identifies the raw copies about a customer."""

    needles: set[str] = field(default_factory=set)
    # (staff chat, thread) of their tickets' topics; (staff chat, message) of their cards,
    # the staff copies of their messages and the staff replies.
    threads: set[tuple[int, int]] = field(default_factory=set)
    staff_messages: set[tuple[int, int]] = field(default_factory=set)


async def _trail(*, session: AsyncSession, customer: Customer, ticket_ids: list[int]) -> _Trail:
    trail = _Trail()
    for name in (customer.first_name, customer.last_name, customer.username):
        if name:
            trail.needles.add(name)
    texts: list[str] = []
    texts += (
        await session.exec(select(Feedback.text).where(col(Feedback.customer_id) == customer.id))
    ).all()
    texts += (
        await session.exec(
            select(IdeaComment.text).where(col(IdeaComment.customer_id) == customer.id)
        )
    ).all()
    texts += [
        c
        for c in (
            await session.exec(select(Rating.comment).where(col(Rating.customer_id) == customer.id))
        ).all()
        if c
    ]
    messages = (
        await session.exec(
            select(
                TicketMessage.text, TicketMessage.staff_chat_id, TicketMessage.staff_message_id
            ).where(col(TicketMessage.ticket_id).in_(ticket_ids))
        )
    ).all()
    for text, chat, message in messages:
        texts.append(text)
        if chat is not None and message is not None:
            trail.staff_messages.add((chat, message))
    for text in texts:
        if len(text.strip()) >= _MIN_TEXT_NEEDLE:
            for variant in (text, html.escape(text, quote=False)):
                trail.needles.add(variant[:_TEXT_PREFIX])
    staff = (
        await session.exec(
            select(
                Ticket.staff_chat_id, Ticket.staff_thread_id, Ticket.staff_card_message_id
            ).where(col(Ticket.id).in_(ticket_ids))
        )
    ).all()
    for chat, thread, card in staff:
        if chat is not None and thread is not None:
            trail.threads.add((chat, thread))
        if chat is not None and card is not None:
            trail.staff_messages.add((chat, card))
    return trail


async def _erase_raw_copies(
    *, session: AsyncSession, user_id: int, trail: _Trail, update_id: int | None
) -> None:
    """Inbox updates and outbox messages from, to or about the customer lose their payload.

    Matched in two steps: SQL finds candidates by substrings of the stored JSON (fast, but
    loose: the id 7001 is inside 17001), then each candidate's parsed JSON is checked. Only
    raw copies still held are searched: the retention job prunes the rest.
    """

    def loose(payload: Any) -> ColumnElement[bool]:
        return or_(*(payload.contains(f, autoescape=True) for f in _fragments(user_id, trail)))

    # Inbox: processed rows, and the update being processed (its handler has it parsed);
    # an update not yet processed is left for its handler, and for the retention job.
    settled: ColumnElement[bool] = col(InboxUpdate.processed_at).is_not(None)
    if update_id is not None:
        settled = or_(settled, col(InboxUpdate.update_id) == update_id)
    inbox = await session.exec(
        select(InboxUpdate.update_id, InboxUpdate.payload).where(
            settled, col(InboxUpdate.payload) != PRUNED, loose(col(InboxUpdate.payload))
        )
    )
    erased = [uid for uid, payload in inbox.all() if _is_about(json.loads(payload), user_id, trail)]
    if erased:
        await session.exec(
            update(InboxUpdate).where(col(InboxUpdate.update_id).in_(erased)).values(payload=PRUNED)
        )

    # The inbox names the chat of each update (for claims): a private chat is the customer.
    await session.exec(
        update(InboxUpdate).where(col(InboxUpdate.chat_id) == user_id).values(chat_id=None)
    )

    # Dead letters are few and kept as ASCII JSON: each is read whole.
    letters = await session.exec(
        select(DeadLetter.id, DeadLetter.payload).where(col(DeadLetter.payload).is_not(None))
    )
    about = []
    for letter_id, payload in letters.all():
        try:
            parsed = json.loads(payload or "{}")
        except ValueError:
            parsed = {}
        if str(user_id) in (payload or "") or _is_about(parsed, user_id, trail):
            about.append(letter_id)
    if about:
        await session.exec(
            update(DeadLetter)
            .where(col(DeadLetter.id).in_(about))
            .values(payload=None, error=ERASED_ERROR)
        )

    # Outbox: whatever went (or would go) to them, or carries their names or texts. A
    # message not yet sent is not sent any more: it is about someone who asked to be forgotten.
    seen: set[int] = set()
    while True:
        candidates = await session.exec(
            select(
                OutboxMessage.id,
                OutboxMessage.chat_id,
                OutboxMessage.payload,
                OutboxMessage.result_message_id,
            ).where(
                col(OutboxMessage.payload) != PRUNED,
                or_(col(OutboxMessage.chat_id) == user_id, loose(col(OutboxMessage.payload))),
            )
        )
        found = {}
        for row_id, chat_id, payload, result_id in candidates.all():
            if row_id is None or row_id in seen:
                continue
            params = json.loads(payload)
            if chat_id == user_id or _is_about(params, user_id, trail, chat_id=chat_id):
                found[row_id] = (chat_id, result_id)
        if not found:
            break
        seen.update(found)
        # A long text goes on in replies to its first message: those are about them too.
        trail.staff_messages.update(
            (chat, result) for chat, result in found.values() if result is not None
        )
    if not seen:
        return
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(seen), col(OutboxMessage.chat_id) == user_id)
        .values(chat_id=0)
    )
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(seen), col(OutboxMessage.status).in_([PENDING, SENDING]))
        .values(status=FAILED, last_error=ERASED_ERROR)
    )
    await session.exec(
        # What an edit changed ("markup:<chat>:<message>") names their chat too.
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(seen))
        .values(payload=PRUNED, target=None)
    )


def _fragments(user_id: int, trail: _Trail) -> list[str]:
    """Substrings of the stored JSON (compact, as json.dumps wrote it) that may point to the
    customer: their id, names and texts; their topics' threads and their staff messages."""
    found = {json.dumps(n, ensure_ascii=False)[1:-1] for n in trail.needles}
    found.add(str(user_id))
    numbers = [("message_thread_id", t) for _, t in trail.threads]
    numbers += [(k, m) for _, m in trail.staff_messages for k in ("message_id", "reply_to")]
    for key, number in numbers:
        found.update({f'"{key}":{number},', f'"{key}":{number}}}'})
    return sorted(found)


def _is_about(data: Any, user_id: int, trail: _Trail, *, chat_id: int | None = None) -> bool:
    """Whether a raw update or outgoing call is from, to or about the customer."""
    if chat_id is not None and isinstance(data, dict):
        # An outgoing call: its chat is the row's; its thread or the message it answers.
        thread = data.get("message_thread_id")
        reply = data.get("reply_to")
        if (chat_id, thread) in trail.threads or (chat_id, reply) in trail.staff_messages:
            return True
    for node in _walk(data):
        if isinstance(node, bool):
            continue
        if isinstance(node, int) and node == user_id:
            return True
        if isinstance(node, str) and any(n in node for n in trail.needles):
            return True
        if isinstance(node, dict) and isinstance(node.get("chat"), dict):
            # A message in an update: in one of their topics, or one of their staff messages.
            chat = node["chat"].get("id")
            if (chat, node.get("message_thread_id")) in trail.threads:
                return True
            if (chat, node.get("message_id")) in trail.staff_messages:
                return True
    return False


def _walk(data: Any) -> Iterator[Any]:
    yield data
    children: Iterable[Any] = ()
    if isinstance(data, dict):
        children = data.values()
    elif isinstance(data, list):
        children = data
    for child in children:
        yield from _walk(child)


def _own(row: SQLModel, *, show_staff_names: bool) -> dict[str, Any]:
    hidden = _STAFF_FIELDS.get(type(row), frozenset())
    if show_staff_names:
        hidden = hidden - {"assignee_name"}
    data = row.model_dump(exclude=set(hidden))
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in data.items()}
