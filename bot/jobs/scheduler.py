"""The scheduler: every job on its trigger, each run claimed once for its time slot (the jobs are
plain async functions of the services, in the modules beside this one)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.jobs.context import JobContext, run_once
from bot.jobs.managers import daily_digest, spike_check, weekly_report
from bot.jobs.staff import answers_weekly, flood_release, selfservice_expiry, sla_check
from bot.jobs.upkeep import hourly_snapshot, payload_prune

# A job's trigger, and the time slot in which one run counts for all processes.
When = tuple[Any, timedelta]


def build_scheduler(context: JobContext) -> AsyncIOScheduler:
    """The scheduler with every job; the caller starts and shuts it down."""
    services = context.services
    zone = services.settings.zone
    scheduler = AsyncIOScheduler(timezone=zone)
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 600}
    digest_hour, digest_minute = (int(x) for x in services.settings.digest_time.split(":"))

    def every(**interval: int) -> When:
        return IntervalTrigger(**interval, timezone=zone), timedelta(**interval)

    def hourly(minute: int) -> When:
        return CronTrigger(minute=minute, timezone=zone), timedelta(hours=1)

    def daily() -> When:
        trigger = CronTrigger(hour=digest_hour, minute=digest_minute, timezone=zone)
        return trigger, timedelta(hours=12)

    def mondays() -> When:
        trigger = CronTrigger(
            day_of_week="mon", hour=digest_hour, minute=digest_minute, timezone=zone
        )
        return trigger, timedelta(days=3)

    jobs: list[tuple[str, When, Callable[[], Awaitable[object]]]] = [
        ("hourly_snapshot", hourly(2), lambda: hourly_snapshot(services)),
        ("payload_prune", hourly(17), lambda: payload_prune(services)),
        (
            "sla_check",
            every(seconds=services.settings.sla_check_seconds),
            lambda: sla_check(context),
        ),
        ("flood_release", every(seconds=20), lambda: flood_release(context)),
        ("staff_backlog", every(seconds=20), lambda: context.desk.flush_backlog()),
        ("selfservice_expiry", every(seconds=30), lambda: selfservice_expiry(context)),
        ("answers_weekly", mondays(), lambda: answers_weekly(context)),
        ("spike_check", every(minutes=15), lambda: spike_check(context)),
        ("daily_digest", daily(), lambda: daily_digest(context)),
        ("weekly_report", mondays(), lambda: weekly_report(context)),
    ]
    for name, (trigger, slot), run in jobs:
        scheduler.add_job(run_once, trigger, args=[context, name, slot, run], id=name, **common)
    return scheduler
