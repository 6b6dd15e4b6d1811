"""Scheduled job runs claimed once per period, whichever process gets there first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import JobRun


async def claim_run(
    *, session: AsyncSession, job: str, period: str, owner: str, now: datetime
) -> bool:
    """Claim the run of `job` for `period`; False if another process (or run) already has it."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(JobRun)
        .values(job=job, period=period, claimed_by=owner, started_at=now)
        .on_conflict_do_nothing(index_elements=["job", "period"])
        .returning(col(JobRun.id))
    )
    return (await session.exec(statement)).first() is not None


async def finish_run(*, session: AsyncSession, job: str, period: str, now: datetime) -> None:
    """Record when the claimed run ended."""
    await session.exec(
        update(JobRun)
        .where(col(JobRun.job) == job, col(JobRun.period) == period)
        .values(finished_at=now)
    )
