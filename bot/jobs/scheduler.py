"""Scheduled jobs: plain async functions of the services, registered on APScheduler."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from babel.dates import format_date
from telegram import Bot
from telegram.error import TelegramError

from bot.core.process import process_identity
from bot.core.services import Services
from bot.delivery.messaging import Messenger
from bot.domain.answers import never_helping
from bot.domain.feedback import FeedbackOutcome, release_flood
from bot.reports.charts import report_charts
from bot.reports.summary import format_summary
from bot.reports.words import Words
from bot.staff_chat.tickets import StaffDesk
from bot.telegram.text import escape, split_plain
from storage.alerts import care_spikes
from storage.answers import expire_offers
from storage.incidents import incidents_since
from storage.jobs import claim_run, finish_run
from storage.metrics import compute_summary, overview
from storage.people import person_languages
from storage.retention import prune_payloads
from storage.snapshots import save_snapshot
from storage.tickets import unanswered_past

log = logging.getLogger(__name__)

SPIKE_TRAILING_DAYS = 14


@dataclass(frozen=True, slots=True)
class JobContext:
    """What jobs need besides the services: a way to write to Telegram."""

    services: Services
    messenger: Messenger
    desk: StaffDesk
    owner: str = field(default_factory=process_identity)

    @classmethod
    def for_bot(cls, services: Services, bot: Bot) -> JobContext:
        """Build the context around a Bot."""
        messenger = Messenger(bot, services)
        return cls(services=services, messenger=messenger, desk=StaffDesk(services, messenger, bot))


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


async def selfservice_expiry(context: JobContext) -> int:
    """Suggestions left unanswered past SELF_SERVICE_WAIT_MINUTES: their cards go to staff."""
    services = context.services
    async with services.db.session() as session:
        tickets = await expire_offers(session=session, now=services.clock.now())
    if tickets:
        await context.desk.flush_backlog()
    return len(tickets)


# An answer suggested this often in a week without solving a request is flagged to staff.
NEVER_HELPS_AFTER = 3


async def answers_weekly(context: JobContext) -> int:
    """Tell staff which answers were suggested all week and never solved a request."""
    services = context.services
    t, lang = services.catalog.t, services.settings.default_language
    since = services.clock.now() - timedelta(days=7)
    flagged = await never_helping(services, since=since, min_shown=NEVER_HELPS_AFTER)
    if not flagged:
        return 0
    lines = [t("answers.never_help", lang, count=NEVER_HELPS_AFTER)]
    for answer, counts in flagged:
        lines.append(
            t(
                "answers.list_line",
                lang,
                id=answer.id,
                language=answer.language,
                topic=escape(answer.topic),
                title=escape(answer.title),
                shown=counts.shown,
                helpful=counts.helpful,
                not_helpful=counts.not_helpful,
            )
        )
    text = "\n".join(lines)[:4000]
    for chat_id in sorted(services.settings.staff_chats):
        await _deliver(context.messenger.send(chat_id, text))
    return len(flagged)


async def sla_check(context: JobContext) -> tuple[int, int]:
    """Remind staff of tickets unanswered past the SLA; alert managers past twice it. Once each."""
    services = context.services
    settings = services.settings
    t = services.catalog.t
    lang = settings.default_language
    now = services.clock.now()
    sla = timedelta(minutes=settings.sla_minutes)
    reminded = escalated = 0
    async with services.db.session() as session:
        late = await unanswered_past(session=session, opened_before=now - sla, escalation=False)
        very_late = await unanswered_past(
            session=session, opened_before=now - 2 * sla, escalation=True
        )
        for ticket in late:
            ticket.sla_reminded_at = now
            session.add(ticket)
        for ticket in very_late:
            ticket.sla_escalated_at = now
            session.add(ticket)
    # Marked before sending: a failed send is logged, never repeated every minute.
    words = Words(services.catalog, lang)  # "11 days 19 hours", not "16904 minutes"
    for ticket in late:
        text = t(
            "staff.sla_reminder",
            lang,
            reference=ticket.reference,
            waited=words.duration((now - ticket.opened_at).total_seconds()),
            sla=settings.sla_minutes,
        )
        if await _deliver(context.desk.tell(ticket, text)):
            reminded += 1
    for ticket in very_late:
        text = t(
            "staff.sla_manager",
            lang,
            reference=ticket.reference,
            topic=escape(ticket.topic),
            waited=words.duration((now - ticket.opened_at).total_seconds()),
            sla=settings.sla_minutes,
        )
        for manager in sorted(settings.manager_ids):
            if await _deliver(context.messenger.send(manager, text)):
                escalated += 1
    return reminded, escalated


async def flood_release(context: JobContext) -> int:
    """Route what flood control held, one staff message and one notice per customer."""
    services = context.services
    t = services.catalog.t
    released = 0
    for group in await release_flood(services):
        released += len(group)
        care = [o for o in group if o.ticket_id is not None]
        if care:
            await _post_group(context, care)
        first = group[0]
        reference = care[0].reference if care else "—"
        await _deliver(
            context.messenger.send(
                first.chat_id,
                t("ack.flood_released", first.language, count=len(group), reference=reference),
            )
        )
    return released


async def _post_group(context: JobContext, outcomes: list[FeedbackOutcome]) -> None:
    """Released messages were queued for staff when they were routed: post them now."""
    if outcomes:
        await context.desk.flush_backlog()


async def _deliver(sending: object) -> bool:
    try:
        await sending  # type: ignore[misc]
    except TelegramError as exc:
        log.warning("scheduled message not delivered: %s", exc)
        return False
    return True


async def run_once(
    context: JobContext,
    job: str,
    slot: timedelta,
    run: Callable[[], Awaitable[object]],
) -> bool:
    """Run `job` for the current time slot unless some process already did.

    Every process that schedules jobs (clock, or run) may fire the same job at the same
    moment; the first to claim the slot in the database runs it, the others skip.
    """
    services = context.services
    now = services.clock.now()
    period = _slot_start(now, slot).isoformat()
    async with services.db.session() as session:
        mine = await claim_run(
            session=session, job=job, period=period, owner=context.owner, now=now
        )
    if not mine:
        log.debug("%s for %s already ran elsewhere", job, period)
        return False
    try:
        await run()
    finally:
        async with services.db.session() as session:
            await finish_run(session=session, job=job, period=period, now=services.clock.now())
    return True


def _slot_start(moment: datetime, slot: timedelta) -> datetime:
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    elapsed = (moment.astimezone(UTC) - epoch) // slot
    return epoch + elapsed * slot


async def spike_check(context: JobContext) -> int:
    """Alert managers when a topic's care volume today passes its trailing 14-day mean + 3 σ
    (and the minimum count); once per topic and day. Returns how many alerts went out."""
    services = context.services
    settings = services.settings
    zone = settings.zone
    now = services.clock.now()
    today = now.astimezone(zone).date()
    midnights = [
        datetime.combine(today - timedelta(days=back), time(0), tzinfo=zone)
        for back in range(SPIKE_TRAILING_DAYS, -1, -1)
    ]
    async with services.db.session() as session:
        spikes = await care_spikes(
            session=session, day_bounds=[*midnights, now], min_count=settings.spike_min_count
        )
        # A topic whose spike is an incident: managers were told when it opened.
        explained = {i.topic for i in await incidents_since(session=session, since=midnights[-1])}
    spikes = [spike for spike in spikes if spike.topic not in explained]
    sent = 0
    t = services.catalog.t
    for spike in spikes:
        async with services.db.session() as session:
            first = await claim_run(
                session=session,
                job=f"spike:{spike.topic}",
                period=today.isoformat(),
                owner=context.owner,
                now=now,
            )
        if not first:
            continue
        for manager in sorted(settings.manager_ids):
            text = t(
                "manager.spike",
                settings.default_language,
                topic=escape(spike.topic),
                count=spike.today,
                mean=f"{spike.mean:.1f}",
                threshold=f"{spike.threshold:.1f}",
            )
            key = f"spike:{spike.topic}:{today}:{manager}"
            if await _deliver(context.messenger.send(manager, text, key=key)):
                sent += 1
    return sent


async def daily_digest(context: JobContext) -> int:
    """Yesterday's numbers to every manager, in their language."""
    services = context.services
    zone = services.settings.zone
    today = services.clock.now().astimezone(zone).date()
    start = datetime.combine(today - timedelta(days=1), time(0), tzinfo=zone)
    end = datetime.combine(today, time(0), tzinfo=zone)
    letters = await _letters(
        context,
        start,
        end,
        sections=("responsiveness", "involvement", "incidents", "selfservice"),
        title=lambda lang: f"📬 {format_date(start, 'EEEE d MMMM y', locale=lang)}\n",
    )
    return await _to_managers(context, f"digest:{start.date()}", letters)


