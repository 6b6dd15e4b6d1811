"""Incidents: how fast an outage was seen, answered and fixed, and how many it touched."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.metrics.sql import fetch, nearest_rank, table, within
from storage.models import Incident, Ticket


def _p(values: list[float], p: int) -> float | None:
    ordered = sorted(values)
    return ordered[nearest_rank(p, len(ordered)) - 1] if ordered else None


async def incidents_in(session: AsyncSession, *, start: datetime, end: datetime) -> dict[str, Any]:
    """Incidents opened in the window and what became of them (see compute_summary)."""
    i, t = table(Incident), table(Ticket)
    rows = await fetch(
        session,
        core_select(
            i.c.id,
            i.c.first_report_at,
            i.c.opened_at,
            i.c.first_broadcast_at,
            i.c.resolved_at,
        ).where(within(i.c.opened_at, start, end)),
    )
    ids = [row[0] for row in rows]
    affected = 0
    if ids:
        affected = int(
            (
                await fetch(
                    session,
                    core_select(func.count(func.distinct(t.c.customer_id))).where(
                        t.c.incident_id.in_(ids)
                    ),
                )
            )[0][0]
        )
    detect = [(opened - first).total_seconds() for _, first, opened, _, _ in rows]
    broadcast = [
        (told - first).total_seconds()
        for _, first, _, told, _ in rows
        if told is not None and told < end
    ]
    resolve = [
        (done - first).total_seconds()
        for _, first, _, _, done in rows
        if done is not None and done < end
    ]
    open_at_end = sum(1 for *_, done in rows if done is None or done >= end)
    return {
        "opened": len(rows),
        "customers_affected": affected,
        "time_to_detect_p50": _p(detect, 50),
        "time_to_first_broadcast_p50": _p(broadcast, 50),
        "time_to_resolve_p50": _p(resolve, 50),
        "resolved": len(resolve),
        "open_at_end": open_at_end,
    }
