"""Tickets: care cases, their conversation, and the ratings customers give."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, Text, text
from sqlmodel import Field, SQLModel

from storage.types import utc_column


class TicketStatus(StrEnum):
    """Where a care case stands."""

    OPEN = "open"
    RESOLVED = "resolved"


class MessageAuthor(StrEnum):
    """Who wrote a ticket message."""

    CUSTOMER = "customer"
    STAFF = "staff"
    NOTE = "note"


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
    assigned_at: datetime | None = Field(default=None, sa_column=utc_column())
    staff_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    staff_thread_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    staff_card_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    opened_at: datetime = Field(sa_column=utc_column(nullable=False, index=True))
    first_response_at: datetime | None = Field(default=None, sa_column=utc_column())
    first_response_seconds: float | None = None
    resolved_at: datetime | None = Field(default=None, sa_column=utc_column())
    resolution_seconds: float | None = None
    resolved_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    reopened_count: int = Field(default=0)
    reopened_at: datetime | None = Field(default=None, sa_column=utc_column())
    sla_reminded_at: datetime | None = Field(default=None, sa_column=utc_column())
    sla_escalated_at: datetime | None = Field(default=None, sa_column=utc_column())
    # Waiting for its card while the staff chat is at Telegram's limit; listed in a digest.
    staff_pending_since: datetime | None = Field(default=None, sa_column=utc_column())
    staff_digested_at: datetime | None = Field(default=None, sa_column=utc_column())
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
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    edited_at: datetime | None = Field(default=None, sa_column=utc_column())
    # A customer's message that staff have not been shown yet (the staff courier posts it).
    staff_due_at: datetime | None = Field(default=None, sa_column=utc_column(index=True))


class Rating(SQLModel, table=True):
    """A CSAT (1-5) or NPS (0-10) score, optionally about a ticket."""

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    scale: str = Field(max_length=8)  # "csat" or "nps"
    score: int
    comment: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(sa_column=utc_column(nullable=False, index=True))
