"""Staff and managers: which process posts to a staff chat now, the topics opened there for
a purpose, saved answers, and the language each person chose."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import utc_column


class ChatLease(SQLModel, table=True):
    """Which process posts to a staff chat now: one at a time keeps its pace and its order."""

    __tablename__ = "chat_lease"

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    owner: str = Field(max_length=64)
    until: datetime = Field(sa_column=utc_column(nullable=False))


class StaffThread(SQLModel, table=True):
    """A forum topic the bot opened in a staff chat for a purpose (e.g. "ideas")."""

    __tablename__ = "staff_thread"
    __table_args__ = (UniqueConstraint("chat_id", "purpose", name="uq_staff_thread_purpose"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    purpose: str = Field(max_length=32)
    thread_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(sa_column=utc_column(nullable=False))


class CannedReply(SQLModel, table=True):
    """A saved answer staff send by name."""

    __tablename__ = "canned_reply"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    created_at: datetime = Field(sa_column=utc_column(nullable=False))


class PersonSetting(SQLModel, table=True):
    """A manager's or staff member's own choices (they need not be customers): their language."""

    __tablename__ = "person_setting"

    telegram_user_id: int = Field(
        sa_column=Column(BigInteger, primary_key=True, autoincrement=False)
    )
    language: str = Field(max_length=8)
    updated_at: datetime = Field(sa_column=utc_column(nullable=False))