async def weekly_report(context: JobContext) -> int:
    """Last week's full summary and charts to every manager, in their language."""
    services = context.services
    zone = services.settings.zone
    today = services.clock.now().astimezone(zone).date()
    start = datetime.combine(today - timedelta(days=7), time(0), tzinfo=zone)
    end = datetime.combine(today, time(0), tzinfo=zone)
    last = end - timedelta(days=1)

    def title(lang: str) -> str:
        first = format_date(start, "d MMM", locale=lang)
        return f"📈 {first} – {format_date(last, 'd MMM y', locale=lang)}\n"

    letters = await _letters(context, start, end, sections=None, title=title)
    told = await _to_managers(context, f"weekly:{start.date()}", letters)
    charts = await report_charts(services.db, start=start, end=end, zone=zone)
    for manager, (heading, _) in letters.items():
        try:
            # Keyed by the week: the job run again (a crash, a second clock) sends nothing twice.
            await context.messenger.send_charts(
                manager, charts, heading.strip(), key=f"weekly:{start.date()}:charts:{manager}"
            )
        except TelegramError as exc:
            log.warning("weekly charts not delivered to %s: %s", manager, exc)
    return told


async def _letters(
    context: JobContext,
    start: datetime,
    end: datetime,
    *,
    sections: tuple[str, ...] | None,
    title: Callable[[str], str],
) -> dict[int, tuple[str, str]]:
    """For each manager: the title and the summary of the window, in their language."""
    services = context.services
    settings = services.settings
    managers = sorted(settings.manager_ids)
    async with services.db.read() as session:
        summary = await compute_summary(
            session=session, start=start, end=end, sla_minutes=settings.sla_minutes
        )
        chosen = await person_languages(session=session, telegram_user_ids=managers)
    texts: dict[str, tuple[str, str]] = {}
    letters: dict[int, tuple[str, str]] = {}
    for manager in managers:
        lang = chosen.get(manager, settings.default_language)
        if lang not in texts:
            texts[lang] = (
                title(lang),
                format_summary(
                    summary,
                    sla_minutes=settings.sla_minutes,
                    language=lang,
                    sections=sections,
                    catalog=services.catalog,
                ),
            )
        letters[manager] = texts[lang]
    return letters


