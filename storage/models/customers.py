"""Customers: the people who write to the bot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from storage.types import utc_column


class Customer(SQLModel, table=True):
    """A person who writes to the bot in a private chat."""

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    first_name: str | None = Field(default=None, max_length=256)
    last_name: str | None = Field(default=None, max_length=256)
    username: str | None = Field(default=None, max_length=64)
    language: str = Field(default="en", max_length=8)
    created_at: datetime = Field(sa_column=utc_column(nullable=False))
    last_seen_at: datetime = Field(sa_column=utc_column(nullable=False))
    unreachable: bool = Field(default=False)
    forgotten_at: datetime | None = Field(default=None, sa_column=utc_column())
    # What the bot waits for from this customer (a rating comment, a confirmation...):
    # kept here, not in memory, so it survives restarts and works across processes.
    awaiting: str | None = Field(default=None, max_length=64)
    awaiting_since: datetime | None = Field(default=None, sa_column=utc_column())

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
