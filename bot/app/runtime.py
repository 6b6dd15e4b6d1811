"""The long-running modes: polling (local default), webhook server, clock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiohttp import web
from telegram import Bot

from bot.app.application import (
    build_application,
    build_bot,
    outbox_worker,
    set_command_menus,
    staff_courier,
)
from bot.core.services import Services, open_services
from bot.core.settings import ConfigError, Settings
from bot.intake.inbox import Inbox
from bot.intake.polling import Poller
from bot.jobs.context import JobContext
from bot.jobs.scheduler import build_scheduler
from bot.web.server import build_web_app
from storage.migrate import current_revision, head_revision
from storage.urls import is_sqlite, redact

log = logging.getLogger(__name__)

# How long a stopping process lets a send round go on (Heroku and systemd wait 30 s, then kill).
STOP_GRACE_SECONDS = 5.0


async def run_polling(settings: Settings) -> None:
    """The bot with long polling and the scheduler in one process."""
    settings.require_token()
    async with open_services(settings, migrate=is_sqlite(settings.database_url)) as services:
        await _require_schema(services)
        application = build_application(services)
        inbox = Inbox(services, application)
        poller = Poller(inbox)
        scheduler = build_scheduler(JobContext.for_bot(services, application.bot))
        await _check_bot(application.bot)
        pages = await _serve_pages(inbox, settings)
        async with application:
            await application.start()
            try:
                await set_command_menus(application, services)
                scheduler.start()
                me = application.bot
                stop = _stop_on_signals()
                log.info("bot @%s polling; database %s", me.username, redact(settings.database_url))
                task = asyncio.create_task(poller.run(), name="poller")
                worker = outbox_worker(application, services)
                retries = asyncio.create_task(worker.run(), name="outbox")
                courier = staff_courier(application)
                posting = asyncio.create_task(courier.run(), name="staff-courier")
                await _until_signalled(stop, task)
                worker.stop()
                courier.stop()
                await _wind_down(retries, posting)
                scheduler.shutdown(wait=False)
            finally:
                if pages is not None:
                    await pages.cleanup()
                await application.stop()


async def _serve_pages(inbox: Inbox, settings: Settings) -> web.AppRunner | None:
    """In polling mode, health, metrics and the dashboard on HOST:PORT (no webhook).

    A busy port costs the dashboard, not the bot: it is said once and the bot runs on.
    """
    runner = web.AppRunner(build_web_app(inbox=inbox, webhook_url=None, secret=None))
    await runner.setup()
    try:
        await web.TCPSite(runner, host=settings.host, port=settings.port).start()
    except OSError as exc:
        log.warning(
            "no dashboard: cannot listen on %s:%s (%s); set PORT to a free port",
            settings.host,
            settings.port,
            exc.strerror or exc,
        )
        await runner.cleanup()
        return None
    log.info("dashboard at %s/dashboard (ask the bot /dashboard)", settings.public_base_url)
    return runner


async def run_clock(settings: Settings) -> None:
    """Only the scheduled jobs: the Procfile's clock process."""
    async with open_services(settings) as services:
        await _require_schema(services)
        # The same Bot as the other processes: request class, rate limiter (a 429 is waited out).
        bot = build_bot(settings)
        await _check_bot(bot)
        async with bot:
            scheduler = build_scheduler(JobContext.for_bot(services, bot))
            scheduler.start()
            stop = _stop_on_signals()
            log.info("clock running %d jobs", len(scheduler.get_jobs()))
            await _until_signalled(stop, None)
            scheduler.shutdown(wait=False)


async def _check_bot(bot: Bot) -> None:
    """getMe, before anything else starts: a rejected token or an unreachable Bot API stops the
    process here (the command says so in one line). python-telegram-bot leaves the connection
    pools open when this fails; they are closed here."""
    try:
        await bot.initialize()
    except BaseException:
        await bot.request.shutdown()
        raise


async def _require_schema(services: Services) -> None:
    revision = await current_revision(services.db)
    if revision != head_revision():
        raise ConfigError(
            f"The database schema is at {revision or 'nothing'}; "
            f"this version needs {head_revision()}.\n"
            "  Run: feedbackbot migrate"
        )


def _stop_on_signals() -> asyncio.Event:
    """From now on SIGINT/SIGTERM set the event instead of stopping the process at once. Called
    just before a process says it is up: whoever stops it on seeing that line gets a clean stop
    (while it starts, a signal still ends it at once, as a Ctrl-C on a hung start-up should)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def _until_signalled(stop: asyncio.Event, task: asyncio.Task[None] | None) -> None:
    """Wait for SIGINT/SIGTERM (``stop``; or for the task to end), then cancel the task."""
    waiters: list[asyncio.Future[object]] = [asyncio.ensure_future(stop.wait())]
    if task is not None:
        waiters.append(task)  # type: ignore[arg-type]
    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    if task is not None and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    elif task is not None and task.exception() is not None:
        raise task.exception()  # type: ignore[misc]
    log.info("stopping")


async def _wind_down(*tasks: asyncio.Task[None]) -> None:
    """Let the senders finish the call in hand, for a few seconds at most, then cancel them: a
    long round (a backlog of staff cards while Telegram is slow) must not hold the process past
    the platform's stop timeout. What was not sent stays in the outbox and the staff backlog;
    the next process, or another one now, sends it."""
    _, pending = await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS)
    for task in pending:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if pending:
        log.info("stopped %d sender(s) mid-round; the rest is sent later", len(pending))


async def run_web(settings: Settings) -> None:
    """The bot behind an aiohttp webhook server: the Procfile's web process."""
    from bot.intake.polling import ALLOWED_UPDATES

    missing = [
        name
        for name, value in (
            ("WEBHOOK_URL", settings.webhook_url),
            ("WEBHOOK_SECRET", settings.webhook_secret),
        )
        if not value
    ]
    if missing:
        raise ConfigError(
            f"{' and '.join(missing)} must be set for the web process.\n"
            "  WEBHOOK_URL is the public https URL Telegram posts to; WEBHOOK_SECRET is a random\n"
            "  string of A-Z, a-z, 0-9, _ and - (for example: openssl rand -hex 32)."
        )
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    secret = settings.webhook_secret.get_secret_value()
    settings.require_token()
    async with open_services(settings) as services:
        await _require_schema(services)
        application = build_application(services)
        inbox = Inbox(services, application)
        await _check_bot(application.bot)
        async with application:
            await application.start()
            runner = web.AppRunner(
                build_web_app(inbox=inbox, webhook_url=settings.webhook_url, secret=secret)
            )
            await runner.setup()
            site = web.TCPSite(runner, host=settings.host, port=settings.port)
            await site.start()
            await set_command_menus(application, services)
            await application.bot.set_webhook(
                url=settings.webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
            )
            stop = _stop_on_signals()
            log.info("webhook server on port %d", settings.port)
            worker = outbox_worker(application, services)
            retries = asyncio.create_task(worker.run(), name="outbox")
            courier = staff_courier(application)
            posting = asyncio.create_task(courier.run(), name="staff-courier")
            stopping = asyncio.Event()
            sweeper = asyncio.create_task(inbox.sweep(stopping), name="inbox-sweep")
            await _until_signalled(stop, None)
            stopping.set()
            worker.stop()
            courier.stop()
            await _wind_down(retries, sweeper, posting)
            await runner.cleanup()
            await inbox.stop_draining()
            await application.stop()
