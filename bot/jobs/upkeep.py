"""Upkeep: hourly volume snapshots, raw payloads pruned past their retention."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.core.services import Services
from storage.metrics import overview
from storage.retention import prune_payloads
from storage.snapshots import save_snapshot

log = logging.getLogger(__name__)


def hour_window(moment: datetime) -> tuple[datetime, datetime]:
    """The whole hour before `moment`'s hour: [start, end)."""
    end = moment.replace(minute=0, second=0, microsecond=0)
    return end - timedelta(hours=1), end


async def hourly_snapshot(services: Services, *, period_end: datetime | None = None) -> int:
    """Store the last whole hour's volumes as snapshots; running it again replaces them."""
    start, end = hour_window(period_end or services.clock.now())
    now = services.clock.now()
    async with services.db.read() as session:  # the aggregates take no writer turn
        volumes = await overview(session=session, start=start, end=end)
    values: dict[tuple[str, str], float] = {
        ("feedback", "all"): volumes.feedback,
        ("tickets_opened", "all"): volumes.tickets_opened,
        ("ideas", "all"): volumes.ideas,
        ("active_customers", "all"): volumes.active_customers,
    }
    values.update({("feedback", f"kind:{k}"): v for k, v in volumes.by_kind.items()})
    values.update({("feedback", f"topic:{k}"): v for k, v in volumes.by_topic.items()})
    async with services.db.session() as session:
        for (metric, scope), value in values.items():
            await save_snapshot(
                session=session,
                metric=metric,
                scope=scope,
                period_start=start,
                period_end=end,
                value=float(value),
                now=now,
            )
    log.info("hourly snapshot %s: %d values", start.isoformat(), len(values))
    return len(values)


async def payload_prune(services: Services) -> tuple[int, int]:
    """Erase raw updates processed, and payloads sent or failed, before the retention:
    (inbox rows, outbox rows) pruned."""
    before = services.clock.now() - timedelta(hours=services.settings.payload_retention_hours)
    async with services.db.session() as session:
        pruned = await prune_payloads(session=session, before=before)
    log.info("payloads pruned: %d inbox, %d outbox", pruned.inbox, pruned.outbox)
    return pruned.inbox, pruned.outbox
