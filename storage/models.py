"""The tables. Facts are recorded when they happen; metrics are computed from them later."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.types import UtcDateTime


def _utc(*, nullable: bool = True, index: bool = False) -> Column[datetime]:
    return Column(UtcDateTime(), nullable=nullable, index=index)


class Kind(StrEnum):
    """What a customer's message is, for the firm."""

    CARE = "care"
    IDEA = "idea"
    OTHER = "other"


class TicketStatus(StrEnum):
    """Where a care case stands."""

    OPEN = "open"
    RESOLVED = "resolved"


class IdeaStatus(StrEnum):
    """Where an idea stands on the board."""

    NEW = "new"
    UNDER_REVIEW = "under_review"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DECLINED = "declined"
    DUPLICATE = "duplicate"


class MessageAuthor(StrEnum):
    """Who wrote a ticket message."""

    CUSTOMER = "customer"
    STAFF = "staff"
    NOTE = "note"


class Customer(SQLModel, table=True):
    """A person who writes to the bot in a private chat."""

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    first_name: str | None = Field(default=None, max_length=256)
    last_name: str | None = Field(default=None, max_length=256)
    username: str | None = Field(default=None, max_length=64)
    language: str = Field(default="en", max_length=8)
    created_at: datetime = Field(sa_column=_utc(nullable=False))
    last_seen_at: datetime = Field(sa_column=_utc(nullable=False))
    unreachable: bool = Field(default=False)
    forgotten_at: datetime | None = Field(default=None, sa_column=_utc())
    # What the bot waits for from this customer (a rating comment, a confirmation...):
    # kept here, not in memory, so it survives restarts and works across processes.
    awaiting: str | None = Field(default=None, max_length=64)
    awaiting_since: datetime | None = Field(default=None, sa_column=_utc())

    @property
    def display_name(self) -> str:
        """How staff see the customer."""
        return customer_display_name(self.id, self.first_name, self.last_name, self.username)


def customer_display_name(
    customer_id: int | None, first_name: str | None, last_name: str | None, username: str | None
) -> str:
    """How staff see a customer: names, then @username, else a number."""
    name = " ".join(p for p in (first_name, last_name) if p)
    if username:
        name = f"{name} (@{username})" if name else f"@{username}"
    return name or f"Customer {customer_id}"


