"""The summary of rows a metric test built: stored (with the customers of tickets that have
their own), summarised over a window, and the nearest-rank percentile the definitions use."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import SQLModel

from storage.db import Database
from storage.metrics import compute_summary
from storage.models import Customer, Ticket
from tests.support.metric_rows import END, OWN_CUSTOMER, START, customer


def nearest_rank(values: Sequence[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(p * len(ordered) / 100) - 1]


async def insert(db: Database, *rows: SQLModel) -> None:
    """The rows, with the customers of tickets that have their own (see ticket())."""
    known = {r.id for r in rows if isinstance(r, Customer)}
    owners = sorted(
        {r.customer_id for r in rows if isinstance(r, Ticket) and r.customer_id > OWN_CUSTOMER}
        - known
    )
    async with db.session() as session:
        session.add_all([customer(cid) for cid in owners])
        await session.flush()
        session.add_all(rows)


async def summarise(
    db: Database, *, start: datetime = START, end: datetime = END, sla: int = 60, top: int = 5
) -> dict[str, Any]:
    async with db.session() as session:
        return await compute_summary(
            session=session, start=start, end=end, sla_minutes=sla, top=top
        )
