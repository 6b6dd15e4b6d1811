"""A customer's message as the domain sees it, and what became of it (for the replies to render).

The use cases that take messages in (``bot.domain.feedback``), route the held ones
(``bot.domain.held``) and the idea board (``bot.domain.ideas``) all answer with a
:class:`FeedbackOutcome`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.services import Services
from bot.domain.similar import Similar
from nlp import TriageResult
from storage.models import Customer, Feedback, format_ticket_reference

HELD_ASK = "ask"
HELD_FLOOD = "flood"
HELD_SIMILAR = "similar"


@dataclass(frozen=True, slots=True)
class Sender:
    """Who wrote, as Telegram describes them."""

    telegram_user_id: int
    first_name: str | None
    last_name: str | None
    username: str | None
    language_code: str | None


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """What they wrote: text or caption, and any media."""

    chat_id: int
    message_id: int
    text: str
    media_type: str | None = None
    media_file_id: str | None = None


@dataclass(frozen=True, slots=True)
class FeedbackOutcome:
    """What became of a message, for the replies to render."""

    feedback_id: int
    customer_id: int
    customer_name: str
    chat_id: int
    message_id: int
    text: str
    kind: str
    triage: TriageResult
    language: str
    media_type: str | None = None
    held_for: str | None = None
    first_held: bool = False
    ticket_id: int | None = None
    ticket_message_id: int | None = None
    new_ticket: bool = False
    priority: str | None = None
    idea_id: int | None = None
    idea_created: bool = True
    similar: tuple[Similar, ...] = ()
    # The incident the ticket belongs to; `joined_incident` when it was open before this
    # report (the customer is told the problem is known).
    incident_id: int | None = None
    joined_incident: bool = False
    incident_since: datetime | None = None
    incident_others: int = 0
    # The idea inside a care or other message ("…; also, a dark mode would be nice"), offered
    # to the customer for the board (bot.domain.suggestions).
    suggestion: str | None = None

    @property
    def reference(self) -> str | None:
        """The ticket reference, for care requests."""
        return format_ticket_reference(self.ticket_id) if self.ticket_id else None


class StoredMessage(Protocol):
    """What an outcome takes of a stored message: a Feedback row, or one about to be."""

    @property
    def chat_id(self) -> int: ...
    @property
    def message_id(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def media_type(self) -> str | None: ...


def new_outcome(
    message: StoredMessage,
    *,
    feedback_id: int,
    customer_id: int,
    customer_name: str,
    triage: TriageResult,
    language: str,
) -> FeedbackOutcome:
    """The outcome of a message, before it is routed."""
    return FeedbackOutcome(
        feedback_id=feedback_id,
        customer_id=customer_id,
        customer_name=customer_name,
        chat_id=message.chat_id,
        message_id=message.message_id,
        text=message.text,
        kind=message.kind,
        triage=triage,
        language=language,
        media_type=message.media_type,
    )


def outcome_for(
    feedback: Feedback, customer: Customer, triage: TriageResult, language: str
) -> FeedbackOutcome:
    """The outcome of a stored message, before it is routed."""
    assert feedback.id is not None and customer.id is not None
    return new_outcome(
        feedback,
        feedback_id=feedback.id,
        customer_id=customer.id,
        customer_name=customer.display_name,
        triage=triage,
        language=language,
    )


def reply_language(services: Services, detected: str, telegram_code: str | None) -> str:
    """Answer in the language the customer wrote in when we speak it, else their app's."""
    catalog = services.catalog
    if detected in catalog.languages:
        return detected
    return catalog.language_for(telegram_code)


__all__ = [
    "HELD_ASK",
    "HELD_FLOOD",
    "HELD_SIMILAR",
    "FeedbackOutcome",
    "IncomingMessage",
    "Sender",
    "StoredMessage",
    "new_outcome",
    "outcome_for",
    "reply_language",
]
