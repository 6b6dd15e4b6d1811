"""Scheduled jobs: each run claimed once, and the metric snapshots they save."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import utc_column


class JobRun(SQLModel, table=True):
    """One run of a scheduled job for one period: claimed once, whichever process gets there."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "period", name="uq_job_run_period"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=64)
    period: str = Field(max_length=64)
    claimed_by: str = Field(max_length=64)
    started_at: datetime = Field(sa_column=utc_column(nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=utc_column())


class MetricSnapshot(SQLModel, table=True):
    """A metric's value for one scope and period, recomputed idempotently."""

    __table_args__ = (
        UniqueConstraint("metric", "scope", "period_start", "period_end", name="uq_snapshot"),
    )

    id: int | None = Field(default=None, primary_key=True)
    metric: str = Field(max_length=64)
    scope: str = Field(default="all", max_length=64)
    period_start: datetime = Field(sa_column=utc_column(nullable=False))
    period_end: datetime = Field(sa_column=utc_column(nullable=False))
    value: float | None = None
    computed_at: datetime = Field(sa_column=utc_column(nullable=False))
