"""What scheduled jobs share: the context they run in, each run claimed once across processes,
and sending that logs a failure instead of stopping the job."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from telegram.error import TelegramError

from bot.core.process import process_identity
from bot.core.services import Services
from bot.delivery.messaging import Messenger
from bot.staff_chat.tickets import StaffDesk
from bot.telegram.bot import FeedbackBot
from storage.jobs import claim_run, finish_run

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class JobContext:
    """What jobs need besides the services: a way to write to Telegram."""

    services: Services
    messenger: Messenger
    desk: StaffDesk
    owner: str = field(default_factory=process_identity)

    @classmethod
    def for_bot(cls, services: Services, bot: FeedbackBot) -> JobContext:
        """Build the context around the bot."""
        messenger = Messenger(bot, services)
        return cls(services=services, messenger=messenger, desk=StaffDesk(services, messenger, bot))


async def deliver(sending: object) -> bool:
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
