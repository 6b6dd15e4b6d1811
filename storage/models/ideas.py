"""The idea board: ideas, their history, votes and discussion."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import utc_column


class IdeaStatus(StrEnum):
    """Where an idea stands on the board."""

    NEW = "new"
    UNDER_REVIEW = "under_review"
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DECLINED = "declined"
    DUPLICATE = "duplicate"


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
    created_at: datetime = Field(sa_column=utc_column(nullable=False, index=True))
    first_status_at: datetime | None = Field(default=None, sa_column=utc_column())
    status_changed_at: datetime | None = Field(default=None, sa_column=utc_column())


class IdeaStatusChange(SQLModel, table=True):
    """One move of an idea from a status to another: its visible history."""

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", index=True)
    old_status: str = Field(max_length=16)
    new_status: str = Field(max_length=16)
    note: str | None = Field(default=None, sa_column=Column(Text))
    changed_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    changed_at: datetime = Field(sa_column=utc_column(nullable=False))


class Vote(SQLModel, table=True):
    """A customer's vote for an idea: one per customer per idea."""

    __table_args__ = (UniqueConstraint("idea_id", "customer_id", name="uq_vote_idea_customer"),)

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    created_at: datetime = Field(sa_column=utc_column(nullable=False, index=True))


class IdeaComment(SQLModel, table=True):
    """A customer's comment in an idea's discussion."""

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(sa_column=utc_column(nullable=False, index=True))
