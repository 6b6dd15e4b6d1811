"""Labels people gave: the customer's answer to "what is this?", staff relabels."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Feedback, Label


async def kind_labels(*, session: AsyncSession) -> list[tuple[str, str]]:
    """(text, kind) for every labelled message, by its latest kind label; forgotten texts out."""
    latest = (
        select(Label.feedback_id, func.max(Label.id).label("label_id"))
        .where(Label.field == "kind", col(Label.feedback_id).is_not(None))
        .group_by(col(Label.feedback_id))
        .subquery()
    )
    rows = await session.exec(
        select(Feedback.text, Label.value)
        .join(latest, latest.c.feedback_id == col(Feedback.id))
        .join(Label, col(Label.id) == latest.c.label_id)
        .where(col(Feedback.text) != "")
        .order_by(col(Feedback.id))
    )
    return [(text, kind) for text, kind in rows.all()]
