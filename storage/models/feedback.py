"""Customers' messages with their triage, and the corrections of triage staff make."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, Text
from sqlmodel import Field, SQLModel

from storage.types import utc_column


class Kind(StrEnum):
    """What a customer's message is, for the firm."""

    CARE = "care"
    IDEA = "idea"
    OTHER = "other"


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
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    edited_at: datetime | None = Field(default=None, sa_column=utc_column())
    # None while the message waits: for the customer to say what it is, or under flood control.
    routed_at: datetime | None = Field(default=None, sa_column=utc_column())
    held_for: str | None = Field(default=None, max_length=16)


class Label(SQLModel, table=True):
    """A human correction of a triage result, used for retraining."""

    id: int | None = Field(default=None, primary_key=True)
    feedback_id: int | None = Field(default=None, foreign_key="feedback.id", index=True)
    field: str = Field(default="kind", max_length=16)
    value: str = Field(max_length=32)
    source: str = Field(max_length=16)  # "customer" or "staff"
    labelled_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