class Feedback(SQLModel, table=True):
    """One inbound customer message with its triage result."""

    __table_args__ = (
        Index("ix_feedback_created_kind", "created_at", "kind"),
        Index("ix_feedback_customer_created", "customer_id", "created_at"),
        # One feedback per Telegram message: processing an update again finds it.
        Index("ix_feedback_chat_message", "chat_id", "message_id", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    message_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    media_type: str | None = Field(default=None, max_length=16)
    media_file_id: str | None = Field(default=None, max_length=256)
    kind: str = Field(max_length=8)
    confidence: float
    sentiment: str = Field(max_length=8)
    topic: str = Field(max_length=32, index=True)
    language: str = Field(max_length=8)
    keywords: str = Field(default="", max_length=512)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    idea_id: int | None = Field(default=None, foreign_key="idea.id", index=True)
    created_at: datetime = Field(sa_column=_utc(nullable=False))
    edited_at: datetime | None = Field(default=None, sa_column=_utc())
    # None while the message waits: for the customer to say what it is, or under flood control.
    routed_at: datetime | None = Field(default=None, sa_column=_utc())
    held_for: str | None = Field(default=None, max_length=16)


class Ticket(SQLModel, table=True):
    """A care case, from the first customer message to resolution."""

    __table_args__ = (
        Index("ix_ticket_status_opened", "status", "opened_at"),
        # One open ticket per customer: two processes routing the same customer's messages at
        # once cannot both open one; the database refuses the second.
        Index(
            "uq_ticket_one_open_per_customer",
            "customer_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    status: str = Field(default=TicketStatus.OPEN, max_length=16)
    topic: str = Field(max_length=32)
    sentiment: str = Field(max_length=8)
    priority: str = Field(default="normal", max_length=8)
    language: str = Field(max_length=8)
    assignee_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    assignee_name: str | None = Field(default=None, max_length=256)
    assigned_at: datetime | None = Field(default=None, sa_column=_utc())
    staff_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    staff_thread_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    staff_card_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    opened_at: datetime = Field(sa_column=_utc(nullable=False, index=True))
    first_response_at: datetime | None = Field(default=None, sa_column=_utc())
    first_response_seconds: float | None = None
    resolved_at: datetime | None = Field(default=None, sa_column=_utc())
    resolution_seconds: float | None = None
    resolved_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    reopened_count: int = Field(default=0)
    reopened_at: datetime | None = Field(default=None, sa_column=_utc())
    sla_reminded_at: datetime | None = Field(default=None, sa_column=_utc())
    sla_escalated_at: datetime | None = Field(default=None, sa_column=_utc())
    # Waiting for its card while the staff chat is at Telegram's limit; listed in a digest.
    staff_pending_since: datetime | None = Field(default=None, sa_column=_utc())
    staff_digested_at: datetime | None = Field(default=None, sa_column=_utc())
    # Many customers, one fault: the ticket is answered and resolved with its incident.
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)

    @property
    def reference(self) -> str:
        """The reference customers and staff quote."""
        return format_ticket_reference(self.id or 0)


def format_ticket_reference(ticket_id: int) -> str:
    """T-00042 style reference for a ticket id."""
    return f"T-{ticket_id:05d}"


def parse_ticket_reference(reference: str) -> int | None:
    """The ticket id in "T-00042" (or "t-42", "#42", "42"), or None if it is not one."""
    digits = reference.strip().upper().removeprefix("T-").removeprefix("#")
    return int(digits) if digits.isdigit() and int(digits) > 0 else None


class TicketMessage(SQLModel, table=True):
    """A message in a ticket's conversation: customer, staff reply or internal note."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    author: str = Field(max_length=16)
    author_user_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    # Staff's name as Telegram gave it when they wrote (they need not have claimed the ticket).
    author_name: str | None = Field(default=None, max_length=256)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    feedback_id: int | None = Field(default=None, foreign_key="feedback.id")
    staff_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    staff_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    customer_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = Field(sa_column=_utc(nullable=False))
    edited_at: datetime | None = Field(default=None, sa_column=_utc())
    # A customer's message that staff have not been shown yet (the staff courier posts it).
    staff_due_at: datetime | None = Field(default=None, sa_column=_utc(index=True))


class Idea(SQLModel, table=True):
    """An innovation proposal on the idea board."""

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    topic: str = Field(max_length=32)
    language: str = Field(max_length=8)
    status: str = Field(default=IdeaStatus.NEW, max_length=16, index=True)
    merged_into_id: int | None = Field(default=None, foreign_key="idea.id")
    staff_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = Field(sa_column=_utc(nullable=False, index=True))
    first_status_at: datetime | None = Field(default=None, sa_column=_utc())
    status_changed_at: datetime | None = Field(default=None, sa_column=_utc())


class IdeaStatusChange(SQLModel, table=True):
    """One move of an idea from a status to another: its visible history."""

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", index=True)
    old_status: str = Field(max_length=16)
    new_status: str = Field(max_length=16)
    note: str | None = Field(default=None, sa_column=Column(Text))
    changed_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    changed_at: datetime = Field(sa_column=_utc(nullable=False))


class Vote(SQLModel, table=True):
    """A customer's vote for an idea: one per customer per idea."""

    __table_args__ = (UniqueConstraint("idea_id", "customer_id", name="uq_vote_idea_customer"),)

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    created_at: datetime = Field(sa_column=_utc(nullable=False, index=True))


class IdeaComment(SQLModel, table=True):
    """A customer's comment in an idea's discussion."""

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(sa_column=_utc(nullable=False, index=True))


class Rating(SQLModel, table=True):
    """A CSAT (1-5) or NPS (0-10) score, optionally about a ticket."""

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    scale: str = Field(max_length=8)  # "csat" or "nps"
    score: int
    comment: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(sa_column=_utc(nullable=False, index=True))


class MetricSnapshot(SQLModel, table=True):
    """A metric's value for one scope and period, recomputed idempotently."""

    __table_args__ = (
        UniqueConstraint("metric", "scope", "period_start", "period_end", name="uq_snapshot"),
    )

    id: int | None = Field(default=None, primary_key=True)
    metric: str = Field(max_length=64)
    scope: str = Field(default="all", max_length=64)
    period_start: datetime = Field(sa_column=_utc(nullable=False))
    period_end: datetime = Field(sa_column=_utc(nullable=False))
    value: float | None = None
    computed_at: datetime = Field(sa_column=_utc(nullable=False))


class InboxUpdate(SQLModel, table=True):
    """A raw Telegram update, stored before it is confirmed, processed once by update_id."""

    __tablename__ = "inbox"
    __table_args__ = (
        Index("ix_inbox_pending", "processed_at", "update_id"),
        Index("ix_inbox_chat", "chat_id", "processed_at"),
    )

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = Field(sa_column=_utc(nullable=False))
    processed_at: datetime | None = Field(default=None, sa_column=_utc())
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    # Which process is handling it, and until when: a crashed process's claim runs out.
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = Field(default=None, sa_column=_utc())
    # The conversation: one process at a time works on a chat's updates.
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))


class OutboxMessage(SQLModel, table=True):
    """An outgoing Bot API call, kept until delivered."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    method: str = Field(max_length=32)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    dedupe_key: str | None = Field(default=None, max_length=128, unique=True)
    status: str = Field(default="pending", max_length=16)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = Field(sa_column=_utc(nullable=False))
    created_at: datetime = Field(sa_column=_utc(nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=_utc())
    result_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    # What Telegram returned, its ids only (message_id, message_thread_id) as JSON: a call
    # made again under the same dedupe key is answered from here, not sent again.
    result: str | None = Field(default=None, sa_column=Column(Text))
    # What the call changes ("text:<chat>:<message>", "open:<chat>:<thread>"): a newer
    # call on the same target supersedes one still waiting for a retry.
    target: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    # The process sending it; its lease (next_attempt_at) is renewed while it lives.
    claimed_by: str | None = Field(default=None, max_length=64)


class IncidentStatus(StrEnum):
    """Where an incident stands."""

    OPEN = "open"
    RESOLVED = "resolved"


class Incident(SQLModel, table=True):
    """Many customers reporting one fault at once: one card for staff, one answer for all."""

    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(default=IncidentStatus.OPEN, max_length=16, index=True)
    topic: str = Field(max_length=32)
    language: str = Field(max_length=8)
    # The words the reports share, as nlp.similarity terms: later reports are matched to them.
    signature: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    summary: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    first_report_at: datetime = Field(sa_column=_utc(nullable=False))
    opened_at: datetime = Field(sa_column=_utc(nullable=False, index=True))
    first_broadcast_at: datetime | None = Field(default=None, sa_column=_utc())
    resolved_at: datetime | None = Field(default=None, sa_column=_utc())
    resolved_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    staff_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    staff_thread_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    staff_card_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    # What the card shows, and when it was last drawn (edits stay within the group's limit).
    card_customers: int = Field(default=0)
    card_drawn_at: datetime | None = Field(default=None, sa_column=_utc())
    managers_told_at: datetime | None = Field(default=None, sa_column=_utc())

    @property
    def reference(self) -> str:
        """The reference staff and customers quote."""
        return format_incident_reference(self.id or 0)


def format_incident_reference(incident_id: int) -> str:
    """I-00012: how staff and customers name an incident."""
    return f"I-{incident_id:05d}"


class ChatLease(SQLModel, table=True):
    """Which process posts to a staff chat now: one at a time keeps its pace and its order."""

    __tablename__ = "chat_lease"

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    owner: str = Field(max_length=64)
    until: datetime = Field(sa_column=_utc(nullable=False))


class Label(SQLModel, table=True):
    """A human correction of a triage result, used for retraining."""

    id: int | None = Field(default=None, primary_key=True)
    feedback_id: int | None = Field(default=None, foreign_key="feedback.id", index=True)
    field: str = Field(default="kind", max_length=16)
    value: str = Field(max_length=32)
    source: str = Field(max_length=16)  # "customer" or "staff"
    labelled_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = Field(sa_column=_utc(nullable=False))


class CannedReply(SQLModel, table=True):
    """A saved answer staff send by name."""

    __tablename__ = "canned_reply"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = Field(sa_column=_utc(nullable=False))


class StaffThread(SQLModel, table=True):
    """A forum topic the bot opened in a staff chat for a purpose (e.g. "ideas")."""

    __tablename__ = "staff_thread"
    __table_args__ = (UniqueConstraint("chat_id", "purpose", name="uq_staff_thread_purpose"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    purpose: str = Field(max_length=32)
    thread_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(sa_column=_utc(nullable=False))


class JobRun(SQLModel, table=True):
    """One run of a scheduled job for one period: claimed once, whichever process gets there."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "period", name="uq_job_run_period"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=64)
    period: str = Field(max_length=64)
    claimed_by: str = Field(max_length=64)
    started_at: datetime = Field(sa_column=_utc(nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=_utc())


class DeadLetter(SQLModel, table=True):
    """An update or outgoing message that failed for good, kept aside for operators."""

    __tablename__ = "dead_letter"
    __table_args__ = (UniqueConstraint("kind", "item_id", name="uq_dead_letter_item"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # "update" or "message"
    item_id: int | None = Field(default=None, sa_column=Column(BigInteger))  # update_id, outbox id
    error: str = Field(sa_column=Column(Text, nullable=False))
    payload: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(sa_column=_utc(nullable=False))


class PersonSetting(SQLModel, table=True):
    """A manager's or staff member's own choices (they need not be customers): their language."""

    __tablename__ = "person_setting"

    telegram_user_id: int = Field(
        sa_column=Column(BigInteger, primary_key=True, autoincrement=False)
    )
    language: str = Field(max_length=8)
    updated_at: datetime = Field(sa_column=_utc(nullable=False))


class OfferOutcome(StrEnum):
    """What became of answers suggested to a customer before a person."""

    WAITING = "waiting"  # shown; the customer has not said yet, the card waits
    SOLVED = "solved"  # "this solved it": the ticket is closed, self-served
    PERSON = "person"  # "I still need a person": the card goes to staff at once
    TIMEOUT = "timeout"  # no answer within SELF_SERVICE_WAIT_MINUTES: the card goes to staff


class Answer(SQLModel, table=True):
    """A knowledge-base answer staff wrote, in one language, suggested to customers."""

    __tablename__ = "answer"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    text: str = Field(sa_column=Column(Text, nullable=False))
    language: str = Field(max_length=8, index=True)
    topic: str = Field(max_length=32)
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = Field(sa_column=_utc(nullable=False))
    updated_at: datetime = Field(sa_column=_utc(nullable=False))
    # Retired answers are never suggested again; their history stays for the metrics.
    retired_at: datetime | None = Field(default=None, sa_column=_utc())


class AnswerOffer(SQLModel, table=True):
    """Answers suggested for a new ticket before staff see it: one offer per ticket."""

    __tablename__ = "answer_offer"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", unique=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    topic: str = Field(max_length=32)
    language: str = Field(max_length=8)
    offered_at: datetime = Field(sa_column=_utc(nullable=False, index=True))
    # Until then the ticket's card waits for the customer's answer.
    wait_until: datetime = Field(sa_column=_utc(nullable=False))
    outcome: str = Field(default=OfferOutcome.WAITING, max_length=16)
    decided_at: datetime | None = Field(default=None, sa_column=_utc())


class AnswerShown(SQLModel, table=True):
    """One answer of an offer, in the order it was shown."""

    __tablename__ = "answer_shown"
    __table_args__ = (UniqueConstraint("offer_id", "answer_id", name="uq_answer_shown"),)

    id: int | None = Field(default=None, primary_key=True)
    offer_id: int = Field(foreign_key="answer_offer.id", index=True)
    answer_id: int = Field(foreign_key="answer.id", index=True)
    rank: int
    score: float
