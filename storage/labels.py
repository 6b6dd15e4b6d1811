"""Labels people gave: the customer's answer to "what is this?", staff relabels.

Only labels of messages that are still there count: /forget erases the message's text (and
keeps the label row, so that nothing points at a missing message), and a label without its
text can neither be learnt from nor checked against the model.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Subquery, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Customer, Feedback, Label

KIND = "kind"
TOPIC = "topic"
STAFF = "staff"
CUSTOMER = "customer"


@dataclass(frozen=True, slots=True)
class LabelTotals:
    """How many labels exist on messages still there: kind labels by who gave them and by the
    kind they say, and staff's topic labels apart."""

    kind_labels: int = 0
    by_source: dict[str, int] = field(default_factory=dict)  # "staff", "customer"
    by_kind: dict[str, int] = field(default_factory=dict)  # "care", "idea", "other"
    topic_labels: int = 0


@dataclass(frozen=True, slots=True)
class LabelledText:
    """A labelled message by its latest kind label: what it says it is, and who said so."""

    feedback_id: int
    text: str
    kind: str
    source: str


async def label_feedback(
    *,
    session: AsyncSession,
    feedback: Feedback,
    field: str,
    value: str,
    source: str,
    labelled_by: int,
    now: datetime,
) -> None:
    """Someone said what a message is ("kind") or is about ("topic"): keep the label, for
    retraining and for /triage, and the message takes it."""
    session.add(
        Label(
            feedback_id=feedback.id,
            field=field,
            value=value,
            source=source,
            labelled_by=labelled_by,
            created_at=now,
        )
    )
    if field == TOPIC:
        feedback.topic = value
    else:
        feedback.kind = value
    session.add(feedback)


def _kept() -> tuple[ColumnElement[bool], ...]:
    """The label's message is still there: not erased by /forget."""
    return (col(Feedback.text) != "", col(Customer.forgotten_at).is_(None))


def _latest_kind_labels() -> Subquery:
    """(feedback_id, label_id) of each message's latest kind label."""
    return (
        select(Label.feedback_id, func.max(Label.id).label("label_id"))
        .where(Label.field == KIND, col(Label.feedback_id).is_not(None))
        .group_by(col(Label.feedback_id))
        .subquery()
    )


async def kind_labels(*, session: AsyncSession) -> list[tuple[str, str]]:
    """(text, kind) for every labelled message, by its latest kind label; forgotten texts out."""
    latest = _latest_kind_labels()
    rows = await session.exec(
        select(Feedback.text, Label.value)
        .join(latest, latest.c.feedback_id == col(Feedback.id))
        .join(Label, col(Label.id) == latest.c.label_id)
        .join(Customer, col(Customer.id) == col(Feedback.customer_id))
        .where(*_kept())
        .order_by(col(Feedback.id))
    )
    return [(text, kind) for text, kind in rows.all()]


async def label_totals(*, session: AsyncSession) -> LabelTotals:
    """Every label on a message still there, counted by field, source and value."""
    rows = await session.exec(
        select(Label.field, Label.source, Label.value, func.count())
        .join(Feedback, col(Feedback.id) == col(Label.feedback_id))
        .join(Customer, col(Customer.id) == col(Feedback.customer_id))
        .where(*_kept())
        .group_by(col(Label.field), col(Label.source), col(Label.value))
    )
    by_source: Counter[str] = Counter()
    by_kind: Counter[str] = Counter()
    topics = 0
    for name, source, value, count in rows.all():
        if name == KIND:
            by_source[source] += count
            by_kind[value] += count
        elif name == TOPIC:
            topics += count
    return LabelTotals(
        kind_labels=sum(by_source.values()),
        by_source=dict(sorted(by_source.items())),
        by_kind=dict(sorted(by_kind.items())),
        topic_labels=topics,
    )


async def latest_labelled(*, session: AsyncSession, limit: int) -> list[LabelledText]:
    """The last ``limit`` labelled messages still there, newest label first, each by its latest
    kind label (a staff relabel after the customer's own answer is the one that counts)."""
    latest = _latest_kind_labels()
    rows = await session.exec(
        select(Feedback.id, Feedback.text, Label.value, Label.source)
        .join(latest, latest.c.feedback_id == col(Feedback.id))
        .join(Label, col(Label.id) == latest.c.label_id)
        .join(Customer, col(Customer.id) == col(Feedback.customer_id))
        .where(*_kept())
        .order_by(latest.c.label_id.desc())
        .limit(limit)
    )
    return [
        LabelledText(feedback_id=fid, text=text, kind=kind, source=source)
        for fid, text, kind, source in rows.all()
        if fid is not None
    ]
