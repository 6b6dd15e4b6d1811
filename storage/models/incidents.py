"""Incidents: many customers reporting one fault at once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Text
from sqlmodel import Field, SQLModel

from storage.types import utc_column


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
    first_report_at: datetime = Field(sa_column=utc_column(nullable=False))
    opened_at: datetime = Field(sa_column=utc_column(nullable=False, index=True))
    first_broadcast_at: datetime | None = Field(default=None, sa_column=utc_column())
    resolved_at: datetime | None = Field(default=None, sa_column=utc_column())
    resolved_by: int | None = Field(default=None, sa_column=Column(BigInteger))
    staff_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    staff_thread_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    staff_card_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    # What the card shows, and when it was last drawn (edits stay within the group's limit).
    card_customers: int = Field(default=0)
    card_drawn_at: datetime | None = Field(default=None, sa_column=utc_column())
    managers_told_at: datetime | None = Field(default=None, sa_column=utc_column())

    @property
    def reference(self) -> str:
        """The reference staff and customers quote."""
        return format_incident_reference(self.id or 0)


def format_incident_reference(incident_id: int) -> str:
    """I-00012: how staff and customers name an incident."""
    return f"I-{incident_id:05d}"
