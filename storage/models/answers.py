"""Self-service answers: what staff wrote, and what was suggested to whom."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import utc_column


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
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    updated_at: datetime = Field(sa_column=utc_column(nullable=False))
    # Retired answers are never suggested again; their history stays for the metrics.
    retired_at: datetime | None = Field(default=None, sa_column=utc_column())


class AnswerOffer(SQLModel, table=True):
    """Answers suggested for a new ticket before staff see it: one offer per ticket."""

    __tablename__ = "answer_offer"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", unique=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    topic: str = Field(max_length=32)
    language: str = Field(max_length=8)
    offered_at: datetime = Field(sa_column=utc_column(nullable=False, index=True))
    # Until then the ticket's card waits for the customer's answer.
    wait_until: datetime = Field(sa_column=utc_column(nullable=False))
    outcome: str = Field(default=OfferOutcome.WAITING, max_length=16)
    decided_at: datetime | None = Field(default=None, sa_column=utc_column())


class AnswerShown(SQLModel, table=True):
    """One answer of an offer, in the order it was shown."""

    __tablename__ = "answer_shown"
    __table_args__ = (UniqueConstraint("offer_id", "answer_id", name="uq_answer_shown"),)

    id: int | None = Field(default=None, primary_key=True)
    offer_id: int = Field(foreign_key="answer_offer.id", index=True)
    answer_id: int = Field(foreign_key="answer.id", index=True)
    rank: int
    score: float
