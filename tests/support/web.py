"""aiohttp apps served for a test on a free port of 127.0.0.1: the bot's web app (webhook,
health, metrics) with its Application started, or any app given."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from bot.app.application import build_application
from bot.core.services import Services
from bot.intake.inbox import Inbox
from bot.web.server import build_web_app

WEBHOOK_URL = "https://bot.example/tg/hook"


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """The app on a free port of 127.0.0.1 while the block runs; its base URL."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def webhook_server(services: Services, secret: str) -> AsyncIterator[tuple[str, Inbox]]:
    """The bot's web app, Telegram's webhook at /tg/hook checked against `secret`, with its
    Application started: the base URL and the inbox behind it."""
    application = build_application(services)
    inbox = Inbox(services, application)
    async with application:
        await application.start()
        app = build_web_app(inbox=inbox, webhook_url=WEBHOOK_URL, secret=secret)
        async with serving(app) as base:
            yield base, inbox
        await inbox.stop_draining()
        await application.stop()
