"""Jobs for managers: care spikes, the daily digest, the weekly report with its charts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time, timedelta

from babel.dates import format_date
from telegram.error import TelegramError

from bot.core.services import Services
from bot.jobs.context import JobContext, deliver
from bot.reports.charts import report_charts
from bot.reports.summary import format_summary
from bot.telegram.text import escape, split_plain
from storage.alerts import care_spikes
from storage.incidents import incidents_since
from storage.jobs import claim_run
from storage.metrics import compute_summary
from storage.people import person_languages

log = logging.getLogger(__name__)


SPIKE_TRAILING_DAYS = 14


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
            if await deliver(context.messenger.send(manager, text, key=key)):
                sent += 1
    return sent


async def daily_digest(context: JobContext) -> int:
    """Yesterday's numbers to every manager, in their language."""
    start, end = _days_before_today(context.services, 1)
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
    start, end = _days_before_today(services, 7)
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


def _days_before_today(services: Services, days: int) -> tuple[datetime, datetime]:
    """The whole local days before today: from the midnight `days` ago to today's."""
    zone = services.settings.zone
    today = services.clock.now().astimezone(zone).date()
    start = datetime.combine(today - timedelta(days=days), time(0), tzinfo=zone)
    return start, datetime.combine(today, time(0), tzinfo=zone)


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
            if not await deliver(context.messenger.send(manager, html, key=f"{key}:{manager}:{n}")):
                break
        else:
            told += 1
    return told