async def _to_managers(context: JobContext, key: str, letters: dict[int, tuple[str, str]]) -> int:
    told = 0
    for manager, (title, text) in letters.items():
        for n, piece in enumerate(split_plain(text, 3800)):
            html = (escape(title) if n == 0 else "") + f"<pre>{escape(piece)}</pre>"
            if not await _deliver(
                context.messenger.send(manager, html, key=f"{key}:{manager}:{n}")
            ):
                break
        else:
            told += 1
    return told


def build_scheduler(context: JobContext) -> AsyncIOScheduler:
    """The scheduler with every job; the caller starts and shuts it down."""
    services = context.services
    zone = services.settings.zone
    scheduler = AsyncIOScheduler(timezone=zone)
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 600}
    digest_hour, digest_minute = (int(x) for x in services.settings.digest_time.split(":"))
    jobs: list[tuple[str, Any, timedelta, Callable[[], Awaitable[object]]]] = [
        (
            "hourly_snapshot",
            CronTrigger(minute=2, timezone=zone),
            timedelta(hours=1),
            lambda: hourly_snapshot(services),
        ),
        (
            "payload_prune",
            CronTrigger(minute=17, timezone=zone),
            timedelta(hours=1),
            lambda: payload_prune(services),
        ),
        (
            "sla_check",
            IntervalTrigger(seconds=services.settings.sla_check_seconds, timezone=zone),
            timedelta(seconds=services.settings.sla_check_seconds),
            lambda: sla_check(context),
        ),
        (
            "flood_release",
            IntervalTrigger(seconds=20, timezone=zone),
            timedelta(seconds=20),
            lambda: flood_release(context),
        ),
        (
            "staff_backlog",
            IntervalTrigger(seconds=20, timezone=zone),
            timedelta(seconds=20),
            lambda: context.desk.flush_backlog(),
        ),
        (
            "selfservice_expiry",
            IntervalTrigger(seconds=30, timezone=zone),
            timedelta(seconds=30),
            lambda: selfservice_expiry(context),
        ),
        (
            "answers_weekly",
            CronTrigger(day_of_week="mon", hour=digest_hour, minute=digest_minute, timezone=zone),
            timedelta(days=3),
            lambda: answers_weekly(context),
        ),
        (
            "spike_check",
            IntervalTrigger(minutes=15, timezone=zone),
            timedelta(minutes=15),
            lambda: spike_check(context),
        ),
        (
            "daily_digest",
            CronTrigger(hour=digest_hour, minute=digest_minute, timezone=zone),
            timedelta(hours=12),
            lambda: daily_digest(context),
        ),
        (
            "weekly_report",
            CronTrigger(day_of_week="mon", hour=digest_hour, minute=digest_minute, timezone=zone),
            timedelta(days=3),
            lambda: weekly_report(context),
        ),
    ]
    for name, trigger, slot, run in jobs:
        scheduler.add_job(run_once, trigger, args=[context, name, slot, run], id=name, **common)
    return scheduler
