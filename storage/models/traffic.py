"""Telegram's traffic kept durable: updates received, calls to make, what failed for good."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import utc_column


class InboxUpdate(SQLModel, table=True):
    """A raw Telegram update, stored before it is confirmed, processed once by update_id."""

    __tablename__ = "inbox"
    __table_args__ = (
        Index("ix_inbox_pending", "processed_at", "update_id"),
        Index("ix_inbox_chat", "chat_id", "processed_at"),
    )

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    received_at: datetime = Field(sa_column=utc_column(nullable=False))
    processed_at: datetime | None = Field(default=None, sa_column=utc_column())
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    # Which process is handling it, and until when: a crashed process's claim runs out.
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = Field(default=None, sa_column=utc_column())
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
    next_attempt_at: datetime = Field(sa_column=utc_column(nullable=False))
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=utc_column())
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


class DeadLetter(SQLModel, table=True):
    """An update or outgoing message that failed for good, kept aside for operators."""

    __tablename__ = "dead_letter"
    __table_args__ = (UniqueConstraint("kind", "item_id", name="uq_dead_letter_item"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # "update" or "message"
    item_id: int | None = Field(default=None, sa_column=Column(BigInteger))  # update_id, outbox id
    error: str = Field(sa_column=Column(Text, nullable=False))
    payload: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
