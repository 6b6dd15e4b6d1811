"""Jobs for staff: tickets late for the SLA, what flood control held, suggestions nobody answered,
answers that never help."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.answers import never_helping
from bot.domain.held import release_flood
from bot.domain.outcomes import FeedbackOutcome
from bot.jobs.context import JobContext, deliver
from bot.reports.words import Words
from bot.telegram.text import escape
from storage.answers import expire_offers
from storage.sla import mark_late, unanswered_past


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
        await deliver(context.messenger.send(chat_id, text))
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
        await mark_late(session=session, reminded=late, escalated=very_late, now=now)
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
        if await deliver(context.desk.tell(ticket, text)):
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
            if await deliver(context.messenger.send(manager, text)):
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
        await deliver(
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
