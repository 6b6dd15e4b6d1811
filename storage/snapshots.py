"""Metric snapshots: one row per metric, scope and period; recomputing replaces the value."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import MetricSnapshot


async def save_snapshot(
    *,
    session: AsyncSession,
    metric: str,
    scope: str,
    period_start: datetime,
    period_end: datetime,
    value: float | None,
    now: datetime,
) -> None:
    """Insert or replace the value of a metric for a scope and period."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(MetricSnapshot).values(
        metric=metric,
        scope=scope,
        period_start=period_start,
        period_end=period_end,
        value=value,
        computed_at=now,
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["metric", "scope", "period_start", "period_end"],
        set_={"value": stmt.excluded.value, "computed_at": stmt.excluded.computed_at},
    )
    await session.exec(stmt)


async def snapshots(*, session: AsyncSession, metric: str, since: datetime) -> list[MetricSnapshot]:
    """Stored values of a metric from a moment on, oldest first."""
    result = await session.exec(
        select(MetricSnapshot)
        .where(MetricSnapshot.metric == metric, col(MetricSnapshot.period_start) >= since)
        .order_by(col(MetricSnapshot.period_start), col(MetricSnapshot.scope))
    )
    return list(result.all())
