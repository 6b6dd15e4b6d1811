"""The tables, by area. This package is the schema's public face (``from storage.models import
Ticket``); importing it registers every table on ``SQLModel.metadata``, which Alembic's
migrations are compared with.

Facts are recorded when they happen; metrics are computed from them later.

The modules' names matter. A flush writes the rows of tables with no ``relationship()`` between
them in the order of their classes' ``module.Class`` names: named so, every table that refers to
another keeps the place it had when all were in one module (a customer before their ticket,
an answer offer before the ticket and the customer it names).
"""

from __future__ import annotations

from storage.models.answers import Answer, AnswerOffer, AnswerShown, OfferOutcome
from storage.models.customers import Customer, customer_display_name
from storage.models.feedback import Feedback, Kind, Label
from storage.models.ideas import Idea, IdeaComment, IdeaStatus, IdeaStatusChange, Vote
from storage.models.incidents import Incident, IncidentStatus, format_incident_reference
from storage.models.jobs import JobRun, MetricSnapshot
from storage.models.staff import CannedReply, ChatLease, PersonSetting, StaffThread
from storage.models.tickets import (
    MessageAuthor,
    Rating,
    Ticket,
    TicketMessage,
    TicketStatus,
    format_ticket_reference,
    parse_ticket_reference,
)
from storage.models.traffic import DeadLetter, InboxUpdate, OutboxMessage

__all__ = [
    "Answer",
    "AnswerOffer",
    "AnswerShown",
    "CannedReply",
    "ChatLease",
    "Customer",
    "DeadLetter",
    "Feedback",
    "Idea",
    "IdeaComment",
    "IdeaStatus",
    "IdeaStatusChange",
    "InboxUpdate",
    "Incident",
    "IncidentStatus",
    "JobRun",
    "Kind",
    "Label",
    "MessageAuthor",
    "MetricSnapshot",
    "OfferOutcome",
    "OutboxMessage",
    "PersonSetting",
    "Rating",
    "StaffThread",
    "Ticket",
    "TicketMessage",
    "TicketStatus",
    "Vote",
    "customer_display_name",
    "format_incident_reference",
    "format_ticket_reference",
    "parse_ticket_reference",
]
